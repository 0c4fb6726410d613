"""Contribution parameters read from the catalogue data files: the offline twin of
:mod:`ebhxh.catalog.resolver`.

The server answers "what applies to period MM/YYYY in region R" from its database
(``ebhxh.catalog.resolver.parameters_for``). Payroll software and ``ebhxh validate`` run without
Django or a database, so this module reads the same versioned files
(``ebhxh/catalog/data/minimum_wages.json``, ``reference_salaries.json``,
``contribution_rates.json``) and resolves them with the same rules, result fields and error
codes. A test compares both resolvers month by month.

Rules (vss-domain.md §6.2):

* a contribution period applies the values **in force on the first day of its month**, never
  "today": 06/2026 uses the reference salary of 2026-06-01 (2,340,000) and 07/2026 the one of
  2026-07-01 (2,530,000, NĐ 161/2026/NĐ-CP); a value whose first day falls inside a month first
  applies to the following period;
* cap of BHXH (including BHTNLĐ-BNN) and BHYT: 20 × reference salary (Luật BHXH 2024
  Đ.31(1)(đ)) [S];
* cap of BHTN: 20 × the regional minimum wage (Luật Việc làm 2025 Đ.33) [S];
* floor: the regional minimum wage of the workplace region [I].

Pure Python (standard library only): no Django, no pydantic.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, NoReturn

from ebhxh.declarations.findings import Finding, Location

__all__ = [
    "ACCIDENT",
    "AMBIGUOUS",
    "CAP_MULTIPLIER",
    "DATA_DIR",
    "DATA_FILE",
    "FUNDS",
    "HEALTH",
    "NO_VALUE",
    "PENSION",
    "PERIOD_FORMAT",
    "REFERENCE_CAPPED_FUNDS",
    "REGIONS",
    "REGION_INVALID",
    "SICKNESS",
    "UNEMPLOYMENT",
    "FundRate",
    "ParameterDataError",
    "ParameterError",
    "ParameterTable",
    "PeriodParameters",
    "ReferenceSalary",
    "RegionWage",
    "default_parameters",
    "format_period",
    "load_parameters",
    "months",
    "parse_period",
    "parse_region",
]

DATA_DIR: Final = Path(__file__).resolve().parent.parent / "catalog" / "data"

CAP_MULTIPLIER: Final = 20
REGIONS: Final = (1, 2, 3, 4)
ROMAN: Final = {1: "I", 2: "II", 3: "III", 4: "IV"}

# The funds, in the order of ebhxh.catalog.models.ContributionRate.Fund.
PENSION: Final = "pension"  # BHXH hưu trí, tử tuất (HT-TT)
SICKNESS: Final = "sickness"  # BHXH ốm đau, thai sản (ÔĐ-TS)
ACCIDENT: Final = "accident"  # BHTNLĐ-BNN
HEALTH: Final = "health"  # BHYT
UNEMPLOYMENT: Final = "unemployment"  # BHTN
FUNDS: Final = (PENSION, SICKNESS, ACCIDENT, HEALTH, UNEMPLOYMENT)

# Funds whose contribution salary is capped at 20 × the reference salary; BHTN uses the
# regional minimum wage instead.
REFERENCE_CAPPED_FUNDS: Final = frozenset({PENSION, SICKNESS, ACCIDENT, HEALTH})

# Error codes, shared with ebhxh.catalog.resolver.
PERIOD_FORMAT: Final = "CAT-PERIOD-FORMAT"
REGION_INVALID: Final = "CAT-REGION"
NO_VALUE: Final = "CAT-NO-VALUE"
AMBIGUOUS: Final = "CAT-AMBIGUOUS"
# A data file that cannot be used (this module only; the server's loader raises
# CatalogueDataError for the same problems).
DATA_FILE: Final = "CAT-DATA-FILE"

# Same default as ebhxh.catalog.models.DEFAULT_EFFECTIVE_FROM: an item without effective_from.
DEFAULT_EFFECTIVE_FROM: Final = dt.date(2000, 1, 1)

FILES: Final = {
    "minimum_wages": "minimum_wages.json",
    "reference_salaries": "reference_salaries.json",
    "contribution_rates": "contribution_rates.json",
}


class ParameterError(Exception):
    """A parameter question without an answer, with a stable code and a vi/en message.

    ``status`` mirrors ebhxh.catalog.resolver.CatalogError: 400 bad input, 404 nothing found,
    500 the data needs fixing.
    """

    def __init__(self, code: str, message_vi: str, message_en: str, *, status: int = 400) -> None:
        super().__init__(f"{code}: {message_vi}")
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en
        self.status = status

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message_vi": self.message_vi, "message_en": self.message_en}

    def as_finding(self, **where: Any) -> Finding:
        """The error as an error Finding, for the offline validator's report."""
        return Finding(self.code, "error", self.message_vi, self.message_en, Location(**where))


class ParameterDataError(ParameterError):
    """A data file that is missing or malformed; names the file and the item."""

    def __init__(self, detail: str, *, file: str, item: str | None = None) -> None:
        where = ": ".join(part for part in (file, item) if part)
        super().__init__(
            DATA_FILE,
            f"Tệp danh mục không dùng được: {where}: {detail}",
            f"Unusable catalogue file: {where}: {detail}",
            status=500,
        )
        self.file = file
        self.item = item
        self.detail = detail


# --- Values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundRate:
    """Same fields as ebhxh.catalog.resolver.FundRate."""

    fund: str
    employer_rate: Decimal
    employee_rate: Decimal
    effective_from: dt.date
    effective_to: dt.date | None
    legal_basis: str

    @property
    def total_rate(self) -> Decimal:
        return self.employer_rate + self.employee_rate


@dataclass(frozen=True)
class RegionWage:
    """Same fields as ebhxh.catalog.resolver.RegionWage."""

    region: int
    amount: int
    effective_from: dt.date
    effective_to: dt.date | None
    legal_basis: str

    @property
    def name(self) -> str:
        return f"Vùng {ROMAN[self.region]}"

    @property
    def cap_bhtn(self) -> int:
        return CAP_MULTIPLIER * self.amount


@dataclass(frozen=True)
class ReferenceSalary:
    """Lương cơ sở / mức tham chiếu."""

    amount: int
    effective_from: dt.date
    effective_to: dt.date | None
    legal_basis: str


@dataclass(frozen=True)
class PeriodParameters:
    """Everything a payroll needs for one contribution period and region.

    Same fields, properties and meaning as ebhxh.catalog.resolver.PeriodParameters.
    """

    period: str  # MM/YYYY
    first_day: dt.date
    region: int
    minimum_wage: int
    minimum_wage_legal_basis: str
    reference_salary: int
    reference_salary_legal_basis: str
    floor: int  # lowest contribution salary: the regional minimum wage
    cap_bhxh_bhyt: int  # 20 × reference salary
    cap_bhtn: int  # 20 × regional minimum wage
    rates: tuple[FundRate, ...]

    @property
    def employer_total(self) -> Decimal:
        return sum((r.employer_rate for r in self.rates), Decimal(0))

    @property
    def employee_total(self) -> Decimal:
        return sum((r.employee_rate for r in self.rates), Decimal(0))

    def rate(self, fund: str) -> FundRate:
        for rate in self.rates:
            if rate.fund == fund:
                return rate
        raise KeyError(fund)

    def cap_for(self, fund: str) -> int:
        """The cap of the monthly contribution salary of one fund."""
        return self.cap_bhxh_bhyt if fund in REFERENCE_CAPPED_FUNDS else self.cap_bhtn


# --- Periods and regions ----------------------------------------------------------------------

# [0-9], not \d: \d also matches other scripts' digits ("٠٦/٢٠٢٦"), which are no valid period.
_PERIOD_PATTERNS: Final = (
    re.compile(r"(?P<month>[0-9]{2})/(?P<year>[0-9]{4})"),  # MM/YYYY, as on forms and the portal
    re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})"),  # YYYY-MM, ISO 8601
    re.compile(r"(?P<month>[0-9]{2})(?P<year>[0-9]{4})"),  # MMYYYY, the portal's kyKeKhai
)


def parse_period(value: str | dt.date) -> dt.date:
    """The first day of a contribution period given as MM/YYYY, YYYY-MM, MMYYYY or a date."""
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, 1)
    if isinstance(value, str):
        text = value.strip()
        for pattern in _PERIOD_PATTERNS:
            match = pattern.fullmatch(text)
            if match:
                month, year = int(match["month"]), int(match["year"])
                if 1 <= month <= 12 and year >= 1900:
                    return dt.date(year, month, 1)
                break
    raise ParameterError(
        PERIOD_FORMAT,
        f"Kỳ đóng '{value}' không hợp lệ: dùng MM/YYYY, YYYY-MM hoặc MMYYYY, tháng từ 01 đến 12.",
        f"Invalid contribution period '{value}': use MM/YYYY, YYYY-MM or MMYYYY with a month from 01 to 12.",
    )


def format_period(first_day: dt.date) -> str:
    return f"{first_day:%m/%Y}"


def months(start: str | dt.date, end: str | dt.date) -> list[dt.date]:
    """The first days of every period from start to end inclusive (empty when end < start)."""
    first, last = parse_period(start), parse_period(end)
    result: list[dt.date] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        result.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


_ROMAN_TO_REGION: Final = {roman: number for number, roman in ROMAN.items()}


def parse_region(value: int | str) -> int:
    """A minimum-wage region as 1–4, '01'–'04' (the portal's maVungLTT) or 'I'–'IV'."""
    region: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        region = value
    elif isinstance(value, str):
        text = value.strip().upper()
        digits = re.fullmatch(r"[0-9]{1,2}", text)
        region = int(text) if digits else _ROMAN_TO_REGION.get(text)
    if region is not None and region in REGIONS:
        return region
    raise ParameterError(
        REGION_INVALID,
        f"Vùng '{value}' không hợp lệ: dùng 1–4 (hoặc 01–04, I–IV).",
        f"Invalid region '{value}': use 1–4 (or 01–04, I–IV).",
    )


def _no_value(what_vi: str, what_en: str, first_day: dt.date) -> ParameterError:
    return ParameterError(
        NO_VALUE,
        f"Không có {what_vi} có hiệu lực cho kỳ {format_period(first_day)} (ngày {first_day:%d/%m/%Y}).",
        f"No {what_en} in force for period {format_period(first_day)} (on {first_day:%Y-%m-%d}).",
        status=404,
    )


def _ambiguous(what_vi: str, what_en: str, first_day: dt.date) -> ParameterError:
    return ParameterError(
        AMBIGUOUS,
        f"Có nhiều {what_vi} cùng có hiệu lực cho kỳ {format_period(first_day)}: cần sửa danh mục.",
        f"More than one {what_en} in force for period {format_period(first_day)}: the catalogue needs fixing.",
        status=500,
    )


def _in_force(item: RegionWage | ReferenceSalary | FundRate, on: dt.date) -> bool:
    return item.effective_from <= on and (item.effective_to is None or item.effective_to >= on)


# --- The table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParameterTable:
    """The versioned minimum wages, reference salaries and rates; resolves them by period.

    Build it with :func:`load_parameters` (the catalogue files) or directly, e.g. from a payroll
    system's own copy of the values.
    """

    minimum_wages: tuple[RegionWage, ...]
    reference_salaries: tuple[ReferenceSalary, ...]
    rates: tuple[FundRate, ...]
    # Data-file name → its "version" field; informational.
    versions: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    def minimum_wage(self, period: str | dt.date, region: int | str) -> RegionWage:
        """The minimum wage of one region in force for a period."""
        first_day = parse_period(period)
        number = parse_region(region)
        rows = [w for w in self.minimum_wages if w.region == number and _in_force(w, first_day)]
        if not rows:
            raise _no_value(
                f"lương tối thiểu vùng {ROMAN[number]}", f"region {number} minimum wage", first_day
            )
        if len(rows) > 1:
            raise _ambiguous(
                f"lương tối thiểu vùng {ROMAN[number]}", f"region {number} minimum wage", first_day
            )
        return rows[0]

    def minimum_wages_for(self, period: str | dt.date) -> tuple[RegionWage, ...]:
        """The minimum wage of every region in force for a period."""
        first_day = parse_period(period)
        by_region: dict[int, RegionWage] = {}
        for row in sorted(self.minimum_wages, key=lambda w: w.region):
            if not _in_force(row, first_day):
                continue
            if row.region in by_region:
                raise _ambiguous(
                    f"lương tối thiểu vùng {ROMAN[row.region]}",
                    f"region {row.region} minimum wage",
                    first_day,
                )
            by_region[row.region] = row
        missing = [r for r in REGIONS if r not in by_region]
        if missing:
            raise _no_value(
                f"lương tối thiểu vùng {', '.join(ROMAN[r] for r in missing)}",
                f"minimum wage for region(s) {', '.join(map(str, missing))}",
                first_day,
            )
        return tuple(by_region[r] for r in REGIONS)

    def reference_salary(self, period: str | dt.date) -> ReferenceSalary:
        first_day = parse_period(period)
        rows = [r for r in self.reference_salaries if _in_force(r, first_day)]
        if not rows:
            raise _no_value("mức tham chiếu (lương cơ sở)", "reference salary", first_day)
        if len(rows) > 1:
            raise _ambiguous("mức tham chiếu (lương cơ sở)", "reference salary", first_day)
        return rows[0]

    def rates_for(self, period: str | dt.date) -> tuple[FundRate, ...]:
        """One rate per fund, in the order of :data:`FUNDS`."""
        first_day = parse_period(period)
        by_fund: dict[str, FundRate] = {}
        for row in self.rates:
            if not _in_force(row, first_day):
                continue
            if row.fund in by_fund:
                raise _ambiguous(
                    f"tỷ lệ đóng quỹ {row.fund}",
                    f"contribution rate for fund {row.fund}",
                    first_day,
                )
            by_fund[row.fund] = row
        missing = [fund for fund in FUNDS if fund not in by_fund]
        if missing:
            raise _no_value(
                f"tỷ lệ đóng quỹ {', '.join(missing)}",
                f"contribution rate for {', '.join(missing)}",
                first_day,
            )
        return tuple(by_fund[fund] for fund in FUNDS)

    def for_period(self, period: str | dt.date, region: int | str) -> PeriodParameters:
        """Minimum wage, reference salary, floor, caps and rates for a period and region."""
        first_day = parse_period(period)
        region_number = parse_region(region)
        wage = self.minimum_wage(first_day, region_number)
        reference = self.reference_salary(first_day)
        return derive_parameters(
            first_day, wage, reference.amount, reference.legal_basis, self.rates_for(first_day)
        )


def derive_parameters(
    first_day: dt.date,
    wage: RegionWage,
    reference_amount: int,
    reference_legal_basis: str,
    rates: tuple[FundRate, ...],
) -> PeriodParameters:
    """The period's parameters from the values in force: the floor is the regional minimum
    wage, the BHXH/BHYT cap 20 × the reference salary, the BHTN cap 20 × the minimum wage.
    The one place these rules live; the database resolver calls it too."""
    return PeriodParameters(
        period=format_period(first_day),
        first_day=first_day,
        region=wage.region,
        minimum_wage=wage.amount,
        minimum_wage_legal_basis=wage.legal_basis,
        reference_salary=reference_amount,
        reference_salary_legal_basis=reference_legal_basis,
        floor=wage.amount,
        cap_bhxh_bhyt=CAP_MULTIPLIER * reference_amount,
        cap_bhtn=wage.cap_bhtn,
        rates=rates,
    )


# --- Loading the data files -------------------------------------------------------------------

_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class _ItemReader:
    """Reads the fields of one item, raising ParameterDataError that names file and item."""

    def __init__(self, file: str, index: int, raw: Any, keys: tuple[str, ...]) -> None:
        self.file = file
        self.label = f"mục {index + 1} / item {index + 1}"
        if isinstance(raw, dict):
            named = [f"{k}={raw[k]}" for k in ("fund", "region", "effective_from") if k in raw]
            if named:
                self.label += f" ({', '.join(named)})"
        if not isinstance(raw, dict):
            self.fail("phải là một đối tượng JSON / must be a JSON object")
        self.raw: dict[str, Any] = raw
        allowed = {*keys, "effective_from", "effective_to", "legal_basis"}
        unknown = sorted(set(raw) - allowed)
        if unknown:
            self.fail(f"trường không được phép / unknown field(s): {', '.join(unknown)}")

    def fail(self, detail: str) -> NoReturn:
        raise ParameterDataError(detail, file=self.file, item=self.label)

    def required(self, key: str) -> Any:
        if key not in self.raw:
            self.fail(f"{key}: thiếu trường bắt buộc / field required")
        return self.raw[key]

    def integer(self, key: str, *, low: int, high: int | None = None) -> int:
        value = self.required(key)
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(f"{key}: phải là số nguyên / must be an integer")
        if value < low or (high is not None and value > high):
            bound = f"{low}–{high}" if high is not None else f"≥ {low}"
            self.fail(f"{key}: {value} ngoài khoảng / out of range {bound}")
        return int(value)

    def rate(self, key: str) -> Decimal:
        value = self.required(key)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(f"{key}: phải là số thập phân / must be a decimal number")
        try:
            # str() first: a JSON float 0.14 becomes Decimal("0.14"), not its binary expansion.
            rate = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(f"{key}: '{value}' không phải số / is not a number")
        if not rate.is_finite() or not (Decimal(0) <= rate < Decimal(1)):
            self.fail(f"{key}: {value} phải từ 0 đến dưới 1 / must be at least 0 and below 1")
        # The catalogue stores rates as DECIMAL(6, 4) (ContributionRateItem in
        # ebhxh/catalog/datafiles.py): more places would be rounded by the server.
        exponent = rate.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -4:
            self.fail(f"{key}: tối đa 4 chữ số thập phân / at most 4 decimal places")
        return rate.normalize()

    def date(self, key: str, default: dt.date | None) -> dt.date | None:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            self.fail(f"{key}: '{value}' phải là ngày YYYY-MM-DD / must be a date YYYY-MM-DD")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{key}: '{value}' không phải ngày hợp lệ / is not a valid date")

    def effective(self) -> tuple[dt.date, dt.date | None, str]:
        start = self.date("effective_from", DEFAULT_EFFECTIVE_FROM) or DEFAULT_EFFECTIVE_FROM
        end = self.date("effective_to", None)
        if end is not None and end < start:
            self.fail("effective_to trước effective_from / effective_to is before effective_from")
        basis = self.raw.get("legal_basis", "")
        if not isinstance(basis, str):
            self.fail("legal_basis: phải là chuỗi / must be a string")
        return start, end, basis


def _read_file(path: Path, file: str) -> tuple[str, list[Any]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParameterDataError("không tìm thấy tệp / file not found", file=file) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParameterDataError(f"JSON không hợp lệ / invalid JSON: {exc}", file=file) from None
    if not isinstance(raw, dict):
        raise ParameterDataError("phải là một đối tượng JSON / must be a JSON object", file=file)
    unknown = sorted(set(raw) - {"version", "source", "items"})
    if unknown:
        raise ParameterDataError(
            f"trường không được phép / unknown field(s): {', '.join(unknown)}", file=file
        )
    version = raw.get("version")
    if not isinstance(version, str) or not version.strip():
        raise ParameterDataError("version: thiếu hoặc rỗng / missing or empty", file=file)
    source = raw.get("source")
    sources = source if isinstance(source, list) else [source]
    if not sources or not all(isinstance(s, str) and s.strip() for s in sources):
        raise ParameterDataError(
            "source: phải là chuỗi hoặc danh sách chuỗi không rỗng / "
            "must be a non-empty string or list of strings",
            file=file,
        )
    items = raw.get("items")
    if not isinstance(items, list):
        raise ParameterDataError("items: phải là một danh sách / must be a list", file=file)
    return version, items


def _check_overlaps(
    file: str,
    rows: Sequence[RegionWage | ReferenceSalary | FundRate],
    group: Iterable[Any],
    labels: Sequence[str],
) -> None:
    """Items of one group (region, fund, or all) must not be in force on the same day."""
    seen: dict[Any, list[int]] = {}
    for index, key in enumerate(group):
        row = rows[index]
        for other_index in seen.get(key, []):
            other = rows[other_index]
            if row.effective_from == other.effective_from:
                detail = f"trùng khoá với mục {other_index + 1} / duplicate key of item {other_index + 1}"
            elif row.effective_from <= (other.effective_to or dt.date.max) and (
                other.effective_from <= (row.effective_to or dt.date.max)
            ):
                detail = (
                    f"thời gian hiệu lực chồng lên mục {other_index + 1} / "
                    f"effective period overlaps item {other_index + 1}"
                )
            else:
                continue
            raise ParameterDataError(detail, file=file, item=labels[index])
        seen.setdefault(key, []).append(index)


def load_parameters(data_dir: Path = DATA_DIR) -> ParameterTable:
    """Read and validate the three parameter files of a catalogue data directory."""
    versions: dict[str, str] = {}

    def read(name: str) -> tuple[str, list[Any]]:
        file = FILES[name]
        versions[file], items = _read_file(Path(data_dir) / file, file)
        return file, items

    file, items = read("minimum_wages")
    wages: list[RegionWage] = []
    labels: list[str] = []
    for index, raw in enumerate(items):
        reader = _ItemReader(file, index, raw, ("region", "amount"))
        region = reader.integer("region", low=1, high=4)
        amount = reader.integer("amount", low=1)
        wages.append(RegionWage(region, amount, *reader.effective()))
        labels.append(reader.label)
    _check_overlaps(file, wages, (w.region for w in wages), labels)

    file, items = read("reference_salaries")
    references: list[ReferenceSalary] = []
    labels = []
    for index, raw in enumerate(items):
        reader = _ItemReader(file, index, raw, ("amount",))
        amount = reader.integer("amount", low=1)
        references.append(ReferenceSalary(amount, *reader.effective()))
        labels.append(reader.label)
    _check_overlaps(file, references, (None for _ in references), labels)

    file, items = read("contribution_rates")
    rates: list[FundRate] = []
    labels = []
    for index, raw in enumerate(items):
        reader = _ItemReader(file, index, raw, ("fund", "employer_rate", "employee_rate"))
        fund = reader.required("fund")
        if fund not in FUNDS:
            reader.fail(f"fund: '{fund}' không hợp lệ / is not one of {', '.join(FUNDS)}")
        employer = reader.rate("employer_rate")
        employee = reader.rate("employee_rate")
        rates.append(FundRate(fund, employer, employee, *reader.effective()))
        labels.append(reader.label)
    _check_overlaps(file, rates, (r.fund for r in rates), labels)

    return ParameterTable(
        minimum_wages=tuple(wages),
        reference_salaries=tuple(references),
        rates=tuple(rates),
        versions=versions,
    )


@lru_cache(maxsize=1)
def default_parameters() -> ParameterTable:
    """The table of the catalogue files shipped with ebhxh, read once per process."""
    return load_parameters()
