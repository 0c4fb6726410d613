"""Writing to the audit trail (record_event) and checking it (verify_chain).

Every service in ebhxh that writes calls ``record_event`` inside its own
transaction, so the business change and its audit event commit or roll back together.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.utils import timezone

from ebhxh.audit.chain import GENESIS_HASH, HASHED_FIELDS, compute_hash, normalise_json
from ebhxh.audit.context import authenticated, clean_request_id, client_ip, current
from ebhxh.audit.models import AuditEvent, AuditHead
from ebhxh.audit.tags import Tag, validate_tag

__all__ = [
    "Break",
    "VerifyResult",
    "diff",
    "record_event",
    "record_verification",
    "snapshot",
    "verify_chain",
]

_MISSING = object()


def _field_limit(name: str) -> int:
    field = AuditEvent._meta.get_field(name)
    assert isinstance(field, models.CharField) and field.max_length is not None
    return field.max_length


def _actor_name(actor: Any) -> str:
    if actor is None:
        return ""
    username = actor.get_username()
    full = (getattr(actor, "full_name", "") or actor.get_full_name() or "").strip()
    name = f"{full} ({username})" if full and full != username else username
    return name[: _field_limit("actor_name")]


def _lock_head() -> AuditHead:
    # On PostgreSQL the row lock serialises appends until the caller's transaction ends;
    # on SQLite (transaction_mode=IMMEDIATE) BEGIN already holds the database write lock.
    heads = AuditHead.objects.select_for_update()
    try:
        return heads.get(pk=1)
    except AuditHead.DoesNotExist:
        pass
    # First append (or the head row was flushed): start from the last event, if any.
    # Concurrent initialisers race harmlessly: ON CONFLICT DO NOTHING, then all lock one row.
    last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    initial = AuditHead(pk=1, seq=last["seq"], hash=last["hash"]) if last else AuditHead(pk=1)
    AuditHead.objects.bulk_create([initial], ignore_conflicts=True)
    return heads.get(pk=1)


def record_event(
    tag: str,
    *,
    actor: Any = None,
    subject: models.Model | None = None,
    data: Mapping[str, Any] | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one event to the audit chain, inside the caller's transaction.

    Actor, request id and IP default to ``request`` when given, else to the current
    audit context (middleware or ``acting_as``). Call it as late as possible in the
    caller's transaction: on PostgreSQL the chain head stays locked until COMMIT.
    """
    tag = validate_tag(tag)
    payload: dict[str, Any] = dict(data or {})
    for key, value in (("before", before), ("after", after)):
        if value is not None:
            if key in payload:
                raise ValueError(f"pass {key!r} either in data or as the {key}= argument, not both")
            payload[key] = dict(value)
    # Store exactly what is hashed: the JSON round-trip gives the value the database returns.
    payload = normalise_json(payload)

    ctx = current()
    if request is not None:
        if actor is None:
            actor = authenticated(getattr(request, "user", None))
        request_id = (
            getattr(request, "request_id", None)
            or clean_request_id(request.headers.get("X-Request-ID"))
            or ctx.request_id
        )
        ip = client_ip(request)
    else:
        request_id, ip = ctx.request_id, ctx.ip
    actor = authenticated(actor) if actor is not None else ctx.actor

    subject_type = subject_id = subject_repr = ""
    if subject is not None:
        if subject.pk is None:
            raise ValueError("the audit subject must be saved first")
        subject_type = subject._meta.label_lower
        subject_id = str(subject.pk)
        if len(subject_id) > _field_limit("subject_id"):
            raise ValueError(f"subject id too long for the audit trail: {subject_id!r}")
        subject_repr = str(subject)[: _field_limit("subject_repr")]

    with transaction.atomic():
        head = _lock_head()
        event = AuditEvent(
            seq=head.seq + 1,
            time=timezone.now(),  # taken under the lock, so time follows seq
            actor=actor,
            actor_name=_actor_name(actor),
            tag=tag,
            subject_type=subject_type,
            subject_id=subject_id,
            subject_repr=subject_repr,
            data=payload,
            request_id=request_id or "",
            ip=ip,
            prev_hash=head.hash,
        )
        event.hash = compute_hash(event.hashed_fields())
        event.save()
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])
    return event


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keep only the keys whose JSON values differ; a key missing on one side is left out there."""
    old, new = normalise_json(dict(before)), normalise_json(dict(after))
    changed_before: dict[str, Any] = {}
    changed_after: dict[str, Any] = {}
    for key in dict.fromkeys([*old, *new]):
        a, b = old.get(key, _MISSING), new.get(key, _MISSING)
        if a is _MISSING or b is _MISSING or _canonical_json(a) != _canonical_json(b):
            if a is not _MISSING:
                changed_before[key] = a
            if b is not _MISSING:
                changed_after[key] = b
    return changed_before, changed_after


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """JSON-safe values of the named fields (foreign keys as ids, many-to-many as sorted ids)."""
    values: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if field.many_to_many:
            values[name] = (
                sorted(getattr(instance, name).values_list("pk", flat=True)) if instance.pk else []
            )
            continue
        if not getattr(field, "concrete", False):
            raise ValueError(f"{name!r} is not a stored field of {instance._meta.label}")
        value = field.value_from_object(instance)  # type: ignore[union-attr]
        if isinstance(value, FieldFile):
            value = value.name or ""
        values[name] = value
    return normalise_json(values)


class Break(enum.StrEnum):
    """Why verification stopped; the command turns these into Vietnamese and English."""

    SEQ_GAP = "seq_gap"  # an event is missing (or the first is not seq 1)
    PREV_HASH = "prev_hash"  # prev_hash does not name the previous event's hash
    HASH = "hash"  # the stored hash does not match the recomputed one
    HEAD = "head"  # the event named by the chain head has another hash
    TAIL = "tail"  # the chain head names events that are not there


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int  # events verified before the first break (all of them when ok)
    first_broken_seq: int | None = None
    reason: str = ""  # a Break value
    found_seq: int | None = None  # the event at which the break showed (differs for gaps)
    time: dt.datetime | None = None  # of that event
    tag: str = ""  # of that event
    detail: str = ""

    def as_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = self.time.isoformat() if self.time else None
        return data


def verify_chain(*, chunk_size: int = 2000) -> VerifyResult:
    """Walk the whole chain in seq order in constant memory and report the first broken link."""
    # Read the head before the events: events committed in between only add to the end.
    head = AuditHead.objects.filter(pk=1).values("seq", "hash").first()
    rows = (
        AuditEvent.objects.order_by("seq")
        .values(*HASHED_FIELDS, "hash")
        .iterator(chunk_size=chunk_size)
    )
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0

    def broken(
        reason: Break, row: Mapping[str, Any], detail: str, seq: int | None = None
    ) -> VerifyResult:
        return VerifyResult(
            ok=False,
            checked=checked,
            first_broken_seq=row["seq"] if seq is None else seq,
            reason=reason,
            found_seq=row["seq"],
            time=row["time"],
            tag=row["tag"],
            detail=detail,
        )

    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            return broken(
                Break.SEQ_GAP, row, f"expected seq {expected_seq}, found {seq}", seq=expected_seq
            )
        if row["prev_hash"] != prev_hash:
            return broken(Break.PREV_HASH, row, f"prev_hash {row['prev_hash']} != {prev_hash}")
        try:
            recomputed = compute_hash(row)
        except (TypeError, ValueError) as exc:
            return broken(Break.HASH, row, f"cannot recompute: {exc}")
        if recomputed != row["hash"]:
            return broken(Break.HASH, row, f"stored {row['hash']}, recomputed {recomputed}")
        if head is not None and seq == head["seq"] and row["hash"] != head["hash"]:
            return broken(Break.HEAD, row, f"head hash {head['hash']}")
        prev_hash, expected_seq, checked = row["hash"], seq + 1, checked + 1

    if head is not None and checked < head["seq"]:
        return VerifyResult(
            ok=False,
            checked=checked,
            first_broken_seq=expected_seq,
            reason=Break.TAIL,
            detail=f"the chain head is at seq {head['seq']}, the last event is seq {checked}",
        )
    return VerifyResult(ok=True, checked=checked)


def record_verification(*, actor: Any = None) -> VerifyResult:
    """Verify the chain and append an ``audit:verify`` event with the outcome."""
    result = verify_chain()
    with transaction.atomic():
        record_event(Tag.AUDIT_VERIFY, actor=actor, data=result.as_data())
    return result
