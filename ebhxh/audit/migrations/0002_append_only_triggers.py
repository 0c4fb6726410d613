"""Make audit_auditevent append-only in the database itself: UPDATE and DELETE abort.

Both vendors raise an integrity error (SQLite SQLITE_CONSTRAINT_TRIGGER, PostgreSQL
SQLSTATE 23001), so Django surfaces it as IntegrityError everywhere.

TRUNCATE is deliberately not blocked: test flushes on PostgreSQL use it. Production
should deny TRUNCATE (and table ownership) to the application's database role.

SQLite drops a table's triggers when Django's schema editor rebuilds the table, so any
later migration that alters audit_auditevent must run these operations again
(ebhxh/audit/tests/test_append_only.py checks the triggers are present).
"""

from django.db import migrations

TABLE = "audit_auditevent"

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    BEGIN
        SELECT RAISE(ABORT, '{TABLE} is append-only: UPDATE refused');
    END
    """,
    f"""
    CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
    BEGIN
        SELECT RAISE(ABORT, '{TABLE} is append-only: DELETE refused');
    END
    """,
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
]

POSTGRES_FORWARD = [
    f"""
    CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{TABLE} is append-only: % refused', TG_OP
            USING ERRCODE = 'restrict_violation';
    END;
    $$
    """,
    f"""
    CREATE TRIGGER {TABLE}_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()
    """,
]
POSTGRES_REVERSE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_append_only()",
]

STATEMENTS = {
    "sqlite": (SQLITE_FORWARD, SQLITE_REVERSE),
    "postgresql": (POSTGRES_FORWARD, POSTGRES_REVERSE),
}


def _run(schema_editor, index):
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise NotImplementedError(f"no append-only triggers for database vendor {vendor!r}")
    for sql in STATEMENTS[vendor][index]:
        schema_editor.execute(sql, params=None)


def install(apps, schema_editor):
    _run(schema_editor, 0)


def uninstall(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(install, uninstall, elidable=False),
    ]
