"""Writes to units, participants and employments, each with its audit event."""

from __future__ import annotations

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
def create_participant(*, actor: User | None = None, **fields: Any) -> Participant:
    """Add a person to the participant registry."""
    participant = Participant(**fields)
    participant.full_clean()
    participant.save()
    record_event(
        "participant:create",
        actor=actor,
        subject=participant,
        after=_values(participant, _PARTICIPANT_FIELDS),
    )
    return participant


@transaction.atomic
def start_employment(
    *,
    unit: Unit,
    participant: Participant,
    change_type: str = "TM",
    actor: User | None = None,
    **fields: Any,
) -> Employment:
    """Record that a participant starts contributing at a unit (an increase, PA TM by default)."""
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
    )
    record_event(
        "employment:create",
        actor=actor,
        subject=employment,
        after=after,
        data={"change_type": change_type},
    )
    return employment


def _json(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))
