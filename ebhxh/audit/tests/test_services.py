"""record_event, diff, snapshot and verify_chain on a healthy chain."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from ebhxh.audit.chain import GENESIS_HASH, compute_hash
from ebhxh.audit.context import acting_as
from ebhxh.audit.models import AuditEvent, AuditHead
from ebhxh.audit.services import diff, record_event, record_verification, snapshot, verify_chain
from ebhxh.audit.tags import Tag, is_valid_tag

pytestmark = pytest.mark.django_db


def test_a_chain_of_events_verifies(user: Any) -> None:
    events = [record_event(Tag.DEMO_SEED, actor=user, data={"n": n}) for n in range(5)]
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert AuditHead.objects.get().seq == 5
    assert AuditHead.objects.get().hash == events[-1].hash
    result = verify_chain(chunk_size=2)
    assert result.ok
    assert result.checked == 5
    assert result.first_broken_seq is None


def test_an_empty_chain_verifies() -> None:
    assert verify_chain().ok
    assert verify_chain().checked == 0


def test_the_stored_row_rehashes_identically(user: Any) -> None:
    event = record_event(
        "unit:update",
        actor=user,
        subject=user,
        data={
            "money": decimal.Decimal("1500000.50"),
            "day": dt.date(2026, 2, 17),
            "big": 1e16,
            "vi": "Đà Nẵng",
        },
        before={"name": "Cũ"},
        after={"name": "Mới"},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.data == {
        "money": "1500000.50",
        "day": "2026-02-17",
        "big": 10_000_000_000_000_000,
        "vi": "Đà Nẵng",
        "before": {"name": "Cũ"},
        "after": {"name": "Mới"},
    }
    assert compute_hash(stored.hashed_fields()) == stored.hash == event.hash
    assert stored.time == event.time


def test_it_records_the_subject_and_actor(user: Any, make_user: Any) -> None:
    other = make_user("other")
    event = record_event(Tag.USER_ROLE_ADD, actor=user, subject=other, data={"role": "sysadmin"})
    assert (event.subject_type, event.subject_id, event.subject_repr) == (
        "accounts.user",
        str(other.pk),
        "other",
    )
    assert event.actor == user
    assert event.actor_name == "Nguyễn Văn Quản (sysadmin)"
    assert list(user.audit_events.all()) == [event]


def test_an_unsaved_subject_is_refused(user: Any) -> None:
    with pytest.raises(ValueError, match="saved"):
        record_event(Tag.USER_CREATE, subject=type(user)(username="nobody"))


def test_anonymous_actor_is_recorded_as_none() -> None:
    event = record_event(Tag.USER_LOGIN_FAILED, actor=AnonymousUser(), data={"identifier": "x"})
    assert event.actor is None
    assert event.actor_name == ""


def test_the_context_supplies_actor_request_id_and_ip(user: Any) -> None:
    with acting_as(actor=user, request_id="cmd-1", ip="192.0.2.1"):
        event = record_event(Tag.CATALOG_LOAD)
    assert (event.actor, event.request_id, event.ip) == (user, "cmd-1", "192.0.2.1")
    plain = record_event(Tag.CATALOG_LOAD)
    assert (plain.actor, plain.request_id, plain.ip) == (None, "", None)


def test_an_explicit_actor_wins_over_the_context(user: Any, make_user: Any) -> None:
    other = make_user("other")
    with acting_as(actor=user):
        event = record_event(Tag.CATALOG_LOAD, actor=other)
    assert event.actor == other


@pytest.mark.parametrize(
    "tag",
    ["Unit:create", "unit", "unit:", ":unit", "unit::create", "unit:create\n", "unit-x:y", ""],
)
def test_tags_must_follow_the_grammar(tag: str) -> None:
    with pytest.raises(ValueError, match="does not match"):
        record_event(tag)
    assert not AuditEvent.objects.exists()


def test_known_tags_follow_the_grammar_and_others_are_accepted() -> None:
    assert all(is_valid_tag(t) for t in Tag)
    assert record_event("dossier:signature:verify").tag == "dossier:signature:verify"


def test_before_and_after_cannot_be_given_twice() -> None:
    with pytest.raises(ValueError, match="either"):
        record_event(Tag.UNIT_UPDATE, data={"before": {}}, before={"a": 1})


def test_a_rolled_back_event_leaves_no_gap(user: Any) -> None:
    record_event(Tag.DEMO_SEED)
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(Tag.DEMO_SEED, data={"doomed": True})
        raise RuntimeError("the caller's transaction fails")
    after = record_event(Tag.DEMO_SEED)
    assert after.seq == 2
    assert verify_chain().ok


def test_a_lost_head_row_is_rebuilt_from_the_last_event() -> None:
    record_event(Tag.DEMO_SEED)
    last = record_event(Tag.DEMO_SEED)
    AuditHead.objects.all().delete()
    event = record_event(Tag.DEMO_SEED)
    assert (event.seq, event.prev_hash) == (3, last.hash)
    assert verify_chain().ok


def test_record_verification_appends_an_audit_verify_event() -> None:
    record_event(Tag.DEMO_SEED)
    result = record_verification()
    assert result.ok
    event = AuditEvent.objects.get(seq=2)
    assert event.tag == "audit:verify"
    assert event.data["ok"] is True
    assert event.data["checked"] == 1


def test_diff_keeps_changed_keys_only() -> None:
    before = {"name": "Cũ", "wage": decimal.Decimal("5.0"), "same": 1, "gone": "x", "flag": 1}
    after = {"name": "Mới", "wage": decimal.Decimal("5.00"), "same": 1.0, "new": "y", "flag": True}
    assert diff(before, after) == (
        {"name": "Cũ", "wage": "5.0", "gone": "x", "flag": 1},
        {"name": "Mới", "wage": "5.00", "new": "y", "flag": True},
    )
    assert diff({"a": 1}, {"a": 1}) == ({}, {})


def test_snapshot_gives_json_safe_values(user: Any) -> None:
    values = snapshot(user, ["username", "kind", "is_active", "date_joined", "unit", "groups"])
    assert values == {
        "username": "sysadmin",
        "kind": "system",
        "is_active": True,
        "date_joined": user.date_joined.isoformat(),
        "unit": None,
        "groups": [],
    }


def test_snapshot_refuses_reverse_relations(user: Any) -> None:
    with pytest.raises(ValueError, match="stored field"):
        snapshot(user, ["audit_events"])
