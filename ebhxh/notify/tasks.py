"""Delivery of queued e-mails (enqueued by ebhxh.notify.mail.send after the commit)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from ebhxh.audit.context import acting_as, clean_request_id
from ebhxh.notify.mail import TransientMailError, deliver

# With a broker: waits of up to 30 s, 60 s, 2 min, … capped at 10 min (jitter picks a random wait
# below each), so the last of 8 retries comes at most about 45 minutes after the first attempt.
MAX_RETRIES = 8
# Eager (embedded mode), the task runs inside the request that committed, and Celery retries at
# once without waiting: one more try covers a dropped connection without holding the page for long.
EAGER_RETRIES = 1


def allowed_retries(*, eager: bool) -> int:
    return EAGER_RETRIES if eager else MAX_RETRIES


@shared_task(
    bind=True,
    name="ebhxh.notify.tasks.deliver_email",
    autoretry_for=(TransientMailError,),
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
    acks_late=True,
    ignore_result=True,
)
def deliver_email(self: Any, email_id: int) -> str:
    """Send one OutboundEmail; a redelivered task finds it sent and does nothing."""
    final = self.request.retries >= allowed_retries(eager=bool(self.request.is_eager))
    with acting_as(request_id=clean_request_id(self.request.id)):
        return deliver(email_id, final_attempt=final)
