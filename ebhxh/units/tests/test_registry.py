"""Registry update from procedure-600 dossiers (ebhxh.units.registry, docs/registry.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from ebhxh.audit.models import AuditEvent
from ebhxh.declarations.forms import (
    D02TS,
    TK1TS,
    D02Row,
    Month,
    PartialDate,
    TK1Adjustment,
    TK1Header,
    TK1Row,
)
from ebhxh.dossiers import services as dossier_services
from ebhxh.dossiers.models import Channel, Dossier, Status
from ebhxh.dossiers.testing import d02_form, signed_forms_envelope
from ebhxh.dossiers.tests import conftest as intake
from ebhxh.dossiers.tests.conftest import envelope_for, signer_of
from ebhxh.signatures.testing.pki import Issued
from ebhxh.units import registry
from ebhxh.units.models import Employment, EmploymentChange, Participant, RegistryApplication, Unit
from ebhxh.units.registry import RegistryError
from ebhxh.units.tests.factories import EmploymentFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

# The intake fixtures (unit A registered for e-transactions, its certificate, the agency seal),
# shared with ebhxh/dossiers/tests so the dossiers here are accepted by the real pipeline.
pki = intake.pki
seal_p12 = intake.seal_p12
agency_seal = intake.agency_seal
media = intake.media
procedures = intake.procedures
unit_cert = intake.unit_cert
active_unit = intake.active_unit

JUL, AUG = Month(2026, 7), Month(2026, 8)


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def accept(
    active_unit: Unit, unit_cert: Issued, django_capture_on_commit_callbacks: Any
) -> Callable[..., Dossier]:
    """Submit a signed dossier of unit A and return it accepted (RECEIVED, numbered)."""

    def submit(data: bytes | None = None, **kwargs: Any) -> Dossier:
        data = data if data is not None else envelope_for(active_unit, unit_cert, **kwargs)
        with django_capture_on_commit_callbacks(execute=True):
            ack = dossier_services.submit(data, unit=active_unit, channel=Channel.API)
        dossier = Dossier.objects.get(pk=ack.dossier.pk)
        assert dossier.status == Status.RECEIVED, dossier.findings
        return dossier

    return submit


def rows(*edits: Callable[[D02Row], D02Row]) -> Callable[[D02TS], D02TS]:
    """A `change=` for signed_envelope: keep the first len(edits) rows, each edited."""

    def change(form: D02TS) -> D02TS:
        return dataclasses.replace(
            form, rows=[edit(row) for edit, row in zip(edits, form.rows, strict=False)]
        )

    return change


def adjust(pa: str, month: Month = AUG, **values: Any) -> Callable[[D02Row], D02Row]:
    def edit(row: D02Row) -> D02Row:
        return dataclasses.replace(row, pa=pa, kind=None, from_month=month, **values)

    return edit


def decrease(pa: str = "GH", month: Month = AUG) -> Callable[[D02Row], D02Row]:
    def edit(row: D02Row) -> D02Row:
        return dataclasses.replace(row, pa=pa, kind="2", from_month=month, to_month=month)

    return edit


def keep(row: D02Row) -> D02Row:
    return row


def person_of(row: D02Row, **overrides: Any) -> Participant:
    """A registry participant with the identity of a D02 row."""
    birth = row.birth_date
    assert birth is not None
    values = {
        "bhxh_code": row.bhxh_code,
        "personal_id": row.personal_id,
        "full_name": row.full_name,
        "birth_date": birth.as_date(),
        "gender": "male" if row.gender == "1" else "female",
    }
    return ParticipantFactory(**(values | overrides))


def first_rows(n: int, period: Month = JUL) -> list[D02Row]:
    return list(d02_form(n, period=period).rows)


def codes(plan: registry.RegistryPlan) -> list[tuple[int, str]]:
    return [(c.row, c.code) for c in plan.conflicts]


def plan_of(unit: Unit, *d02_rows: D02Row, tk1: list[TK1Row] | None = None) -> Any:
    form = dataclasses.replace(d02_form(1, period=AUG), rows=list(d02_rows))
    tk1s = [TK1TS(TK1Header(unit_code=unit.code), tk1)] if tk1 else []
    return registry.plan_forms(unit, "00099/2026/79901", form, tk1s)


# --- increases, adjustments, decreases -------------------------------------------------------------


def test_increases_create_participants_and_employments_with_history(
    accept: Callable[..., Dossier], active_unit: Unit, desk_officer: Any
) -> None:
    dossier = accept(rows=3)
    plan = registry.plan(dossier)
    assert plan.conflicts == []
    assert [[c["action"] for c in r.changes] for r in plan.rows] == [
        ["create_participant", "start_employment"]
    ] * 3
    assert not Participant.objects.exists()  # planning writes nothing
    json.dumps(plan.as_dict())  # the officer's page shows it, the decision stores it

    result = registry.apply(dossier, plan, actor=desk_officer)

    assert result.applied_rows == ("D02-TS#1", "D02-TS#2", "D02-TS#3")
    assert result.counts["employments_started"] == 3
    row = first_rows(1)[0]
    person = Participant.objects.get(bhxh_code=row.bhxh_code)
    assert person.personal_id == row.personal_id and person.full_name == row.full_name
    assert person.birth_date == dt.date(1990, 2, 2) and person.gender == "male"
    job = Employment.objects.get(participant=person)
    assert job.unit == active_unit and job.salary_amount == int(row.salary or 0)
    assert job.salary_allowance == 500_000 and job.start_month == dt.date(2026, 7, 1)
    assert job.contract_type == "fixed_term" and job.contract_end == dt.date(2027, 6, 30)
    history = EmploymentChange.objects.get(employment=job)
    assert (history.change_type, history.dossier_number) == ("TM", dossier.number)
    assert (history.source_form, history.source_row) == ("D02-TS", 1)
    application = RegistryApplication.objects.get(dossier=dossier)
    assert application.applied_by == desk_officer and application.plan["rows"]
    assert AuditEvent.objects.filter(tag="registry:apply", subject_id=str(application.pk)).exists()
    created = AuditEvent.objects.filter(tag="participant:create", subject_id=str(person.pk)).get()
    assert created.data["source"] == {"dossier": dossier.number, "form": "D02-TS", "row": 1}


def test_salary_adjustment_is_applied_with_before_and_after(
    accept: Callable[..., Dossier], desk_officer: Any
) -> None:
    first = accept(rows=1)
    registry.apply(first, registry.plan(first), actor=desk_officer)
    job = Employment.objects.get()
    old_salary = job.salary_amount
    later = accept(period=AUG, change=rows(adjust("DC", salary=Decimal(9_500_000), note="QĐ 12")))

    result = registry.apply(later, registry.plan(later), actor=desk_officer)

    job.refresh_from_db()
    assert job.salary_amount == 9_500_000 and result.counts["employments_changed"] == 1
    change = job.changes.get(change_type="DC")
    assert change.changes == {
        "before": {"salary_amount": old_salary},
        "after": {"salary_amount": 9_500_000},
    }
    assert change.effective_month == dt.date(2026, 8, 1) and change.note == "QĐ 12"
    assert (change.dossier_number, change.source_row) == (later.number, 1)
    assert list(job.changes.values_list("change_type", flat=True)) == ["TM", "DC"]


def test_a_position_change_updates_the_position_and_job_group(
    accept: Callable[..., Dossier], desk_officer: Any
) -> None:
    first = accept(rows=1)
    registry.apply(first, registry.plan(first), actor=desk_officer)
    later = accept(
        period=AUG,
        change=rows(adjust("CD", position="Tổ trưởng tổ may", manager_from=dt.date(2026, 8, 1))),
    )
    registry.apply(later, registry.plan(later), actor=desk_officer)
    job = Employment.objects.get()
    assert job.position == "Tổ trưởng tổ may" and job.job_group == "manager"
    assert job.changes.get(change_type="CD").changes["before"]["position"] == "Công nhân may"


def test_a_decrease_ends_the_employment_the_month_before(
    accept: Callable[..., Dossier], desk_officer: Any
) -> None:
    first = accept(rows=2)
    registry.apply(first, registry.plan(first), actor=desk_officer)
    later = accept(period=AUG, change=rows(decrease("GH", AUG)))
    registry.apply(later, registry.plan(later), actor=desk_officer)
    ended, other = Employment.objects.order_by("participant__bhxh_code")
    assert ended.end_month == dt.date(2026, 7, 1) and ended.status == "stopped"
    assert other.end_month is None and other.status == "contributing"
    history = ended.changes.get(change_type="GH")
    assert history.changes["after"] == {"end_month": "2026-07-01", "status": "stopped"}
    assert history.dossier_number == later.number


def test_leave_suspends_and_return_resumes_without_ending(unit_a: Unit) -> None:
    row = first_rows(1)[0]
    job = EmploymentFactory(unit=unit_a, participant=person_of(row))
    plan = plan_of(unit_a, adjust("TS")(row), adjust("ON", Month(2026, 9))(row))
    assert plan.conflicts == []
    assert plan.rows[0].changes[0]["after"] == {"status": "maternity"}
    assert plan.rows[1].changes[0]["after"] == {"status": "contributing"}
    assert all(c["employment_id"] == job.pk for r in plan.rows for c in r.changes)


# --- conflicts -------------------------------------------------------------------------------------


def test_active_elsewhere_is_flagged_on_its_row(unit_a: Unit, unit_b: Unit) -> None:
    one, two = first_rows(2, AUG)
    EmploymentFactory(unit=unit_b, participant=person_of(two), start_month=dt.date(2025, 1, 1))
    plan = plan_of(unit_a, one, two)
    assert codes(plan) == [(2, "RGY-CONFLICT-ACTIVE-ELSEWHERE")]
    conflict = plan.conflicts[0]
    assert conflict.detail == {"unit": unit_b.code, "since": "01/2025"}
    assert conflict.id == "D02-TS#2:RGY-CONFLICT-ACTIVE-ELSEWHERE"
    assert conflict.message_en.startswith("The social insurance number has an active")
    assert "đơn vị khác" in conflict.message_vi


def test_an_employment_elsewhere_ending_after_the_start_overlaps(
    unit_a: Unit, unit_b: Unit
) -> None:
    (row,) = first_rows(1, AUG)
    EmploymentFactory(
        unit=unit_b, participant=person_of(row), end_month=dt.date(2026, 8, 1), status="stopped"
    )
    assert codes(plan_of(unit_a, row)) == [(1, "RGY-CONFLICT-ACTIVE-ELSEWHERE")]


def test_an_employment_elsewhere_that_ended_before_does_not_conflict(
    unit_a: Unit, unit_b: Unit
) -> None:
    (row,) = first_rows(1, AUG)
    EmploymentFactory(
        unit=unit_b, participant=person_of(row), end_month=dt.date(2026, 7, 1), status="stopped"
    )
    assert codes(plan_of(unit_a, row)) == []


def test_identity_mismatch_names_the_fields(unit_a: Unit) -> None:
    one, two = first_rows(2, AUG)
    person_of(two, full_name="Trần Thị Khác", birth_date=dt.date(1991, 1, 1))
    person_of(one, full_name=f"  {one.full_name.upper()} ")  # case and spaces do not count
    plan = plan_of(unit_a, one, two)
    assert codes(plan) == [(2, "RGY-CONFLICT-IDENTITY")]
    assert plan.conflicts[0].detail == {"fields": ["full_name", "birth_date"]}
    # accepted, the registry's identity is kept: no participant update is planned
    assert [c["action"] for c in plan.rows[1].changes] == ["start_employment"]


def test_a_tk1_correction_is_not_an_identity_conflict(unit_a: Unit) -> None:
    (row,) = first_rows(1, AUG)
    person = person_of(row, full_name="Nguyen Van So Mot")
    EmploymentFactory(unit=unit_a, participant=person)
    tk1 = TK1Row(
        full_name="Nguyen Van So Mot",
        birth_date=row.birth_date,
        bhxh_code=row.bhxh_code,
        adjustment=TK1Adjustment(full_name=(row.full_name or "").upper()),  # [14.1]
    )
    plan = plan_of(unit_a, adjust("DC", salary=Decimal(9_000_000))(row), tk1=[tk1])
    assert plan.conflicts == []  # the D02 row already has the corrected name (case aside)
    assert plan.rows[0].changes[0] == {
        "action": "update_participant",
        "after": {"full_name": (row.full_name or "").upper()},
    }


def test_decrease_or_adjustment_of_someone_not_employed_here(unit_a: Unit, unit_b: Unit) -> None:
    one, two, three = first_rows(3, AUG)
    EmploymentFactory(unit=unit_b, participant=person_of(two))
    EmploymentFactory(unit=unit_a, participant=person_of(three))
    plan = plan_of(unit_a, decrease()(one), adjust("DC")(two), decrease()(three))
    assert codes(plan) == [(1, "RGY-CONFLICT-NOT-EMPLOYED"), (2, "RGY-CONFLICT-NOT-EMPLOYED")]
    assert plan.rows[0].changes == () and plan.rows[2].changes[0]["change_type"] == "GH"


def test_a_personal_id_of_another_participant(unit_a: Unit) -> None:
    one, two = first_rows(2, AUG)
    other = ParticipantFactory(bhxh_code="7999999999", personal_id=two.personal_id)
    plan = plan_of(unit_a, one, two)
    assert codes(plan) == [(2, "RGY-CONFLICT-DUPLICATE-ID")]
    assert plan.conflicts[0].detail == {"owner": other.bhxh_code}
    created = plan.rows[1].changes[0]
    assert created["action"] == "create_participant" and created["values"]["personal_id"] is None


def test_an_increase_for_someone_already_employed_here(unit_a: Unit) -> None:
    one, two = first_rows(2, AUG)
    EmploymentFactory(unit=unit_a, participant=person_of(two))
    plan = plan_of(unit_a, one, two)
    assert codes(plan) == [(2, "RGY-CONFLICT-ALREADY-EMPLOYED")]
    assert plan.conflicts[0].if_accepted == "skip"


def test_two_increases_of_one_new_person_in_one_dossier(unit_a: Unit) -> None:
    (row,) = first_rows(1, AUG)
    plan = plan_of(unit_a, row, row)
    assert codes(plan) == [(2, "RGY-CONFLICT-ALREADY-EMPLOYED")]


def test_a_decrease_not_after_the_start_is_flagged_and_clamped(unit_a: Unit) -> None:
    (row,) = first_rows(1, AUG)
    plan = plan_of(unit_a, row, decrease("GH", AUG)(row))
    assert codes(plan) == [(2, "RGY-CONFLICT-MONTHS")]
    assert plan.rows[1].changes[0]["after"]["end_month"] == "2026-08-01"


def test_a_new_person_without_any_identifier_is_incomplete(unit_a: Unit) -> None:
    (row,) = first_rows(1, AUG)
    plan = plan_of(unit_a, dataclasses.replace(row, bhxh_code=None, personal_id=None))
    assert codes(plan) == [(1, "RGY-CONFLICT-INCOMPLETE")]
    assert plan.conflicts[0].detail == {"fields": ["bhxh_code"]}


def test_every_pa_of_list_600_has_a_registry_effect() -> None:
    from ebhxh.declarations.rules import change_types

    assert set(change_types()["600"]) == set(registry.EFFECTS)


def test_only_procedure_600_dossiers_update_the_registry(unit_a: Unit) -> None:
    with pytest.raises(RegistryError) as exc:
        registry.plan(Dossier(unit=unit_a, procedure_code="604", number="00001/2026/79901"))
    assert exc.value.code == "RGY-PROCEDURE"


# --- apply: conflicts, idempotency, staleness ------------------------------------------------------


@pytest.fixture
def elsewhere_dossier(accept: Callable[..., Dossier], unit_b: Unit) -> Dossier:
    """A July dossier of unit A with 2 increases; the person of row 2 still works at unit B."""
    two = first_rows(2)[1]
    EmploymentFactory(unit=unit_b, participant=person_of(two))
    return accept(rows=2)


def test_apply_refuses_unaccepted_conflicts_and_writes_nothing(
    elsewhere_dossier: Dossier, desk_officer: Any
) -> None:
    plan = registry.plan(elsewhere_dossier)
    with pytest.raises(RegistryError) as exc:
        registry.apply(elsewhere_dossier, plan, actor=desk_officer)
    assert exc.value.code == "RGY-UNRESOLVED"
    assert exc.value.detail == ["D02-TS#2:RGY-CONFLICT-ACTIVE-ELSEWHERE"]
    assert Participant.objects.count() == 1 and Employment.objects.count() == 1
    assert not RegistryApplication.objects.exists()


def test_apply_applies_an_accepted_conflict(
    elsewhere_dossier: Dossier, unit_b: Unit, desk_officer: Any
) -> None:
    plan = registry.plan(elsewhere_dossier)
    accepted = {plan.conflicts[0].id}
    result = registry.apply(elsewhere_dossier, plan, actor=desk_officer, accept_conflicts=accepted)
    assert result.applied_rows == ("D02-TS#1", "D02-TS#2")
    person = Participant.objects.get(bhxh_code=first_rows(2)[1].bhxh_code)
    assert sorted(person.employments.values_list("unit__code", flat=True)) == sorted(
        [unit_b.code, elsewhere_dossier.unit.code]
    )
    stored = RegistryApplication.objects.get()
    assert stored.accepted_conflicts == sorted(accepted)


def test_an_accepted_skip_conflict_leaves_the_row_out(
    accept: Callable[..., Dossier], active_unit: Unit, desk_officer: Any
) -> None:
    two = first_rows(2)[1]
    EmploymentFactory(unit=active_unit, participant=person_of(two), salary_amount=7_000_000)
    dossier = accept(rows=2)
    plan = registry.plan(dossier)
    result = registry.apply(
        dossier, plan, actor=desk_officer, accept_conflicts={c.id for c in plan.conflicts}
    )
    assert result.skipped_rows == ("D02-TS#2",) and result.applied_rows == ("D02-TS#1",)
    assert Employment.objects.get(participant__bhxh_code=two.bhxh_code).salary_amount == 7_000_000


def test_applying_the_same_dossier_twice_changes_nothing_the_second_time(
    accept: Callable[..., Dossier], desk_officer: Any
) -> None:
    dossier = accept(rows=2)
    plan = registry.plan(dossier)
    first = registry.apply(dossier, plan, actor=desk_officer)
    counts = (
        Participant.objects.count(),
        EmploymentChange.objects.count(),
        AuditEvent.objects.count(),
    )
    again = registry.apply(dossier, plan, actor=desk_officer)
    assert again.already_applied and not first.already_applied
    assert again.applied_rows == first.applied_rows and again.counts == first.counts
    after = (
        Participant.objects.count(),
        EmploymentChange.objects.count(),
        AuditEvent.objects.count(),
    )
    assert after == counts


def test_a_plan_made_before_the_registry_changed_is_refused(
    accept: Callable[..., Dossier], active_unit: Unit, desk_officer: Any
) -> None:
    dossier = accept(rows=2)
    stored = registry.plan(dossier).as_dict()  # e.g. kept with the officer's decision
    EmploymentFactory(unit=active_unit, participant=person_of(first_rows(1)[0]))
    with pytest.raises(RegistryError) as exc:
        registry.apply(dossier, stored, actor=desk_officer)
    assert exc.value.code == "RGY-PLAN-STALE"
    assert not RegistryApplication.objects.exists()


def test_a_stored_plan_dict_is_accepted(accept: Callable[..., Dossier], desk_officer: Any) -> None:
    dossier = accept(rows=1)
    stored = json.loads(json.dumps(registry.plan(dossier).as_dict()))
    assert registry.apply(dossier, stored, actor=desk_officer).applied_rows == ("D02-TS#1",)


def test_accepting_a_conflict_that_is_not_in_the_plan_is_refused(
    accept: Callable[..., Dossier], desk_officer: Any
) -> None:
    dossier = accept(rows=1)
    with pytest.raises(RegistryError) as exc:
        registry.apply(
            dossier,
            registry.plan(dossier),
            actor=desk_officer,
            accept_conflicts={"D02-TS#1:RGY-CONFLICT-IDENTITY"},
        )
    assert exc.value.code == "RGY-ACCEPT-UNKNOWN"


# --- TK1-TS: new participants without mã số BHXH, identity corrections -----------------------------


def tk1_form(unit: Unit, *tk1_rows: TK1Row, period: Month = JUL) -> TK1TS:
    return TK1TS(
        TK1Header(
            unit_name=unit.name,
            unit_code=unit.code,
            tax_code=unit.tax_code,
            procedure_code="600",
            period=period,
        ),
        tk1_rows,
    )


def test_a_new_participant_without_code_takes_the_tk1_identity(
    accept: Callable[..., Dossier], active_unit: Unit, unit_cert: Issued, desk_officer: Any
) -> None:
    d02 = d02_form(
        1,
        unit_name=active_unit.name,
        unit_code=active_unit.code or "",
        tax_code=active_unit.tax_code,
    )
    row = dataclasses.replace(d02.rows[0], bhxh_code=None)
    tk1 = TK1Row(
        stt=1,
        full_name=(row.full_name or "").upper(),
        gender="1",
        birth_date=row.birth_date,
        personal_id=row.personal_id,
        phone="0901234567",
        email="so1@example.vn",
        address_text="12 Đường Thử, Phường Một",
    )
    data = signed_forms_envelope(
        signer_of(unit_cert),
        [dataclasses.replace(d02, rows=[row]), tk1_form(active_unit, tk1)],
        unit_name=active_unit.name,
        unit_code=active_unit.code or "",
        tax_code=active_unit.tax_code,
        agency_code=active_unit.managing_agency.code,
    )
    dossier = accept(data)
    assert [f["code"] for f in dossier.forms] == ["D02-TS", "TK1-TS"]
    plan = registry.plan(dossier)
    assert plan.conflicts == [] and len(plan.rows) == 1  # the TK1 row belongs to the D02 row
    registry.apply(dossier, plan, actor=desk_officer)
    person = Participant.objects.get(personal_id=row.personal_id)
    assert person.bhxh_code is None and person.phone == "0901234567"
    assert person.email == "so1@example.vn" and person.address == "12 Đường Thử, Phường Một"


def test_a_tk1_identity_correction_updates_the_participant_with_audit(
    accept: Callable[..., Dossier], active_unit: Unit, unit_cert: Issued, desk_officer: Any
) -> None:
    first = accept(rows=1)
    registry.apply(first, registry.plan(first), actor=desk_officer)
    row = first_rows(1)[0]
    tk1 = TK1Row(
        stt=1,
        full_name=row.full_name,
        gender="1",
        birth_date=row.birth_date,
        bhxh_code=row.bhxh_code,
        adjustment=TK1Adjustment(birth_date=PartialDate(1990, 3, 2)),
    )
    d02 = d02_form(
        1,
        unit_name=active_unit.name,
        unit_code=active_unit.code or "",
        tax_code=active_unit.tax_code,
        period=AUG,
    )
    data = signed_forms_envelope(
        signer_of(unit_cert),
        [
            dataclasses.replace(d02, rows=[adjust("DC", salary=Decimal(9_000_000))(d02.rows[0])]),
            tk1_form(active_unit, tk1, period=AUG),
        ],
        unit_name=active_unit.name,
        unit_code=active_unit.code or "",
        tax_code=active_unit.tax_code,
        agency_code=active_unit.managing_agency.code,
        period=AUG,
    )
    later = accept(data)
    registry.apply(later, registry.plan(later), actor=desk_officer)
    person = Participant.objects.get(bhxh_code=row.bhxh_code)
    assert person.birth_date == dt.date(1990, 3, 2)
    event = AuditEvent.objects.get(tag="participant:update", subject_id=str(person.pk))
    assert event.data["before"] == {"birth_date": "1990-02-02"}
    assert event.data["source"] == {"dossier": later.number, "form": "D02-TS", "row": 1}
