import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from ebhxh.units.models import Employment, Participant, Unit
from ebhxh.units.tests.factories import EmploymentFactory, ParticipantFactory, UnitFactory

pytestmark = pytest.mark.django_db


def _refused(**kwargs):
    with pytest.raises(IntegrityError), transaction.atomic():
        EmploymentFactory(**kwargs)


def test_an_employment_has_exactly_one_salary_basis(unit_a):
    _refused(unit=unit_a, salary_amount=None, salary_coefficient=None)
    _refused(unit=unit_a, salary_amount=8_000_000, salary_coefficient=2.34)
    EmploymentFactory(unit=unit_a, salary_amount=None, salary_coefficient="2.34")


def test_contribution_months_and_contract_dates_are_ordered(unit_a):
    _refused(unit=unit_a, start_month=dt.date(2025, 5, 1), end_month=dt.date(2025, 4, 1))
    _refused(
        unit=unit_a,
        contract_type="fixed_term",
        contract_start=dt.date(2025, 5, 1),
        contract_end=dt.date(2025, 4, 30),
    )
    _refused(unit=unit_a, start_month=dt.date(2025, 5, 2))


def test_an_indefinite_contract_has_no_end_date(unit_a):
    _refused(unit=unit_a, contract_type="indefinite", contract_end=dt.date(2027, 1, 1))


def test_one_open_employment_per_unit_and_person(unit_a):
    first = EmploymentFactory(unit=unit_a)
    _refused(unit=unit_a, participant=first.participant)
    # A closed employment does not block a new one (a person can come back).
    EmploymentFactory(unit=unit_a, participant=first.participant, ended=True)


def test_a_participant_needs_a_bhxh_code_or_a_personal_id():
    with pytest.raises(IntegrityError), transaction.atomic():
        ParticipantFactory(bhxh_code=None, personal_id=None)
    ParticipantFactory(bhxh_code=None)
    ParticipantFactory(personal_id=None)


@pytest.mark.parametrize(("field", "value"), [("bhxh_code", "123"), ("personal_id", "0790901234")])
def test_identifier_lengths_are_enforced_by_the_database(field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        ParticipantFactory(**{field: value})


def test_identifiers_are_unique():
    p = ParticipantFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ParticipantFactory(bhxh_code=p.bhxh_code)
    with pytest.raises(IntegrityError), transaction.atomic():
        ParticipantFactory(personal_id=p.personal_id)


def test_unit_region_and_code_constraints(base_agency):
    with pytest.raises(IntegrityError), transaction.atomic():
        UnitFactory(managing_agency=base_agency, wage_region=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        UnitFactory(managing_agency=base_agency, code="ABC")
    # A first-time unit has no code yet.
    assert UnitFactory(managing_agency=base_agency, code=None).code is None


def test_units_are_unique_by_tax_code(unit_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        UnitFactory(managing_agency=unit_a.managing_agency, tax_code=unit_a.tax_code)


def test_protect_keeps_history_from_being_deleted(unit_a):
    EmploymentFactory(unit=unit_a)
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        Unit.objects.filter(pk=unit_a.pk).delete()
    with pytest.raises(ProtectedError):
        Participant.objects.all().delete()
    assert Employment.objects.count() == 1
