from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ebhxh.catalog import models as m
from ebhxh.catalog import resolver
from ebhxh.catalog.resolver import CatalogError, parameters_for, parse_period, parse_region


@pytest.mark.parametrize(
    "value",
    [
        "06/2026",
        "2026-06",
        "062026",
        " 06/2026 ",
        dt.date(2026, 6, 17),
        dt.datetime(2026, 6, 30, 23, 59),
    ],
)
def test_parse_period_accepts_every_documented_form(value):
    assert parse_period(value) == dt.date(2026, 6, 1)


@pytest.mark.parametrize(
    "value", ["13-2026", "13/2026", "00/2026", "2026-13", "6/2026", "2026/06", "", "June", 202606]
)
def test_parse_period_rejects_malformed_values_with_a_code(value):
    with pytest.raises(CatalogError) as error:
        parse_period(value)
    assert error.value.code == "CAT-PERIOD-FORMAT"
    assert error.value.status == 400
    assert "MM/YYYY" in error.value.message_vi and "MM/YYYY" in error.value.message_en


@pytest.mark.parametrize(
    ("value", "region"), [(1, 1), ("1", 1), ("01", 1), ("04", 4), ("IV", 4), ("iii", 3)]
)
def test_parse_region_accepts_numbers_portal_codes_and_roman(value, region):
    assert parse_region(value) == region


@pytest.mark.parametrize("value", [0, 5, "05", "V", "", True, "1.0"])
def test_parse_region_rejects_others(value):
    with pytest.raises(CatalogError) as error:
        parse_region(value)
    assert error.value.code == "CAT-REGION"


@pytest.mark.django_db
def test_june_2026_region_1():
    p = parameters_for("06/2026", 1)
    assert p.period == "06/2026"
    assert p.first_day == dt.date(2026, 6, 1)
    assert p.minimum_wage == p.floor == 5_310_000
    assert p.reference_salary == 2_340_000
    assert p.cap_bhxh_bhyt == 46_800_000
    assert p.cap_bhtn == 106_200_000


@pytest.mark.django_db
def test_july_2026_switches_to_the_new_reference_salary():
    p = parameters_for("2026-07", "01")
    assert p.reference_salary == 2_530_000
    assert p.cap_bhxh_bhyt == 50_600_000
    assert p.reference_salary_legal_basis.startswith("Nghị định 161/2026")


@pytest.mark.django_db
def test_december_2025_region_4():
    p = parameters_for("122025", "IV")
    assert p.minimum_wage == 3_450_000
    assert p.cap_bhtn == 69_000_000
    assert p.cap_bhxh_bhyt == 46_800_000
    assert p.minimum_wage_legal_basis == "Nghị định 74/2024/NĐ-CP"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "period", ["07/2024", "06/2025", "07/2025", "12/2025", "01/2026", "07/2026", "12/2030"]
)
def test_rates_sum_to_21_5_and_10_5_percent(period):
    p = parameters_for(period, 1)
    assert p.employer_total == Decimal("0.215")
    assert p.employee_total == Decimal("0.105")
    assert [r.fund for r in p.rates] == [
        "pension",
        "sickness",
        "accident",
        "health",
        "unemployment",
    ]
    assert (p.rate("pension").employer_rate, p.rate("pension").employee_rate) == (
        Decimal("0.14"),
        Decimal("0.08"),
    )
    assert p.rate("accident").employer_rate == Decimal("0.005")


@pytest.mark.django_db
def test_caps_per_fund():
    p = parameters_for("07/2026", 2)
    assert p.cap_for("pension") == p.cap_for("health") == p.cap_for("accident") == 50_600_000
    assert p.cap_for("unemployment") == 20 * 4_730_000


@pytest.mark.django_db
def test_a_value_starting_mid_month_applies_from_the_next_period():
    m.ReferenceSalary.objects.filter(effective_from=dt.date(2026, 7, 1)).update(
        effective_from=dt.date(2026, 7, 15)
    )
    m.ReferenceSalary.objects.filter(effective_to=dt.date(2026, 6, 30)).update(
        effective_to=dt.date(2026, 7, 14)
    )
    assert parameters_for("07/2026", 1).reference_salary == 2_340_000
    assert parameters_for("08/2026", 1).reference_salary == 2_530_000


@pytest.mark.django_db
def test_nothing_in_force_is_a_coded_error():
    with pytest.raises(CatalogError) as error:
        parameters_for("06/2024", 1)
    assert error.value.code == "CAT-NO-VALUE"
    assert error.value.status == 404
    assert "06/2024" in error.value.message_vi and "06/2024" in error.value.message_en


@pytest.mark.django_db
def test_two_values_in_force_is_a_coded_error():
    m.MinimumWage.objects.create(
        region=1, amount=1, effective_from=dt.date(2026, 6, 1), effective_to=dt.date(2026, 6, 30)
    )
    with pytest.raises(CatalogError) as error:
        parameters_for("06/2026", 1)
    assert error.value.code == "CAT-AMBIGUOUS"


@pytest.mark.django_db
def test_regions_in_force():
    wages = resolver.minimum_wages_for("07/2026")
    assert [(w.name, w.amount, w.cap_bhtn) for w in wages] == [
        ("Vùng I", 5_310_000, 106_200_000),
        ("Vùng II", 4_730_000, 94_600_000),
        ("Vùng III", 4_140_000, 82_800_000),
        ("Vùng IV", 3_700_000, 74_000_000),
    ]


def test_the_answer_is_frozen():
    p = resolver.PeriodParameters("06/2026", dt.date(2026, 6, 1), 1, 1, "", 1, "", 1, 20, 20, ())
    with pytest.raises(AttributeError):
        p.region = 2  # type: ignore[misc]


def test_errors_carry_both_languages():
    error = CatalogError("CAT-X", "tiếng Việt", "English")
    assert error.as_dict() == {"code": "CAT-X", "message_vi": "tiếng Việt", "message_en": "English"}
