import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from ebhxh.audit.models import AuditEvent
from ebhxh.lib.identifiers import make_tax_code
from ebhxh.units import services
from ebhxh.units.models import EmploymentChange, Unit

pytestmark = pytest.mark.django_db


def test_create_unit_validates_and_audits(base_agency, sysadmin):
    unit = services.create_unit(
        actor=sysadmin,
        code="AB1234C",
        tax_code=make_tax_code("010010910"),
        name="Công ty Mới",
        unit_type=Unit.UnitType.PRIVATE_ENTERPRISE,
        registered_address="HN",
        managing_agency=base_agency,
        wage_region=1,
        contact_email="a@b.vn",
    )
    event = AuditEvent.objects.get(tag="unit:create")
    assert event.subject_id == str(unit.pk)
    assert event.data["after"]["tax_code"] == unit.tax_code


def test_create_unit_refuses_invalid_data_and_writes_nothing(base_agency):
    with pytest.raises(ValidationError):
        services.create_unit(
            code="AB1234C",
            tax_code="0100109107",
            name="",
            unit_type="nope",
            registered_address="HN",
            managing_agency=base_agency,
            wage_region=9,
            contact_email="not-an-email",
        )
    assert not Unit.objects.exists()
    assert not AuditEvent.objects.exists()


def test_update_unit_keeps_before_and_after_of_changed_fields_only(unit_a, unit_admin):
    old_phone = unit_a.contact_phone
    services.update_unit(unit_a, actor=unit_admin, contact_phone="0281234567", name=unit_a.name)
    event = AuditEvent.objects.get(tag="unit:update")
    assert event.data["before"] == {"contact_phone": old_phone}
    assert event.data["after"] == {"contact_phone": "0281234567"}
    assert event.actor_name


def test_update_without_change_records_nothing(unit_a):
    services.update_unit(unit_a, name=unit_a.name)
    assert not AuditEvent.objects.filter(tag="unit:update").exists()


def test_start_employment_writes_history_and_audit(unit_a):
    person = services.create_participant(
        bhxh_code="7901234567",
        full_name="Nguyễn Thị Lan",
        birth_date=dt.date(1995, 3, 4),
        gender="female",
    )
    employment = services.start_employment(
        unit=unit_a,
        participant=person,
        position="Kế toán",
        salary_amount=9_000_000,
        contract_type="indefinite",
        contract_start=dt.date(2026, 1, 5),
        start_month=dt.date(2026, 1, 1),
    )
    change = EmploymentChange.objects.get(employment=employment)
    assert change.change_type == "TM"
    assert change.changes["salary_amount"] == 9_000_000
    assert AuditEvent.objects.filter(
        tag="employment:create", subject_id=str(employment.pk)
    ).exists()
