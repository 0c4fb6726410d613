"""Test-wide settings. Personas live in tests/personas.py (loaded as a plugin)."""

import pytest

pytest_plugins = ["tests.personas"]


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Argon2 costs ~125 ms a hash (stack-notes §6.4); tests check the production list separately.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_sessionstart(session):
    # Pages render {% static %} without a collected manifest (the run command collects for real).
    # Done here, before any fixture, so the live server of the browser tests gets it too.
    from pathlib import Path

    from django.conf import settings
    from django.test.utils import override_settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    override_settings(
        STORAGES={**settings.STORAGES, "staticfiles": static}, WHITENOISE_USE_FINDERS=True
    ).enable()


@pytest.fixture(autouse=True)
def _eager_tasks_propagate(settings):
    # Tests surface task failures instead of swallowing them (house-style convention 9).
    from ebhxh.celery import app

    app.conf.task_eager_propagates = True
    yield
    app.conf.task_eager_propagates = False


@pytest.fixture(autouse=True, scope="session")
def _sqlite_flush_keeps_audit_triggers():
    """Transactional tests end with a flush; on SQLite that is DELETE FROM every table, which the
    append-only audit triggers refuse (PostgreSQL flushes with TRUNCATE, which they allow).
    Around the flush only, lift the triggers and put them back; production never flushes."""
    import importlib

    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    from django.db.backends.sqlite3.base import DatabaseOperations

    triggers = importlib.import_module("ebhxh.audit.migrations.0002_append_only_triggers")
    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if triggers.TABLE not in tables:
            return statements
        forward = [" ".join(sql.split()) for sql in triggers.SQLITE_FORWARD]
        return [*triggers.SQLITE_REVERSE, *statements, *forward]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original
