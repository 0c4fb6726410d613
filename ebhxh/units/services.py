"""Writes to units, participants and employments, each with its audit event."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from ebhxh.accounts.models import User
from ebhxh.audit.services import record_event
from ebhxh.units.models import Employment, EmploymentChange, Participant, Unit

_UNIT_FIELDS = [
    f.name for f in Unit._meta.concrete_fields if f.name not in {"id", "created_at", "updated_at"}
]
_PARTICIPANT_FIELDS = [
    f.name
    for f in Participant._meta.concrete_fields
    if f.name not in {"id", "created_at", "updated_at"}
]


def _values(instance: Any, fields: list[str]) -> dict[str, Any]:
    out = {}
    for name in fields:
        field = instance._meta.get_field(name)
        out[name] = getattr(instance, field.attname)
    return out


def _changed(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


@transaction.atomic
def create_unit(*, actor: User | None = None, **fields: Any) -> Unit:
    """Register a unit in the registry."""
    unit = Unit(**fields)
    unit.full_clean()
    unit.save()
    record_event("unit:create", actor=actor, subject=unit, after=_values(unit, _UNIT_FIELDS))
    return unit


@transaction.atomic
def update_unit(unit: Unit, *, actor: User | None = None, **fields: Any) -> Unit:
    """Change a unit's details; the audit event keeps before and after of the changed fields."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    before = _values(unit, _UNIT_FIELDS)
    for name, value in fields.items():
        setattr(unit, name, value)
    unit.full_clean()
    unit.save()
    old, new = _changed(before, _values(unit, _UNIT_FIELDS))
    if new:
        record_event("unit:update", actor=actor, subject=unit, before=old, after=new)
    return unit


@transaction.atomic
def create_participant(
    *, actor: User | None = None, source: dict[str, Any] | None = None, **fields: Any
) -> Participant:
    """Add a person to the participant registry (`source`: e.g. the dossier and row, audited)."""
    participant = Participant(**fields)
    participant.full_clean()
    participant.save()
    record_event(
        "participant:create",
        actor=actor,
        subject=participant,
        after=_values(participant, _PARTICIPANT_FIELDS),
        data={"source": source} if source else None,
    )
    return participant


@transaction.atomic
def update_participant(
    participant: Participant,
    *,
    actor: User | None = None,
    source: dict[str, Any] | None = None,
    **fields: Any,
) -> Participant:
    """Change a participant's identity or contact details; audited with before and after."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    before = _values(participant, _PARTICIPANT_FIELDS)
    for name, value in fields.items():
        setattr(participant, name, value)
    participant.full_clean()
    participant.save()
    old, new = _changed(before, _values(participant, _PARTICIPANT_FIELDS))
    if new:
        record_event(
            "participant:update",
            actor=actor,
            subject=participant,
            before=old,
            after=new,
            data={"source": source} if source else None,
        )
    return participant


@transaction.atomic
def start_employment(
    *,
    unit: Unit,
    participant: Participant,
    change_type: str = "TM",
    actor: User | None = None,
    source: dict[str, Any] | None = None,
    note: str = "",
    **fields: Any,
) -> Employment:
    """Record that a participant starts contributing at a unit (an increase, PA TM by default).

    `source` ({"dossier": number, "form": code, "row": n}) is kept on the history row."""
    employment = Employment(unit=unit, participant=participant, **fields)
    employment.full_clean()
    employment.save()
    after = {
        "unit": unit.pk,
        "participant": participant.pk,
        "salary_amount": employment.salary_amount,
        "salary_coefficient": employment.salary_coefficient,
        "start_month": employment.start_month,
        "position": employment.position,
    }
    EmploymentChange.objects.create(
        employment=employment,
        effective_month=employment.start_month,
        change_type=change_type,
        changes=_json(after),
        note=note[:500],
        **_source_fields(source),
    )
    record_event(
        "employment:create",
        actor=actor,
        subject=employment,
        after=after,
        data={"change_type": change_type} | ({"source": source} if source else {}),
    )
    return employment


_EMPLOYMENT_FIELDS = [
    f.name
    for f in Employment._meta.concrete_fields
    if f.name not in {"id", "unit", "participant", "created_at", "updated_at"}
]


@transaction.atomic
def change_employment(
    employment: Employment,
    *,
    change_type: str,
    effective_month: dt.date,
    actor: User | None = None,
    source: dict[str, Any] | None = None,
    note: str = "",
    **fields: Any,
) -> EmploymentChange:
    """Adjust, suspend, resume or end an employment (PA DC, CD, KL, ON, GH …): the fields change
    and one history row keeps the before and after of what changed, with its source."""
    employment = Employment.objects.select_for_update().get(pk=employment.pk)
    before = _values(employment, _EMPLOYMENT_FIELDS)
    for name, value in fields.items():
        setattr(employment, name, value)
    employment.full_clean()
    employment.save()
    old, new = _changed(before, _values(employment, _EMPLOYMENT_FIELDS))
    change = EmploymentChange.objects.create(
        employment=employment,
        effective_month=effective_month,
        change_type=change_type,
        changes=_json({"before": old, "after": new}),
        note=note[:500],
        **_source_fields(source),
    )
    record_event(
        "employment:update",
        actor=actor,
        subject=employment,
        before=old,
        after=new,
        data={"change_type": change_type} | ({"source": source} if source else {}),
    )
    return change


def _source_fields(source: dict[str, Any] | None) -> dict[str, Any]:
    if not source:
        return {}
    return {
        "dossier_number": source.get("dossier", ""),
        "source_form": source.get("form", ""),
        "source_row": source.get("row"),
    }


def _json(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))
