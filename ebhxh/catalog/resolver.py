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
from decimal import Decimal

from ebhxh.catalog.models import ContributionRate, MinimumWage, ReferenceSalary
from ebhxh.declarations.parameters import (
    AMBIGUOUS,
    CAP_MULTIPLIER,
    NO_VALUE,
    PERIOD_FORMAT,
    REFERENCE_CAPPED_FUNDS,
    REGION_INVALID,
    REGIONS,
    ROMAN,
    FundRate,
    ParameterError,
    PeriodParameters,
    RegionWage,
    _ambiguous,
    _no_value,
    derive_parameters,
    format_period,
    parse_period,
    parse_region,
)

__all__ = [
    "AMBIGUOUS",
    "CAP_MULTIPLIER",
    "NOT_FOUND",
    "NO_VALUE",
    "PERIOD_FORMAT",
    "REFERENCE_CAPPED_FUNDS",
    "REGIONS",
    "REGION_INVALID",
    "CatalogError",
    "FundRate",
    "PeriodParameters",
    "RegionWage",
    "format_period",
    "minimum_wage_for",
    "minimum_wages_for",
    "parameters_for",
    "parse_period",
    "parse_region",
    "rates_for",
    "reference_salary_for",
]

# The value types, the period/region parsing, the codes and their messages are the rules
# package's (pure, also used offline by payroll software and `ebhxh validate`); this module only
# answers from the database, so the admin's edits count. One definition serves both.
CatalogError = ParameterError
NOT_FOUND = "CAT-NOT-FOUND"


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
    return derive_parameters(
        first_day, wage, reference.amount, reference.legal_basis, rates_for(first_day)
    )
