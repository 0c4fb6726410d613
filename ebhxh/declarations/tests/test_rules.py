"""The validation rules (rules.py): each rule with a failing and a passing case."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ebhxh.declarations import rules
from ebhxh.declarations.forms import (
    D02TS,
    D05TS,
    D02Header,
    D02Row,
    D05Header,
    D05Row,
    Month,
    PartialDate,
)

JUL = Month(2026, 7)
JUN = Month(2026, 6)


def header(**kw: Any) -> D02Header:
    values: dict[str, Any] = {
        "unit_name": "Công ty TNHH Dệt may Sao Mai",
        "unit_code": "DM0001A",
        "tax_code": "0310000017",
        "period": JUL,
    }
    values.update(kw)
    return D02Header(**values)


def row(**kw: Any) -> D02Row:
    values: dict[str, Any] = {
        "stt": 1,
        "pa": "TM",
        "full_name": "Lê Thu Hương",
        "birth_date": PartialDate(1981, 2, 28),
        "position": "Nhân viên",
        "salary": Decimal("10000000"),
        "from_month": JUL,
        "wage_region": "01",
    }
    values.update(kw)
    return D02Row(**values)


def check(*rows: D02Row, period: Month | None = JUL, **ctx: Any) -> list[Any]:
    form = D02TS(header(period=period), rows)
    return rules.check_form(form, rules.Context(period=period, **ctx))


def codes(*rows: D02Row, **kw: Any) -> list[str]:
    return [f.code for f in check(*rows, **kw)]


def test_a_clean_row_has_no_findings() -> None:
    assert check(row(bhxh_code="7912345678", personal_id="079190012345")) == []


def test_every_rule_code_has_severity_and_both_messages() -> None:
    for code, (severity, vi, en) in rules.RULE_CODES.items():
        assert code.startswith("RULE-")
        assert severity in ("error", "warning")
        assert vi and en and vi != en


# --- identifiers -----------------------------------------------------------------------------


def test_bhxh_code_format() -> None:
    found = check(row(bhxh_code="12345"))
    assert [f.code for f in found] == ["ID-BHXH-FORMAT"]
    loc = found[0].location
    assert (loc.form, loc.row, loc.field) == ("D02-TS", 1, "bhxh_code")
    assert loc.xpath == "/D02-TS/DanhSach/NguoiLaoDong[1]/MaSoBhxh"
    assert codes(row(bhxh_code="7912345678")) == []


def test_personal_id_format_and_structure_warnings() -> None:
    assert codes(row(personal_id="12345")) == ["ID-PID-FORMAT"]
    found = check(row(personal_id="999190012345"))  # unknown province: warning only
    assert [(f.code, f.severity) for f in found] == [("ID-PID-PROVINCE", "warning")]
    assert codes(row(personal_id="079190012345")) == []
    assert codes(row(personal_id="B1234567")) == []  # a passport number is not checked


def test_header_unit_and_tax_codes() -> None:
    form = D02TS(header(unit_code="dm-01", tax_code="0310000018"), [row()])
    found = rules.check_form(form, rules.Context(period=JUL))
    assert {f.code for f in found} == {"ID-UNIT-FORMAT", "ID-TAX-CHECKDIGIT"}
    assert {f.location.field for f in found} == {"header.unit_code", "header.tax_code"}
    assert codes(row()) == []


# --- code lists and cross-field rules -----------------------------------------------------------


def test_pa_must_be_in_list_600() -> None:
    assert codes(row(pa="XX")) == ["RULE-PA-UNKNOWN"]
    assert codes(row(pa="TM")) == []


def test_voluntary_pa_list_for_d05() -> None:
    def d05(pa: str) -> list[str]:
        form = D05TS(
            D05Header(unit_name="X", unit_code="DM0001A", period=JUL),
            [D05Row(full_name="A", birth_date=PartialDate(1990), pa=pa, from_month=JUL)],
        )
        return [f.code for f in rules.check_form(form, rules.Context(period=JUL))]

    assert d05("DT") == []
    assert d05("TH") == ["RULE-PA-UNKNOWN"]  # a list-600 code is not a voluntary one


def test_kind_agrees_with_pa() -> None:
    assert codes(row(kind="2")) == ["RULE-KIND-PA"]
    assert codes(row(kind="1")) == []


def test_increase_needs_from_month() -> None:
    assert "RULE-FROM-MONTH" in codes(row(from_month=None))
    assert "RULE-FROM-MONTH" not in codes(row(pa="DC", from_month=None))


def test_decrease_needs_to_month() -> None:
    assert codes(row(pa="GH", to_month=None)) == ["RULE-TO-MONTH"]
    assert codes(row(pa="GH", to_month=JUL)) == []


def test_months_ordered() -> None:
    assert codes(row(pa="KL", from_month=JUL, to_month=JUN)) == [
        "RULE-MONTH-ORDER",
        "RULE-LATE-D01-ATTACH",
        "RULE-LATE-BHYT",
    ]
    assert codes(row(pa="KL", from_month=JUL, to_month=Month(2026, 8))) == []


def test_dates_ordered() -> None:
    bad = row(contract_fixed_from=dt.date(2026, 7, 1), contract_fixed_to=dt.date(2026, 6, 30))
    found = check(bad)
    assert [(f.code, f.location.field) for f in found] == [("RULE-DATE-ORDER", "contract_fixed_to")]
    good = row(contract_fixed_from=dt.date(2026, 7, 1), contract_fixed_to=dt.date(2027, 6, 30))
    assert codes(good) == []


def test_indefinite_contract_has_no_end_date() -> None:
    bad = row(contract_indefinite_from=dt.date(2026, 7, 1), contract_fixed_to=dt.date(2027, 6, 30))
    assert codes(bad) == ["RULE-CONTRACT-INDEFINITE"]
    assert codes(row(contract_indefinite_from=dt.date(2026, 7, 1))) == []


def test_allowances_13_to_15_need_a_coefficient() -> None:
    assert codes(row(allowance_position=Decimal("0.3"))) == ["RULE-ALLOWANCE-COEFFICIENT"]
    assert codes(row(allowance_seniority_excess=Decimal(5))) == ["RULE-ALLOWANCE-COEFFICIENT"]
    assert codes(row(salary=Decimal("5"), allowance_position=Decimal("0.3"))) == []
    assert codes(row(allowance_position=Decimal(0))) == []


# --- period rules ----------------------------------------------------------------------------


def test_below_the_floor_of_region_i_in_june_2026_is_an_error() -> None:
    found = check(row(salary=Decimal(5_000_000), from_month=JUN), period=JUN)
    assert [(f.code, f.severity) for f in found] == [("RULE-SALARY-FLOOR", "error")]
    assert "5,310,000" in found[0].message_en
    assert codes(row(salary=Decimal(5_310_000), from_month=JUN), period=JUN) == []
    # salary + col. 16 + col. 17 counts
    ok = row(salary=Decimal(5_000_000), allowance_salary=Decimal(310_000), from_month=JUN)
    assert codes(ok, period=JUN) == []


def test_floor_region_falls_back_to_the_unit_then_region_iv() -> None:
    low = row(salary=Decimal(3_800_000), wage_region=None)
    assert codes(low) == []  # region IV floor 3,700,000: no false error when unknown
    assert codes(low, region=1) == ["RULE-SALARY-FLOOR"]
    assert codes(row(salary=Decimal(3_800_000), wage_region="04"), region=1) == []


def test_floor_not_checked_for_coefficients_and_decreases() -> None:
    assert codes(row(salary=Decimal("4"))) == []
    assert codes(row(pa="GH", salary=Decimal(1_000_000), to_month=JUL)) == []


def test_above_the_cap_is_a_warning() -> None:
    found = check(row(salary=Decimal(60_000_000)))
    assert [(f.code, f.severity) for f in found] == [("RULE-SALARY-CAP", "warning")]
    assert codes(row(salary=Decimal(50_600_000))) == []  # 20 × 2,530,000 from 07/2026
    assert codes(row(salary=Decimal(47_000_000), from_month=JUN), period=JUN) == [
        "RULE-SALARY-CAP"  # 20 × 2,340,000 = 46,800,000 until 06/2026
    ]


def test_missing_parameters_are_reported_once() -> None:
    old = Month(2024, 1)
    found = codes(row(from_month=old), row(stt=2, from_month=old), period=Month(2024, 7), region=1)
    assert found.count("RULE-PARAMETERS") == 1


def test_late_increase_needs_a_d01() -> None:
    late = row(from_month=JUN)
    assert codes(late) == ["RULE-LATE-D01-ATTACH"]  # lone form: a warning
    assert codes(late, dossier_forms=frozenset({"D02-TS"})) == ["RULE-LATE-D01"]
    assert codes(late, dossier_forms=frozenset({"D02-TS", "D01-TS"})) == []
    assert codes(row(from_month=JUL), dossier_forms=frozenset({"D02-TS"})) == []


def test_late_decrease_gives_bhyt_retro_collection_warning() -> None:
    late = row(pa="GH", from_month=JUN, to_month=JUN)
    assert codes(late, dossier_forms=frozenset({"D02-TS", "D01-TS"})) == ["RULE-LATE-BHYT"]
    assert codes(row(pa="GH", to_month=JUL), dossier_forms=frozenset({"D02-TS"})) == []


def test_duplicates_in_one_form() -> None:
    found = check(row(bhxh_code="7912345678"), row(stt=2, bhxh_code="7912345678"))
    assert [(f.code, f.location.row) for f in found] == [("RULE-DUPLICATE", 2)]
    pid = "079190012345"
    assert codes(row(personal_id=pid), row(stt=2, personal_id=pid)) == ["RULE-DUPLICATE"]
    other_pa = row(stt=2, pa="DC", bhxh_code="7912345678")
    assert codes(row(bhxh_code="7912345678"), other_pa) == []


# --- rule sets -------------------------------------------------------------------------------


def test_ruleset_selected_by_period(monkeypatch: pytest.MonkeyPatch) -> None:
    current, found = rules.ruleset_for(JUL)
    assert current.version == "2024.07" and found == []
    _, found = rules.ruleset_for(Month(2020, 1))
    assert [f.code for f in found] == ["RULE-NO-RULESET"]

    later = dataclasses.replace(
        rules.RULESET_2024_07, version="2027.01", effective_from=Month(2027, 1), row_rules={}
    )
    first = dataclasses.replace(rules.RULESET_2024_07, effective_to=Month(2026, 12))
    monkeypatch.setattr(rules, "RULESETS", (first, later))
    assert rules.ruleset_for(JUL)[0].version == "2024.07"
    assert rules.ruleset_for(Month(2027, 3))[0].version == "2027.01"
    assert codes(row(pa="XX"), period=Month(2027, 3)) == []  # the later set has no row rules


# --- dossier rules ---------------------------------------------------------------------------


def dossier(procedure: str | None, present: list[str], **kw: Any) -> list[str]:
    ctx = kw.pop("ctx", None) or rules.Context(period=JUL)
    found = rules.check_dossier(
        procedure_code=procedure,
        form_codes=present,
        forms=kw.pop("forms", []),
        period=JUL,
        unit_code="DM0001A",
        ctx=ctx,
    )
    return [f.code for f in found]


def test_required_forms_of_the_procedure() -> None:
    assert dossier("600", ["D02-TS"]) == []
    assert dossier("600", ["TK1-TS"]) == ["RULE-FORM-REQUIRED"]
    assert dossier("601", ["D02-TS"]) == ["RULE-FORM-REQUIRED"]  # 601 requires a D01-TS
    assert dossier("601", ["D02-TS", "D01-TS", "CT-DK"]) == []
    assert dossier("600", ["D02-TS", "D05-TS"]) == ["RULE-FORM-UNEXPECTED"]
    assert dossier("999", ["D02-TS"]) == ["RULE-PROCEDURE-UNKNOWN"]


def test_forms_agree_with_the_envelope() -> None:
    form = D02TS(header(period=JUN, unit_code="DM0002A"), [row()])
    found = dossier("600", ["D02-TS"], forms=[("D02-TS", form)])
    assert found == ["RULE-PERIOD-MISMATCH", "RULE-UNIT-MISMATCH"]
    assert dossier("600", ["D02-TS"], forms=[("D02-TS", D02TS(header(), [row()]))]) == []


def test_one_person_in_two_participant_lists_of_a_dossier() -> None:
    ctx = rules.Context(period=JUL)
    rules.check_form(D02TS(header(), [row(bhxh_code="7912345678")]), ctx)
    d05 = D05TS(
        D05Header(unit_name="X", unit_code="DM0001A", period=JUL),
        [D05Row(full_name="A", birth_date=PartialDate(1990), pa="TM", bhxh_code="7912345678")],
    )
    rules.check_form(d05, ctx)
    assert dossier("600", ["D02-TS"], ctx=ctx) == ["RULE-DUPLICATE-DOSSIER"]
