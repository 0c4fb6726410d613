"""The daily registration task: certificate expiry warnings and stops that reach their date."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from ebhxh.registrations import services


@shared_task(name="ebhxh.registrations.tasks.daily")
def daily() -> dict[str, Any]:
    return {
        "expiry_warnings": services.warn_expiring_certificates(),
        "stops_applied": services.apply_due_stops(),
    }
