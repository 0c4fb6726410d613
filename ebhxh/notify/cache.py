"""The embedded default cache: Django's database cache with an atomic, expiry-keeping ``incr``.

Rate-limit counters (django-ratelimit: ``add`` then ``incr``) need a cache that every gunicorn
worker shares. Django's database cache is shared, but its ``incr`` is the generic get-then-set:
two racing requests both write n+1, and the ``set`` gives the key a fresh default timeout, so a
counter meant for an hour would vanish after five quiet minutes and reset the limit.
"""

from __future__ import annotations

import base64
import pickle
from typing import Any

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router, transaction
from django.utils.timezone import now as tz_now


class DatabaseCache(DjangoDatabaseCache):
    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        qn = connection.ops.quote_name
        table = qn(self._table)  # type: ignore[attr-defined]
        k, v, e = qn("cache_key"), qn("value"), qn("expires")
        now = connection.ops.adapt_datetimefield_value(tz_now())
        with transaction.atomic(using=db), connection.cursor() as cursor:
            # The no-op UPDATE takes the row lock on PostgreSQL before the read; on SQLite the
            # IMMEDIATE transaction already holds the database's write lock.
            cursor.execute(
                f"UPDATE {table} SET {e} = {e} WHERE {k} = %s AND {e} > %s",  # noqa: S608  quoted names
                [key, now],
            )
            if cursor.rowcount != 1:
                raise ValueError(f"Key '{key}' not found")
            cursor.execute(f"SELECT {v} FROM {table} WHERE {k} = %s", [key])  # noqa: S608
            (raw,) = cursor.fetchone()
            # The same encoding as Django's DatabaseCache: the table is written only by this cache.
            value = pickle.loads(base64.b64decode(connection.ops.process_clob(raw).encode()))  # noqa: S301
            value += delta
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(f"UPDATE {table} SET {v} = %s WHERE {k} = %s", [encoded, key])  # noqa: S608
        return value
