# bench: database
"""Benchmark: appending audit events (hash chain, serialised head) against the floor of a plain
one-row INSERT + COMMIT with the same payload, on the configured database.

    .venv/bin/python bench/audit_append.py                    # embedded SQLite in a temp DATA_DIR
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/audit_append.py

It migrates a scratch database (SQLite: a temp folder; PostgreSQL: database `ebhxh_bench`, created
and dropped) and never touches the real one.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
N = int(os.environ.get("BENCH_N", "2000"))


def _setup() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        admin = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS ebhxh_bench")
            conn.execute("CREATE DATABASE ebhxh_bench")
        os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/ebhxh_bench"
    else:
        os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="ebhxh-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ebhxh.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    return connection.vendor


def _timed(fn, n: int) -> list[float]:
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - t0)
    return samples


def main() -> None:
    vendor = _setup()
    from django.db import connection, transaction

    from ebhxh.audit.services import record_event, verify_chain

    data = {
        "after": {"tax_code": "0312345678", "name": "Công ty TNHH Thử Nghiệm", "wage_region": 1}
    }
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TABLE bench_floor (id integer PRIMARY KEY, tag varchar(100), data text, prev_hash char(64), hash char(64))"
        )

    def floor(i: int) -> None:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "INSERT INTO bench_floor VALUES (%s, %s, %s, %s, %s)",
                [i, "unit:update", str(data), "0" * 64, f"{i:064d}"],
            )

    def append(i: int) -> None:
        with transaction.atomic():
            record_event("unit:update", data=data)

    floor_s = _timed(floor, N)
    append_s = _timed(append, N)
    t0 = time.perf_counter()
    result = verify_chain()
    verify_time = time.perf_counter() - t0
    assert result.ok and result.checked == N, result

    def ms(samples: list[float]) -> float:
        return statistics.median(samples) * 1000

    print(f"database: {vendor}; events: {N}")
    print(f"floor  INSERT+COMMIT      median {ms(floor_s):.3f} ms  ({1000 / ms(floor_s):,.0f}/s)")
    print(
        f"record_event (chained)    median {ms(append_s):.3f} ms  ({1000 / ms(append_s):,.0f}/s)  = {ms(append_s) / ms(floor_s):.1f}× floor"
    )
    print(
        f"verify_chain              {verify_time * 1000:.0f} ms for {N} events ({N / verify_time:,.0f}/s)"
    )


if __name__ == "__main__":
    main()
