"""The one resolver: what applies to contribution period MM/YYYY in minimum-wage region R.

Rule (vss-domain.md §6.2): a contribution period applies the values **in force on the first
day of its month**. Values are never resolved by "today". So 06/2026 uses the reference salary
of 2026-06-01 (2,340,000) and 07/2026 the one of 2026-07-01 (2,530,000, NĐ 161/2026); a value
whose first day falls inside a month first applies to the following period.

Caps (mức trần) of the monthly contribution salary:

* BHXH (including BHTNLĐ-BNN) and BHYT: 20 × reference salary (Luật BHXH 2024 Đ.31(1)(đ));
* BHTN: 20 × the regional minimum wage (Luật Việc làm 2025 Đ.33).

The floor of the contribution salary of a labour-contract employee is the regional minimum
wage of the workplace (vss-domain.md §6.2, tagged [I]).

Every error is a CatalogError with a stable code and a message in Vietnamese and English.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import get_language

from ebhxh.catalog.models import ContributionRate, MinimumWage, ReferenceSalary

CAP_MULTIPLIER = 20
REGIONS = (1, 2, 3, 4)
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}

# Funds whose contribution salary is capped at 20 × the reference salary; BHTN uses the
# regional minimum wage instead.
REFERENCE_CAPPED_FUNDS = frozenset(
    {
        ContributionRate.Fund.PENSION,
        ContributionRate.Fund.SICKNESS,
        ContributionRate.Fund.ACCIDENT,
        ContributionRate.Fund.HEALTH,
    }
)

PERIOD_FORMAT = "CAT-PERIOD-FORMAT"
REGION_INVALID = "CAT-REGION"
NO_VALUE = "CAT-NO-VALUE"
AMBIGUOUS = "CAT-AMBIGUOUS"
NOT_FOUND = "CAT-NOT-FOUND"


class CatalogError(Exception):
    """A catalogue question that has no answer: bad input (400) or nothing found (404)."""

    # The API returns both languages at once, so the pair is stored rather than translated.
    def __init__(self, code: str, message_vi: str, message_en: str, *, status: int = 400) -> None:
        super().__init__(f"{code}: {message_vi}")
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en
        self.status = status

    @property
    def message(self) -> str:
        """The message in the active language (Vietnamese unless English is active)."""
        return self.message_en if (get_language() or "vi").startswith("en") else self.message_vi

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message_vi": self.message_vi, "message_en": self.message_en}


@dataclass(frozen=True)
class FundRate:
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
class PeriodParameters:
    """Everything a payroll needs for one contribution period and region."""

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


_PERIOD_PATTERNS = (
    re.compile(
        r"^(?P<month>\d{2})/(?P<year>\d{4})$", re.ASCII
    ),  # MM/YYYY, as on forms and the portal
    re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})$", re.ASCII),  # YYYY-MM, ISO 8601
    re.compile(r"^(?P<month>\d{2})(?P<year>\d{4})$", re.ASCII),  # MMYYYY, the portal's kyKeKhai
)


def parse_period(value: str | dt.date) -> dt.date:
    """The first day of a contribution period given as MM/YYYY, YYYY-MM, MMYYYY or a date."""
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, 1)
    if isinstance(value, str):
        text = value.strip()
        for pattern in _PERIOD_PATTERNS:
            match = pattern.match(text)
            if match:
                month, year = int(match["month"]), int(match["year"])
                if 1 <= month <= 12 and year >= 1900:
                    return dt.date(year, month, 1)
                break
    raise CatalogError(
        PERIOD_FORMAT,
        f"Kỳ đóng '{value}' không hợp lệ: dùng MM/YYYY, YYYY-MM hoặc MMYYYY, tháng từ 01 đến 12.",
        f"Invalid contribution period '{value}': use MM/YYYY, YYYY-MM or MMYYYY with a month from 01 to 12.",
    )


def format_period(first_day: dt.date) -> str:
    return f"{first_day:%m/%Y}"


def parse_region(value: int | str) -> int:
    """A minimum-wage region as 1–4, '01'–'04' (the portal's maVungLTT) or 'I'–'IV'."""
    region: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        region = value
    elif isinstance(value, str):
        text = value.strip().upper()
        if text.isascii() and text.isdigit() and len(text) <= 2:
            region = int(text)
        else:
            region = {roman: number for number, roman in ROMAN.items()}.get(text)
    if region in REGIONS:
        assert region is not None
        return region
    raise CatalogError(
        REGION_INVALID,
        f"Vùng '{value}' không hợp lệ: dùng 1–4 (hoặc 01–04, I–IV).",
        f"Invalid region '{value}': use 1–4 (or 01–04, I–IV).",
    )


def _no_value(what_vi: str, what_en: str, first_day: dt.date) -> CatalogError:
    return CatalogError(
        NO_VALUE,
        f"Không có {what_vi} có hiệu lực cho kỳ {format_period(first_day)} (ngày {first_day:%d/%m/%Y}).",
        f"No {what_en} in force for period {format_period(first_day)} (on {first_day:%Y-%m-%d}).",
        status=404,
    )


def _ambiguous(what_vi: str, what_en: str, first_day: dt.date) -> CatalogError:
    return CatalogError(
        AMBIGUOUS,
        f"Có nhiều {what_vi} cùng có hiệu lực cho kỳ {format_period(first_day)}: cần sửa danh mục.",
        f"More than one {what_en} in force for period {format_period(first_day)}: the catalogue needs fixing.",
        status=500,
    )


def minimum_wages_for(period: str | dt.date) -> tuple[RegionWage, ...]:
    """The minimum wage of every region in force for a period."""
    first_day = parse_period(period)
    by_region: dict[int, RegionWage] = {}
    for row in MinimumWage.objects.in_force(first_day).order_by("region"):
        if row.region in by_region:
            raise _ambiguous(
                f"lương tối thiểu vùng {ROMAN[row.region]}",
                f"region {row.region} minimum wage",
                first_day,
            )
        by_region[row.region] = RegionWage(
            row.region, row.amount, row.effective_from, row.effective_to, row.legal_basis
        )
    missing = [r for r in REGIONS if r not in by_region]
    if missing:
        raise _no_value(
            f"lương tối thiểu vùng {', '.join(ROMAN[r] for r in missing)}",
            f"minimum wage for region(s) {', '.join(map(str, missing))}",
            first_day,
        )
    return tuple(by_region[r] for r in REGIONS)


def minimum_wage_for(period: str | dt.date, region: int | str) -> RegionWage:
    """The minimum wage of one region in force for a period."""
    first_day = parse_period(period)
    number = parse_region(region)
    rows = list(MinimumWage.objects.in_force(first_day).filter(region=number)[:2])
    if not rows:
        raise _no_value(
            f"lương tối thiểu vùng {ROMAN[number]}", f"region {number} minimum wage", first_day
        )
    if len(rows) > 1:
        raise _ambiguous(
            f"lương tối thiểu vùng {ROMAN[number]}", f"region {number} minimum wage", first_day
        )
    row = rows[0]
    return RegionWage(row.region, row.amount, row.effective_from, row.effective_to, row.legal_basis)


def reference_salary_for(period: str | dt.date) -> ReferenceSalary:
    first_day = parse_period(period)
    rows = list(ReferenceSalary.objects.in_force(first_day)[:2])
    if not rows:
        raise _no_value("mức tham chiếu (lương cơ sở)", "reference salary", first_day)
    if len(rows) > 1:
        raise _ambiguous("mức tham chiếu (lương cơ sở)", "reference salary", first_day)
    return rows[0]


def rates_for(period: str | dt.date) -> tuple[FundRate, ...]:
    """One rate per fund, in the order of ContributionRate.Fund."""
    first_day = parse_period(period)
    by_fund: dict[str, FundRate] = {}
    for row in ContributionRate.objects.in_force(first_day):
        if row.fund in by_fund:
            raise _ambiguous(
                f"tỷ lệ đóng quỹ {row.fund}", f"contribution rate for fund {row.fund}", first_day
            )
        by_fund[row.fund] = FundRate(
            fund=row.fund,
            employer_rate=Decimal(row.employer_rate).normalize(),
            employee_rate=Decimal(row.employee_rate).normalize(),
            effective_from=row.effective_from,
            effective_to=row.effective_to,
            legal_basis=row.legal_basis,
        )
    missing = [fund for fund in ContributionRate.Fund.values if fund not in by_fund]
    if missing:
        raise _no_value(
            f"tỷ lệ đóng quỹ {', '.join(missing)}",
            f"contribution rate for {', '.join(missing)}",
            first_day,
        )
    return tuple(by_fund[fund] for fund in ContributionRate.Fund.values)


def parameters_for(period: str | dt.date, region: int | str) -> PeriodParameters:
    """Minimum wage, reference salary, floor, caps and rates for a period and region."""
    first_day = parse_period(period)
    region_number = parse_region(region)
    wage = minimum_wage_for(first_day, region_number)
    reference = reference_salary_for(first_day)
    return PeriodParameters(
        period=format_period(first_day),
        first_day=first_day,
        region=region_number,
        minimum_wage=wage.amount,
        minimum_wage_legal_basis=wage.legal_basis,
        reference_salary=reference.amount,
        reference_salary_legal_basis=reference.legal_basis,
        floor=wage.amount,
        cap_bhxh_bhyt=CAP_MULTIPLIER * reference.amount,
        cap_bhtn=wage.cap_bhtn,
        rates=rates_for(first_day),
    )
