"""The file-based parameter table (no database): parsing, loading, validation, resolution."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from ebhxh.declarations import parameters as p
from ebhxh.declarations.parameters import (
    DATA_DIR,
    FundRate,
    ParameterDataError,
    ParameterError,
    ParameterTable,
    ReferenceSalary,
    RegionWage,
    default_parameters,
    load_parameters,
    months,
    parse_period,
    parse_region,
)

# --- Periods and regions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["06/2026", "2026-06", "062026", " 06/2026 ", dt.date(2026, 6, 17), dt.datetime(2026, 6, 30)],
)
def test_parse_period_accepts_every_documented_form(value):
    assert parse_period(value) == dt.date(2026, 6, 1)


@pytest.mark.parametrize(
    "value",
    [
        "13-2026",
        "13/2026",
        "00/2026",
        "2026-13",
        "6/2026",
        "2026/06",
        "",
        "June",
        202606,
        "06/1899",
        # Digits of other scripts match \d but are no period: refused (see the consistency test).
        "٠٦/٢٠٢٦",
    ],
)
def test_parse_period_rejects_malformed_values_with_a_code(value):
    with pytest.raises(ParameterError) as error:
        parse_period(value)
    assert error.value.code == "CAT-PERIOD-FORMAT"
    assert error.value.status == 400
    assert "MM/YYYY" in error.value.message_vi and "MM/YYYY" in error.value.message_en


@pytest.mark.parametrize(
    ("value", "region"),
    [(1, 1), ("1", 1), ("01", 1), ("04", 4), ("IV", 4), ("iii", 3), (" 2 ", 2)],
)
def test_parse_region_accepts_numbers_portal_codes_and_roman(value, region):
    assert parse_region(value) == region


@pytest.mark.parametrize("value", [0, 5, "05", "V", "", True, "1.0", "001", "²", "٠١", None])
def test_parse_region_rejects_others_with_a_code(value):
    with pytest.raises(ParameterError) as error:
        parse_region(value)
    assert error.value.code == "CAT-REGION"


def test_months_lists_first_days_across_a_year_end():
    assert months("11/2025", "2026-02") == [
        dt.date(2025, 11, 1),
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
    ]
    assert months("02/2026", "01/2026") == []


# --- Resolution from the shipped files ----------------------------------------------------------


@pytest.fixture(scope="module")
def table() -> ParameterTable:
    return load_parameters()


def test_june_2026_region_1(table):
    # NĐ 293/2025: region I 5,310,000 from 2026-01-01; NĐ 73/2024: 2,340,000 until 2026-06-30.
    params = table.for_period("06/2026", 1)
    assert params.period == "06/2026"
    assert params.first_day == dt.date(2026, 6, 1)
    assert params.minimum_wage == params.floor == 5_310_000
    assert params.reference_salary == 2_340_000
    assert params.cap_bhxh_bhyt == 20 * 2_340_000 == 46_800_000
    assert params.cap_bhtn == 20 * 5_310_000 == 106_200_000


def test_july_2026_switches_to_the_new_reference_salary(table):
    # NĐ 161/2026: 2,530,000 from 2026-07-01, so the BHXH/BHYT cap becomes 50,600,000.
    params = table.for_period("2026-07", "01")
    assert params.reference_salary == 2_530_000
    assert params.cap_bhxh_bhyt == 50_600_000
    assert params.reference_salary_legal_basis.startswith("Nghị định 161/2026")


def test_december_2025_region_4_uses_the_2024_minimum_wage(table):
    params = table.for_period("122025", "IV")
    assert params.minimum_wage == 3_450_000
    assert params.cap_bhtn == 69_000_000
    assert params.minimum_wage_legal_basis == "Nghị định 74/2024/NĐ-CP"


@pytest.mark.parametrize(
    ("region", "cap"), [(1, 106_200_000), (2, 94_600_000), (3, 82_800_000), (4, 74_000_000)]
)
def test_bhtn_caps_2026(table, region, cap):
    assert table.for_period("06/2026", region).cap_bhtn == cap


@pytest.mark.parametrize("period", ["07/2024", "06/2025", "07/2025", "01/2026", "12/2030"])
def test_rates_sum_to_21_5_and_10_5_percent(table, period):
    params = table.for_period(period, 1)
    assert params.employer_total == Decimal("0.215")
    assert params.employee_total == Decimal("0.105")
    assert [r.fund for r in params.rates] == list(p.FUNDS)
    assert params.rate("accident").employer_rate == Decimal("0.005")
    with pytest.raises(KeyError):
        params.rate("pension-bis")


def test_caps_per_fund(table):
    params = table.for_period("07/2026", 2)
    assert params.cap_for("pension") == params.cap_for("health") == 50_600_000
    assert params.cap_for("accident") == params.cap_for("sickness") == 50_600_000
    assert params.cap_for("unemployment") == 20 * 4_730_000


def test_minimum_wages_for_lists_the_four_regions(table):
    wages = table.minimum_wages_for("07/2026")
    assert [(w.region, w.amount, w.name) for w in wages] == [
        (1, 5_310_000, "Vùng I"),
        (2, 4_730_000, "Vùng II"),
        (3, 4_140_000, "Vùng III"),
        (4, 3_700_000, "Vùng IV"),
    ]


def test_a_period_before_the_catalogue_has_no_value(table):
    with pytest.raises(ParameterError) as error:
        table.for_period("06/2024", 1)
    assert error.value.code == "CAT-NO-VALUE"
    assert error.value.status == 404
    assert "06/2024" in error.value.message_vi and "06/2024" in error.value.message_en
    finding = error.value.as_finding(field="tuThang")
    assert (finding.code, finding.severity, finding.location.field) == (
        "CAT-NO-VALUE",
        "error",
        "tuThang",
    )


def test_default_parameters_are_read_once():
    assert default_parameters() is default_parameters()
    assert default_parameters().versions["minimum_wages.json"]


# --- Resolution rules on a hand-made table -----------------------------------------------------


def _table(**overrides) -> ParameterTable:
    rates = tuple(
        FundRate(fund, Decimal("0.01"), Decimal(0), dt.date(2024, 1, 1), None, "")
        for fund in p.FUNDS
    )
    values = {
        "minimum_wages": tuple(
            RegionWage(region, 4_000_000, dt.date(2024, 1, 1), None, "") for region in p.REGIONS
        ),
        "reference_salaries": (
            ReferenceSalary(2_000_000, dt.date(2024, 1, 1), dt.date(2026, 7, 14), "old"),
            ReferenceSalary(2_500_000, dt.date(2026, 7, 15), None, "new"),
        ),
        "rates": rates,
    }
    values.update(overrides)
    return ParameterTable(**values)


def test_a_value_starting_mid_month_applies_from_the_next_period():
    # The period applies what is in force on the first day of its month (vss-domain.md §6.2).
    table = _table()
    assert table.for_period("07/2026", 1).reference_salary == 2_000_000
    assert table.for_period("08/2026", 1).reference_salary == 2_500_000


def test_overlapping_values_in_a_hand_made_table_are_ambiguous():
    table = _table(
        reference_salaries=(
            ReferenceSalary(2_000_000, dt.date(2024, 1, 1), None, ""),
            ReferenceSalary(2_500_000, dt.date(2026, 7, 1), None, ""),
        )
    )
    with pytest.raises(ParameterError) as error:
        table.for_period("08/2026", 1)
    assert (error.value.code, error.value.status) == ("CAT-AMBIGUOUS", 500)


def test_a_missing_fund_rate_is_named():
    table = _table(rates=_table().rates[:-1])
    with pytest.raises(ParameterError) as error:
        table.for_period("08/2026", 1)
    assert error.value.code == "CAT-NO-VALUE"
    assert "unemployment" in error.value.message_en


# --- Loading and validating the files -----------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    for name in p.FILES.values():
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def _edit(directory: Path, file: str, change) -> None:
    path = directory / file
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _load_error(directory: Path) -> ParameterDataError:
    with pytest.raises(ParameterDataError) as error:
        load_parameters(directory)
    assert error.value.code == "CAT-DATA-FILE"
    assert isinstance(error.value, ParameterError)
    return error.value


def test_a_copy_of_the_shipped_files_loads_identically(data_dir):
    assert load_parameters(data_dir) == load_parameters()


def test_a_missing_file_is_named(data_dir):
    (data_dir / "reference_salaries.json").unlink()
    error = _load_error(data_dir)
    assert error.file == "reference_salaries.json"
    assert "file not found" in error.message_en


def test_invalid_json_is_named(data_dir):
    (data_dir / "minimum_wages.json").write_text("{", encoding="utf-8")
    error = _load_error(data_dir)
    assert error.file == "minimum_wages.json"
    assert "invalid JSON" in error.detail


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (lambda d: d.pop("version"), "version"),
        (lambda d: d.update(items={}), "items"),
        (lambda d: d.update(extra=1), "unknown field"),
        (lambda d: d.update(source=[]), "source"),
    ],
)
def test_the_file_shape_is_checked(data_dir, change, detail):
    _edit(data_dir, "minimum_wages.json", change)
    error = _load_error(data_dir)
    assert error.file == "minimum_wages.json" and error.item is None
    assert detail in error.detail


@pytest.mark.parametrize(
    ("file", "index", "change", "detail"),
    [
        ("minimum_wages.json", 2, lambda i: i.update(region=5), "region: 5 ngoài khoảng"),
        ("minimum_wages.json", 2, lambda i: i.update(region="3"), "region: phải là số nguyên"),
        ("minimum_wages.json", 0, lambda i: i.pop("amount"), "amount: thiếu"),
        ("minimum_wages.json", 0, lambda i: i.update(amount=0), "amount: 0 ngoài khoảng"),
        ("minimum_wages.json", 0, lambda i: i.update(amount=True), "must be an integer"),
        ("minimum_wages.json", 0, lambda i: i.update(note="x"), "unknown field(s): note"),
        ("minimum_wages.json", 0, lambda i: i.update(effective_to="2024-06-30"), "before"),
        ("minimum_wages.json", 0, lambda i: i.update(effective_from="01/07/2024"), "YYYY-MM-DD"),
        ("minimum_wages.json", 0, lambda i: i.update(effective_from="2024-02-30"), "valid date"),
        ("reference_salaries.json", 1, lambda i: i.update(legal_basis=1), "legal_basis"),
        ("contribution_rates.json", 0, lambda i: i.update(fund="pensions"), "fund: 'pensions'"),
        ("contribution_rates.json", 0, lambda i: i.update(employer_rate="1"), "below 1"),
        ("contribution_rates.json", 0, lambda i: i.update(employer_rate="-0.1"), "below 1"),
        ("contribution_rates.json", 0, lambda i: i.update(employer_rate="abc"), "not a number"),
        ("contribution_rates.json", 0, lambda i: i.update(employer_rate="0.12345"), "4 decimal"),
        ("contribution_rates.json", 0, lambda i: i.update(employee_rate=None), "decimal number"),
    ],
)
def test_a_bad_item_is_named_with_its_position_and_key(data_dir, file, index, change, detail):
    _edit(data_dir, file, lambda doc: change(doc["items"][index]))
    error = _load_error(data_dir)
    assert error.file == file
    assert error.item is not None and error.item.startswith(f"mục {index + 1} / item {index + 1}")
    assert detail in error.detail
    assert file in error.message_vi and file in error.message_en


def test_a_json_float_rate_is_read_as_its_decimal_text(data_dir):
    def to_float(doc):
        doc["items"][0]["employer_rate"] = 0.14

    _edit(data_dir, "contribution_rates.json", to_float)
    assert load_parameters(data_dir).rates[0].employer_rate == Decimal("0.14")


def test_an_item_that_is_not_an_object_is_named(data_dir):
    _edit(data_dir, "reference_salaries.json", lambda doc: doc["items"].append(2_530_000))
    error = _load_error(data_dir)
    assert error.item == "mục 3 / item 3"


def test_overlapping_minimum_wages_of_one_region_are_refused(data_dir):
    def overlap(doc):
        doc["items"][0]["effective_to"] = "2026-01-31"  # region 1, overlaps NĐ 293/2025

    _edit(data_dir, "minimum_wages.json", overlap)
    error = _load_error(data_dir)
    assert error.item is not None and "region=1" in error.item
    assert "overlaps item 1" in error.detail


def test_a_duplicate_key_is_refused(data_dir):
    def duplicate(doc):
        doc["items"].append(dict(doc["items"][0]))

    _edit(data_dir, "contribution_rates.json", duplicate)
    error = _load_error(data_dir)
    assert "duplicate key of item 1" in error.detail


def test_an_omitted_effective_from_defaults_like_the_catalogue(data_dir):
    def open_start(doc):
        del doc["items"][0]["effective_from"]

    _edit(data_dir, "reference_salaries.json", open_start)
    table = load_parameters(data_dir)
    assert table.reference_salaries[0].effective_from == dt.date(2000, 1, 1)
    assert table.reference_salary("01/2010").amount == 2_340_000


# --- Purity ----------------------------------------------------------------------------------


def test_the_rules_modules_import_without_django():
    """Payroll software and `ebhxh validate` import these without Django (issue 4)."""
    code = (
        "import sys\n"
        "import ebhxh.declarations.parameters, ebhxh.declarations.calculator\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'django', 'ninja', 'celery', 'pydantic'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
