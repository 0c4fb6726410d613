"""Periodic verification of the audit chain (beat: ebhxh.audit.tasks.verify_chain)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from ebhxh.audit.context import acting_as, clean_request_id
from ebhxh.audit.services import record_verification

logger = logging.getLogger("ebhxh.audit")


@shared_task(bind=True, name="ebhxh.audit.tasks.verify_chain", ignore_result=True)
def verify_chain(self: Any) -> dict[str, Any]:
    """Verify the whole chain, record an audit:verify event, log at ERROR when broken."""
    # Safe to run twice: it only reads the chain and appends one more audit:verify event.
    with acting_as(request_id=clean_request_id(self.request.id)):
        result = record_verification()
    if result.ok:
        logger.info("audit chain OK: %d events", result.checked)
    else:
        logger.error(
            "audit chain BROKEN at seq %s (%s): %s; %d events verified before it",
            result.first_broken_seq,
            result.reason,
            result.detail,
            result.checked,
        )
    return result.as_data()
