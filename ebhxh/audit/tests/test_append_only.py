"""No update or delete path: model, manager, related manager and the database triggers."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from ebhxh.audit.models import AppendOnlyError, AuditEvent
from ebhxh.audit.services import record_event, verify_chain
from ebhxh.audit.tags import Tag

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table


@pytest.fixture
def event(user: Any) -> AuditEvent:
    record_event(Tag.DEMO_SEED, actor=user)
    return record_event(Tag.DEMO_SEED, actor=user, data={"x": 1})


def test_saving_an_existing_event_is_refused(event: AuditEvent) -> None:
    event.tag = "demo:changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.save(update_fields=["tag"])


def test_deleting_an_event_is_refused(event: AuditEvent) -> None:
    with pytest.raises(AppendOnlyError):
        event.delete()


@pytest.mark.parametrize(
    "operation",
    [
        lambda qs: qs.update(tag="demo:changed"),
        lambda qs: qs.delete(),
        lambda qs: qs.bulk_update(list(qs), ["tag"]),
        lambda qs: qs.bulk_create([AuditEvent(seq=99, tag="demo:x")]),
        lambda qs: qs.filter(seq=1).update_or_create(seq=1, defaults={"tag": "demo:changed"}),
    ],
    ids=["update", "delete", "bulk_update", "bulk_create", "update_or_create"],
)
def test_queryset_writes_are_refused(event: AuditEvent, operation: Any) -> None:
    with pytest.raises(AppendOnlyError):
        operation(AuditEvent.objects.all())
    assert verify_chain().ok


def test_related_manager_writes_are_refused(event: AuditEvent, user: Any) -> None:
    with pytest.raises(AppendOnlyError):
        user.audit_events.update(tag="demo:changed")
    with pytest.raises(AppendOnlyError):
        user.audit_events.all().delete()


def test_an_actor_with_events_cannot_be_deleted(event: AuditEvent, user: Any) -> None:
    with pytest.raises(ProtectedError):
        user.delete()


@pytest.mark.parametrize(
    ("sql", "verb"),
    [
        ("UPDATE audit_auditevent SET tag = 'demo:changed' WHERE seq = 1", "UPDATE"),
        ("UPDATE audit_auditevent SET data = '{}'", "UPDATE"),
        ("DELETE FROM audit_auditevent WHERE seq = 2", "DELETE"),
        ("DELETE FROM audit_auditevent", "DELETE"),
    ],
)
def test_raw_sql_is_refused_by_the_database(event: AuditEvent, sql: str, verb: str) -> None:
    with (
        pytest.raises(IntegrityError, match=f"append-only: {verb} refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEvent.objects.count() == 2
    assert verify_chain().ok


def test_the_triggers_are_installed(db: None) -> None:
    # SQLite drops triggers when a migration rebuilds the table: this catches that.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal AND tgenabled = 'O'",
                [TABLE],
            )
            assert [r[0] for r in cursor.fetchall()] == [f"{TABLE}_append_only"]
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE]
            )
            assert sorted(r[0] for r in cursor.fetchall()) == [
                f"{TABLE}_no_delete",
                f"{TABLE}_no_update",
            ]
