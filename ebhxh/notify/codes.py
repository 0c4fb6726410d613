"""One-time e-mail codes: six digits, e-mailed, stored only as a keyed hash, single use.

A code is bound to an e-mail address, a purpose (a free string such as "registration" or
"sensitive_action") and optionally a subject reference (the registration it confirms, say).
It expires after ONE_TIME_CODE_TTL_SECONDS, allows ONE_TIME_CODE_MAX_ATTEMPTS tries, and a new
code for the same address and purpose replaces the previous one.

``check_code`` commits the attempt it counts: call it outside a transaction that rolls back on
a wrong code, or the count would roll back with it. Limit how often codes are requested with
the "code" rate limit (ebhxh.notify.ratelimits).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import warnings

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy

from ebhxh.audit.services import record_event
from ebhxh.notify import mail
from ebhxh.notify.models import OneTimeCode

__all__ = ["PURPOSE_LABELS", "AttemptMayRollBackWarning", "check_code", "issue_code"]

_KEY_SALT = "ebhxh.notify.codes"
DIGITS = 6

# How the e-mail names what the code is for; other purposes get a generic wording.
PURPOSE_LABELS = {
    "registration": gettext_lazy("đăng ký giao dịch điện tử với cơ quan BHXH"),
    "sensitive_action": gettext_lazy("xác nhận một thao tác quan trọng"),
}


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def _hash(code: str, *, email: str, purpose: str, subject_ref: str, secret: str) -> str:
    # Binding the address, purpose and subject into the MAC: a code answers only for them.
    value = "\x00".join([email, purpose, subject_ref, code])
    return salted_hmac(_KEY_SALT, value, secret=secret, algorithm="sha256").hexdigest()


def _matches(row: OneTimeCode, code: str) -> bool:
    ok = False
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        candidate = _hash(
            code, email=row.email, purpose=row.purpose, subject_ref=row.subject_ref, secret=secret
        )
        ok |= hmac.compare_digest(candidate, row.code_hash)
    return ok


def _check_purpose(purpose: str) -> str:
    purpose = purpose.strip()
    if not purpose or len(purpose) > 50:
        raise ValueError("a one-time code needs a purpose of 1 to 50 characters")
    return purpose


@transaction.atomic
def issue_code(email: str, purpose: str, *, subject_ref: str = "") -> OneTimeCode:
    """Create a code for an address and purpose, replacing any earlier one, and e-mail it."""
    address = _normalise_email(email)
    purpose = _check_purpose(purpose)
    if len(subject_ref) > 100:
        raise ValueError("subject_ref is at most 100 characters")
    ttl = int(settings.ONE_TIME_CODE_TTL_SECONDS)
    now = timezone.now()
    replaced = OneTimeCode.objects.filter(
        email=address, purpose=purpose, status=OneTimeCode.Status.ACTIVE
    ).update(status=OneTimeCode.Status.SUPERSEDED)
    code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
    row = OneTimeCode.objects.create(
        email=address,
        purpose=purpose,
        subject_ref=subject_ref,
        code_hash=_hash(
            code,
            email=address,
            purpose=purpose,
            subject_ref=subject_ref,
            secret=settings.SECRET_KEY,
        ),
        created_at=now,
        expires_at=now + dt.timedelta(seconds=ttl),
    )
    record_event(
        "one_time_code:issue",
        subject=row,
        data={
            "purpose": purpose,
            "subject_ref": subject_ref,
            "expires_at": row.expires_at.isoformat(),
            "replaced": replaced,
        },
    )
    label = PURPOSE_LABELS.get(purpose)
    mail.send(
        "one_time_code",
        [address],
        {"code": code, "minutes": max(1, ttl // 60), "purpose_label": label},
        purpose=f"one_time_code:{purpose}",
    )
    return row


class AttemptMayRollBackWarning(RuntimeWarning):
    """check_code ran inside the caller's transaction: a rollback there would undo the count."""


def _in_callers_transaction() -> bool:
    # Atomic blocks opened by Django's TestCase wrap every test; only the others are the caller's.
    blocks = transaction.get_connection().atomic_blocks
    return any(not getattr(block, "_from_testcase", False) for block in blocks)


def check_code(email: str, purpose: str, code: str, *, subject_ref: str = "") -> bool:
    """True once for the right code; every try counts, and the code is spent when it matches."""
    if _in_callers_transaction():
        warnings.warn(
            "check_code() inside a transaction: if it rolls back after a wrong code, the attempt "
            "is not counted and the code can be guessed; call check_code() before atomic()",
            AttemptMayRollBackWarning,
            stacklevel=2,
        )
    with transaction.atomic():
        return _check(_normalise_email(email), purpose, code, subject_ref)


def _check(address: str, purpose: str, code: str, subject_ref: str) -> bool:
    row = (
        OneTimeCode.objects.select_for_update()
        .filter(email=address, purpose=purpose.strip(), status=OneTimeCode.Status.ACTIVE)
        .first()
    )
    if row is None or row.subject_ref != subject_ref or timezone.now() >= row.expires_at:
        return False
    max_attempts = int(settings.ONE_TIME_CODE_MAX_ATTEMPTS)
    if row.attempts >= max_attempts:
        return False
    row.attempts += 1
    candidate = "".join(str(code).split())  # people paste "123 456" or with a trailing newline
    if _matches(row, candidate):
        row.status = OneTimeCode.Status.USED
        row.used_at = timezone.now()
        row.save(update_fields=["attempts", "status", "used_at"])
        record_event("one_time_code:use", subject=row, data={"attempts": row.attempts})
        return True
    if row.attempts >= max_attempts:
        row.status = OneTimeCode.Status.LOCKED
    row.save(update_fields=["attempts", "status"])
    tag = (
        "one_time_code:lock" if row.status == OneTimeCode.Status.LOCKED else "one_time_code:reject"
    )
    record_event(tag, subject=row, data={"attempts": row.attempts})
    return False
