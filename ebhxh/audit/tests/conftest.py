from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from ebhxh.audit.models import AuditEvent


@pytest.fixture(autouse=True)
def _static_files(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Admin pages render without collectstatic: WhiteNoise warns (an error here) when
    # STATIC_ROOT is missing, and the manifest storage refuses names it has not collected.
    settings.STATIC_ROOT = tmp_path_factory.mktemp("static")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    def make(username: str = "sysadmin", **extra: Any) -> Any:
        return get_user_model().objects.create_user(
            username=username, password="correct horse battery", kind="system", **extra
        )

    return make


@pytest.fixture
def user(make_user: Callable[..., Any]) -> Any:
    # A system administrator: no unit, no agency, no second factor enrolled.
    return make_user("sysadmin", full_name="Nguyễn Văn Quản")


@contextmanager
def _triggers_disabled() -> Iterator[None]:
    """Lift the append-only triggers inside the current (test) transaction to simulate tampering."""
    table = AuditEvent._meta.db_table
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE refuses while deferred FK checks on the table are still queued.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {qn(table)} DISABLE TRIGGER USER")
            try:
                yield
            finally:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"ALTER TABLE {qn(table)} ENABLE TRIGGER USER")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [table],
            )
            triggers = cursor.fetchall()
            assert triggers, "append-only triggers are missing"
            for name, _sql in triggers:
                cursor.execute(f"DROP TRIGGER {qn(name)}")
            try:
                yield
            finally:
                for _name, sql in triggers:
                    cursor.execute(sql)


@pytest.fixture
def triggers_disabled() -> Callable[[], AbstractContextManager[None]]:
    return _triggers_disabled
