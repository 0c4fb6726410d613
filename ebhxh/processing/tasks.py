"""Processing tasks: thin. `daily_digest` runs hourly from beat and sends each supervisor's
digest once a day, after services.DIGEST_HOUR local time (safe to run again)."""

from __future__ import annotations

from celery import shared_task

from ebhxh.processing import services


@shared_task(name="ebhxh.processing.tasks.daily_digest")
def daily_digest() -> int:
    return services.daily_digest()
