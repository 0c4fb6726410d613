"""Tampering below the ORM (triggers lifted) is caught by verify_chain and the command."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models

from ebhxh.audit.chain import compute_hash
from ebhxh.audit.models import AuditEvent
from ebhxh.audit.services import Break, record_event, verify_chain
from ebhxh.audit.tags import Tag

pytestmark = pytest.mark.django_db

TriggersOff = Callable[[], AbstractContextManager[None]]


def _raw() -> models.QuerySet[AuditEvent]:
    # A plain QuerySet: the audit manager refuses update()/delete(), the database must too.
    return models.QuerySet(model=AuditEvent)


@pytest.fixture
def chain(user: Any) -> list[AuditEvent]:
    return [
        record_event(Tag.UNIT_UPDATE, actor=user, data={"n": n, "name": f"Đơn vị {n}"})
        for n in range(1, 6)
    ]


def _run_command() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_chain", stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_the_command_reports_a_healthy_chain(chain: list[AuditEvent]) -> None:
    code, out, _ = _run_command()
    assert code == 0
    assert "OK: 5 events" in out
    assert "5 sự kiện" in out


@pytest.mark.parametrize(
    "change",
    [
        {"data": {"n": 3, "name": "Đơn vị giả"}},
        {"tag": "unit:create"},
        {"time": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
        {"actor_name": "someone else"},
        {"ip": "198.51.100.1"},
    ],
    ids=["data", "tag", "time", "actor_name", "ip"],
)
def test_an_altered_event_is_the_first_broken_link(
    chain: list[AuditEvent], triggers_disabled: TriggersOff, change: dict[str, Any]
) -> None:
    with triggers_disabled():
        assert _raw().filter(seq=3).update(**change) == 1
    result = verify_chain()
    assert not result.ok
    assert (result.first_broken_seq, result.reason, result.checked) == (3, Break.HASH, 2)

    code, _, err = _run_command()
    assert code == 1
    tag = change.get("tag", "unit:update")
    assert f"BROKEN: first broken link at seq 3, time {result.time.isoformat()}, tag {tag}" in err
    assert "HỎNG: mắt xích hỏng đầu tiên là seq 3" in err
    assert "recomputed hash does not match" in err


def test_a_deleted_middle_event_is_reported(
    chain: list[AuditEvent], triggers_disabled: TriggersOff
) -> None:
    with triggers_disabled():
        _raw().filter(seq=3).delete()
    result = verify_chain()
    assert (result.ok, result.first_broken_seq, result.found_seq, result.reason) == (
        False,
        3,
        4,
        Break.SEQ_GAP,
    )

    code, _, err = _run_command()
    assert code == 1
    assert "first broken link at seq 3 (phát hiện tại / found at seq 4)" in err
    assert "seq gap" in err


def test_a_rehashed_event_breaks_the_next_link(
    chain: list[AuditEvent], triggers_disabled: TriggersOff
) -> None:
    # A careful forger recomputes the altered event's own hash; the successor still points elsewhere.
    forged = AuditEvent.objects.get(seq=3)
    forged.data = {"n": 3, "name": "Đơn vị giả"}
    with triggers_disabled():
        _raw().filter(seq=3).update(data=forged.data, hash=compute_hash(forged.hashed_fields()))
    result = verify_chain()
    assert (result.first_broken_seq, result.reason) == (4, Break.PREV_HASH)


def test_a_rehashed_last_event_disagrees_with_the_head(
    chain: list[AuditEvent], triggers_disabled: TriggersOff
) -> None:
    forged = AuditEvent.objects.get(seq=5)
    forged.tag = "unit:create"
    with triggers_disabled():
        _raw().filter(seq=5).update(tag=forged.tag, hash=compute_hash(forged.hashed_fields()))
    result = verify_chain()
    assert (result.first_broken_seq, result.reason) == (5, Break.HEAD)


def test_a_cut_off_tail_is_reported(
    chain: list[AuditEvent], triggers_disabled: TriggersOff
) -> None:
    with triggers_disabled():
        _raw().filter(seq__gte=4).delete()
    result = verify_chain()
    assert (result.ok, result.first_broken_seq, result.reason, result.checked) == (
        False,
        4,
        Break.TAIL,
        3,
    )
    code, _, err = _run_command()
    assert code == 1
    assert "events at the end of the chain were removed" in err


def test_a_missing_first_event_is_reported(
    chain: list[AuditEvent], triggers_disabled: TriggersOff
) -> None:
    with triggers_disabled():
        _raw().filter(seq=1).delete()
    result = verify_chain()
    assert (result.first_broken_seq, result.found_seq, result.reason) == (1, 2, Break.SEQ_GAP)
