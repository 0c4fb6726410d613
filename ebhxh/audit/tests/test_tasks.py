"""The periodic Celery task (run eagerly here)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import models

from ebhxh.audit import tasks
from ebhxh.audit.models import AuditEvent
from ebhxh.audit.services import record_event
from ebhxh.audit.tags import Tag

pytestmark = pytest.mark.django_db


def test_it_has_the_name_beat_uses(settings: Any) -> None:
    assert tasks.verify_chain.name == settings.CELERY_BEAT_SCHEDULE["audit-verify-chain"]["task"]


def test_it_verifies_and_records(caplog: pytest.LogCaptureFixture) -> None:
    record_event(Tag.DEMO_SEED)
    with caplog.at_level(logging.INFO, logger="ebhxh.audit"):
        result = tasks.verify_chain.apply()
    assert result.successful()
    assert result.result["ok"] is True
    event = AuditEvent.objects.get(seq=2)
    assert event.tag == "audit:verify"
    assert event.request_id == result.id  # the task id groups what one run wrote
    assert "audit chain OK: 1 events" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_it_logs_a_broken_chain_at_error(
    caplog: pytest.LogCaptureFixture, triggers_disabled: Any
) -> None:
    for n in range(3):
        record_event(Tag.DEMO_SEED, data={"n": n})
    with triggers_disabled():
        models.QuerySet(model=AuditEvent).filter(seq=2).update(data={"n": 99})
    with caplog.at_level(logging.INFO, logger="ebhxh.audit"):
        result = tasks.verify_chain.apply()
    assert result.successful()
    assert result.result["first_broken_seq"] == 2
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "ebhxh.audit"]
    assert len(errors) == 1
    assert "BROKEN at seq 2 (hash)" in errors[0].getMessage()
    assert AuditEvent.objects.get(seq=4).data["ok"] is False
