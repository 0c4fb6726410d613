"""The monthly contribution calculator: what a unit owes for a period, per employee, fund and
share, and how increases, decreases and adjustments (D02 "phương án") change it.

Pure Python (standard library only), so payroll software and ``ebhxh validate`` can use it
without Django. The rules, their sources and confidence tags are in docs/contributions.md;
the short version:

* contribution salary (D02 columns 12–17): salary (an amount in VND, or a coefficient × the
  reference salary of the period) plus the allowances that count; coefficient salaries add
  the position allowance (coefficient), the beyond-scale seniority allowance (% of the salary)
  and the professional seniority allowance (% of salary + position + beyond-scale) [I];
* floor: a VND salary below the regional minimum wage of the employee's region is computed on
  the minimum wage, with a warning ``CALC-BELOW-FLOOR`` (the law sets the minimum
  contribution salary; the validator reports the declaration as an error elsewhere) [I];
* caps: HT-TT, ÔĐ-TS, TNLĐ-BNN and BHYT at 20 × reference salary (Luật BHXH 2024
  Đ.31(1)(đ)) [S]; BHTN at 20 × the regional minimum wage of the employee's region (Luật Việc
  làm 2025 Đ.33) [S];
* rounding: each amount (employee × fund × share) is rounded half up to a whole đồng (VND has
  no minor unit); totals add the rounded amounts; the unrounded Decimal is kept as ``*_exact``
  [I until the agency's rule is confirmed].
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final, Literal

from ebhxh.declarations.findings import Finding, Location, warning
from ebhxh.declarations.parameters import (
    ACCIDENT,
    FUNDS,
    HEALTH,
    PENSION,
    ROMAN,
    SICKNESS,
    UNEMPLOYMENT,
    ParameterTable,
    PeriodParameters,
    default_parameters,
    format_period,
    months,
    parse_period,
    parse_region,
)

__all__ = [
    "C12_COLUMNS",
    "CHANGE_TYPES",
    "Arrears",
    "CalculationError",
    "Change",
    "ChangeEffect",
    "ChangeType",
    "Direction",
    "EmployeeBasis",
    "EmployeeContribution",
    "FundAmount",
    "FundLine",
    "MonthStatus",
    "Note",
    "UnitContribution",
    "arrears",
    "calculate",
    "calculate_employee",
    "month_effect",
    "round_vnd",
    "total_effect",
]

ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)
HUNDRED: Final = Decimal(100)

# Finding and note codes.
BELOW_FLOOR: Final = "CALC-BELOW-FLOOR"
DUPLICATE: Final = "CALC-DUPLICATE"
LATE_INCREASE: Final = "CALC-LATE-INCREASE"
LATE_DECREASE: Final = "CALC-LATE-DECREASE"
LATE_ADJUST: Final = "CALC-LATE-ADJUST"
NOTE_UNPAID_LEAVE: Final = "CALC-UNPAID-LEAVE"
NOTE_MATERNITY: Final = "CALC-MATERNITY"
NOTE_NO_BHTN: Final = "CALC-NO-BHTN"
NOTE_ACCIDENT_RATE: Final = "CALC-ACCIDENT-RATE"
NOTE_BHYT_STILL_DUE: Final = "CALC-BHYT-STILL-DUE"
NOTE_NO_INTEREST: Final = "CALC-NO-INTEREST"

# The columns of the C12-TS statement (portal API 137: bhxh, bhyt, bhtn, bhtnld, cong) and the
# funds each adds up; "bhxh" = HT-TT + ÔĐ-TS because TNLĐ-BNN has its own column [I].
C12_COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "bhxh": (PENSION, SICKNESS),
    "bhyt": (HEALTH,),
    "bhtn": (UNEMPLOYMENT,),
    "bhtnld": (ACCIDENT,),
}

Tag = Literal["C", "S", "I"]


def round_vnd(amount: Decimal) -> int:
    """Round half up to a whole đồng (VND has no minor unit) [I]."""
    return int(amount.quantize(ONE, rounding=ROUND_HALF_UP))


class CalculationError(ValueError):
    """Input the calculator cannot use, with a stable code and a vi/en message."""

    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message_vi": self.message_vi, "message_en": self.message_en}

    def as_finding(self, **where: Any) -> Finding:
        return Finding(self.code, "error", self.message_vi, self.message_en, Location(**where))


@dataclass(frozen=True)
class Note:
    """Why an amount is what it is (not a problem), with the confidence tag of the rule."""

    code: str
    tag: Tag
    message_vi: str
    message_en: str


class MonthStatus(StrEnum):
    """The employee's situation in the month."""

    CONTRIBUTING = "contributing"
    # Not working and unpaid for 14 working days or more in the month: nothing is due.
    UNPAID_LEAVE_FULL_MONTH = "unpaid_leave_full_month"
    # On maternity leave for 14 working days or more in the month: nothing is due from the
    # unit; BHYT is paid by the BHXH fund.
    MATERNITY = "maternity"


def _decimal(value: object, *, what: str, code: str = "CALC-AMOUNT") -> Decimal:
    # Floats are refused: a binary float is not an exact amount of money.
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise CalculationError(
            code,
            f"{what}: phải là số nguyên hoặc Decimal (không nhận float).",
            f"{what}: must be an int or a Decimal (floats are refused).",
        )
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise CalculationError(
            code, f"{what}: không phải là số.", f"{what}: is not a number."
        ) from None
    if not number.is_finite() or number < 0:
        raise CalculationError(
            code, f"{what}: phải là số không âm.", f"{what}: must be zero or more."
        )
    return number


def _rate(value: object) -> Decimal:
    rate = _decimal(value, what="accident_rate", code="CALC-RATE")
    if rate >= ONE:
        raise CalculationError(
            "CALC-RATE",
            "accident_rate: tỷ lệ phải nhỏ hơn 1 (0.003 = 0,3 %).",
            "accident_rate: the rate must be below 1 (0.003 = 0.3 %).",
        )
    return rate


@dataclass(frozen=True)
class EmployeeBasis:
    """What the calculator needs about one employee for one month (D02 columns 12–17).

    Give exactly one of ``salary_amount`` (VND) and ``salary_coefficient`` (× the reference
    salary of the period, state pay scales). The position allowance and the two seniority
    allowances exist only with a coefficient salary (the portal enables those columns only
    then [C, SRC-FINIZI]). ``region`` defaults to the unit's. Amounts are ints or Decimals;
    they are stored as Decimals.
    """

    identifier: str
    salary_amount: int | Decimal | None = None
    salary_coefficient: Decimal | None = None
    position_allowance_coefficient: Decimal = ZERO  # col. 13 (phụ cấp chức vụ)
    seniority_beyond_scale_percent: Decimal = ZERO  # col. 14 (thâm niên vượt khung, %)
    seniority_professional_percent: Decimal = ZERO  # col. 15 (thâm niên nghề, %)
    salary_allowance: int | Decimal = 0  # col. 16 (phụ cấp lương), VND
    additional_allowances: int | Decimal = 0  # col. 17 (các khoản bổ sung), VND
    region: int | str | None = None
    foreign_worker: bool = False
    bhtn: bool = True
    accident_rate: Decimal | None = None  # TNLĐ-BNN employer rate override, e.g. 0.003 [I]
    status: MonthStatus | str = MonthStatus.CONTRIBUTING

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # normalising a frozen dataclass
        if (self.salary_amount is None) == (self.salary_coefficient is None):
            raise CalculationError(
                "CALC-SALARY",
                "Cần đúng một trong hai: tiền lương (đồng) hoặc hệ số lương.",
                "Give exactly one of salary_amount (VND) and salary_coefficient.",
            )
        if self.salary_amount is not None:
            set_(self, "salary_amount", _decimal(self.salary_amount, what="salary_amount"))
            for name in (
                "position_allowance_coefficient",
                "seniority_beyond_scale_percent",
                "seniority_professional_percent",
            ):
                if _decimal(getattr(self, name), what=name) != 0:
                    raise CalculationError(
                        "CALC-ALLOWANCE",
                        f"{name}: chỉ dùng khi tiền lương là hệ số (cột 13–15 của D02).",
                        f"{name}: only applies to a coefficient salary (D02 columns 13–15).",
                    )
        else:
            set_(
                self,
                "salary_coefficient",
                _decimal(self.salary_coefficient, what="salary_coefficient"),
            )
        for name in (
            "position_allowance_coefficient",
            "seniority_beyond_scale_percent",
            "seniority_professional_percent",
            "salary_allowance",
            "additional_allowances",
        ):
            set_(self, name, _decimal(getattr(self, name), what=name))
        if self.region is not None:
            set_(self, "region", parse_region(self.region))
        if self.accident_rate is not None:
            set_(self, "accident_rate", _rate(self.accident_rate))
        try:
            set_(self, "status", MonthStatus(self.status))
        except ValueError:
            raise CalculationError(
                "CALC-STATUS",
                f"Trạng thái tháng '{self.status}' không hợp lệ.",
                f"Unknown month status '{self.status}': use one of "
                f"{', '.join(s.value for s in MonthStatus)}.",
            ) from None

    @property
    def is_coefficient(self) -> bool:
        return self.salary_coefficient is not None

    def monthly_salary(self, reference_salary: int) -> Decimal:
        """The salary and allowances that count, before floor and caps, unrounded."""
        if self.salary_coefficient is not None:
            reference = Decimal(reference_salary)
            base = Decimal(self.salary_coefficient) * reference
            position = Decimal(self.position_allowance_coefficient) * reference
            # NĐ 204/2004/NĐ-CP Đ.6: beyond-scale seniority is a % of the salary; professional
            # seniority a % of salary + leadership position allowance + beyond-scale [I].
            beyond = base * Decimal(self.seniority_beyond_scale_percent) / HUNDRED
            professional = (
                (base + position + beyond) * Decimal(self.seniority_professional_percent) / HUNDRED
            )
            total = base + position + beyond + professional
        else:
            total = Decimal(self.salary_amount or 0)
        return total + Decimal(self.salary_allowance) + Decimal(self.additional_allowances)


@dataclass(frozen=True)
class FundAmount:
    """Amounts of one fund: contribution salary (salary fund), employer and employee shares."""

    fund: str
    salary: Decimal = ZERO
    employer: int = 0
    employee: int = 0
    employer_exact: Decimal = ZERO
    employee_exact: Decimal = ZERO

    @property
    def total(self) -> int:
        return self.employer + self.employee

    @property
    def total_exact(self) -> Decimal:
        return self.employer_exact + self.employee_exact

    def __add__(self, other: FundAmount) -> FundAmount:
        assert other.fund == self.fund
        return FundAmount(
            self.fund,
            self.salary + other.salary,
            self.employer + other.employer,
            self.employee + other.employee,
            self.employer_exact + other.employer_exact,
            self.employee_exact + other.employee_exact,
        )

    def __neg__(self) -> FundAmount:
        return FundAmount(
            self.fund,
            -self.salary,
            -self.employer,
            -self.employee,
            -self.employer_exact,
            -self.employee_exact,
        )

    def __sub__(self, other: FundAmount) -> FundAmount:
        return self + (-other)


@dataclass(frozen=True)
class FundLine:
    """One employee, one fund, one month."""

    fund: str
    participates: bool
    salary: Decimal  # contribution salary after floor and cap; 0 when nothing is due
    capped: bool
    employer_rate: Decimal
    employee_rate: Decimal
    employer_exact: Decimal
    employee_exact: Decimal
    employer: int
    employee: int

    @property
    def total(self) -> int:
        return self.employer + self.employee

    @property
    def amount(self) -> FundAmount:
        return FundAmount(
            self.fund,
            self.salary,
            self.employer,
            self.employee,
            self.employer_exact,
            self.employee_exact,
        )


def _sum(amounts: Iterable[FundAmount]) -> tuple[FundAmount, ...]:
    totals = {fund: FundAmount(fund) for fund in FUNDS}
    for amount in amounts:
        totals[amount.fund] = totals[amount.fund] + amount
    return tuple(totals[fund] for fund in FUNDS)


def _c12(amounts: Sequence[FundAmount]) -> dict[str, int]:
    by_fund = {a.fund: a.total for a in amounts}
    columns = {name: sum(by_fund[f] for f in funds) for name, funds in C12_COLUMNS.items()}
    columns["cong"] = sum(columns.values())
    return columns


class _Amounts:
    """Shared accessors of results that hold one FundAmount per fund."""

    def _amounts(self) -> Sequence[FundAmount]:
        raise NotImplementedError

    def fund(self, fund: str) -> FundAmount:
        for amount in self._amounts():
            if amount.fund == fund:
                return amount
        raise KeyError(fund)

    @property
    def employer(self) -> int:
        return sum(a.employer for a in self._amounts())

    @property
    def employee(self) -> int:
        return sum(a.employee for a in self._amounts())

    @property
    def total(self) -> int:
        return self.employer + self.employee

    @property
    def employer_exact(self) -> Decimal:
        return sum((a.employer_exact for a in self._amounts()), ZERO)

    @property
    def employee_exact(self) -> Decimal:
        return sum((a.employee_exact for a in self._amounts()), ZERO)

    def c12(self) -> dict[str, int]:
        """Totals in the columns of the C12-TS statement: bhxh, bhyt, bhtn, bhtnld, cong."""
        return _c12(self._amounts())


@dataclass(frozen=True)
class EmployeeContribution(_Amounts):
    """What is due for one employee in one month."""

    identifier: str
    period: str  # MM/YYYY
    region: int
    status: MonthStatus
    monthly_salary: Decimal  # declared salary + allowances, before floor and caps
    contribution_salary: Decimal  # after the floor, before the caps; 0 when nothing is due
    lines: tuple[FundLine, ...]
    parameters: PeriodParameters
    notes: tuple[Note, ...] = ()
    findings: tuple[Finding, ...] = ()

    def _amounts(self) -> Sequence[FundAmount]:
        return [line.amount for line in self.lines]

    def line(self, fund: str) -> FundLine:
        for line in self.lines:
            if line.fund == fund:
                return line
        raise KeyError(fund)


@dataclass(frozen=True)
class UnitContribution(_Amounts):
    """What a unit owes for one period: per employee, per fund and in total."""

    period: str  # MM/YYYY
    region: int  # the unit's region
    parameters: PeriodParameters  # of the unit's region
    employees: tuple[EmployeeContribution, ...]
    totals: tuple[FundAmount, ...]  # per fund: salary fund, rounded and exact shares
    findings: tuple[Finding, ...] = ()

    def _amounts(self) -> Sequence[FundAmount]:
        return self.totals

    @property
    def headcount(self) -> int:
        """Employees with something due this month."""
        return sum(1 for e in self.employees if e.total)


def _note_maternity() -> Note:
    return Note(
        NOTE_MATERNITY,
        "I",
        "Nghỉ thai sản từ 14 ngày làm việc trở lên trong tháng: đơn vị và người lao động không "
        "đóng; thời gian này vẫn tính là thời gian đóng BHXH và quỹ BHXH đóng BHYT.",
        "Maternity leave of 14 working days or more in the month: neither the unit nor the "
        "employee contributes; the month still counts as contributed and the BHXH fund pays BHYT.",
    )


def _note_unpaid() -> Note:
    return Note(
        NOTE_UNPAID_LEAVE,
        "S",
        "Không làm việc và không hưởng lương từ 14 ngày làm việc trở lên trong tháng: không đóng "
        "BHXH, BHYT, BHTN tháng đó.",
        "Not working and unpaid for 14 working days or more in the month: no BHXH, BHYT or BHTN "
        "for that month.",
    )


def calculate_employee(
    period: str | dt.date,
    employee: EmployeeBasis,
    *,
    parameters: ParameterTable | None = None,
    region_of_unit: int | str,
    accident_rate: Decimal | None = None,
    row: int | None = None,
) -> EmployeeContribution:
    """What is due for one employee in one period, at that period's parameters."""
    table = parameters or default_parameters()
    region = parse_region(employee.region if employee.region is not None else region_of_unit)
    params = table.for_period(period, region)
    status = MonthStatus(employee.status)
    monthly = employee.monthly_salary(params.reference_salary)
    notes: list[Note] = []
    findings: list[Finding] = []

    contributing = status is MonthStatus.CONTRIBUTING
    if status is MonthStatus.MATERNITY:
        notes.append(_note_maternity())
    elif status is MonthStatus.UNPAID_LEAVE_FULL_MONTH:
        notes.append(_note_unpaid())

    salary = monthly
    # The minimum wage is the floor of labour-contract salaries in VND; state pay-scale
    # (coefficient) salaries follow their scale [I].
    if contributing and not employee.is_coefficient and monthly < params.floor:
        salary = Decimal(params.floor)
        floor_vi = f"{params.floor:,}".replace(",", ".")  # 3.700.000, the Vietnamese grouping
        findings.append(
            warning(
                BELOW_FLOOR,
                f"Tiền lương đóng thấp hơn lương tối thiểu vùng {ROMAN[params.region]} kỳ "
                f"{params.period} ({floor_vi} đồng): số phải đóng được tính trên mức lương "
                "tối thiểu.",
                f"The contribution salary is below the region {params.region} minimum wage of "
                f"{params.period} ({params.floor:,} VND): the amounts are computed on the minimum "
                "wage.",
                row=row,
                field="tienLuong",
            )
        )

    bhtn = employee.bhtn and not employee.foreign_worker
    if contributing and not bhtn:
        notes.append(
            Note(
                NOTE_NO_BHTN,
                "I",
                "Không tham gia BHTN"
                + (" (người lao động nước ngoài)." if employee.foreign_worker else "."),
                "No BHTN" + (" (foreign worker)." if employee.foreign_worker else "."),
            )
        )
    override = employee.accident_rate if employee.accident_rate is not None else accident_rate
    if override is not None:
        override = _rate(override)
        if contributing:
            notes.append(
                Note(
                    NOTE_ACCIDENT_RATE,
                    "I",
                    f"Tỷ lệ BHTNLĐ-BNN {override * HUNDRED:g} % thay cho mức chung "
                    "(đơn vị được chấp thuận mức thấp hơn).",
                    f"TNLĐ-BNN rate {override * HUNDRED:g} % instead of the general rate "
                    "(unit approved for the lower rate).",
                )
            )

    lines: list[FundLine] = []
    for rate in params.rates:
        participates = contributing and (rate.fund != UNEMPLOYMENT or bhtn)
        employer_rate = rate.employer_rate
        if rate.fund == ACCIDENT and override is not None:
            employer_rate = override
        if not participates:
            lines.append(
                FundLine(
                    rate.fund,
                    False,
                    ZERO,
                    False,
                    employer_rate,
                    rate.employee_rate,
                    ZERO,
                    ZERO,
                    0,
                    0,
                )
            )
            continue
        cap = params.cap_for(rate.fund)
        base = min(salary, Decimal(cap))
        employer_exact = base * employer_rate
        employee_exact = base * rate.employee_rate
        lines.append(
            FundLine(
                fund=rate.fund,
                participates=True,
                salary=base,
                capped=salary > cap,
                employer_rate=employer_rate,
                employee_rate=rate.employee_rate,
                employer_exact=employer_exact,
                employee_exact=employee_exact,
                employer=round_vnd(employer_exact),
                employee=round_vnd(employee_exact),
            )
        )
    return EmployeeContribution(
        identifier=employee.identifier,
        period=params.period,
        region=region,
        status=status,
        monthly_salary=monthly,
        contribution_salary=salary if contributing else ZERO,
        lines=tuple(lines),
        parameters=params,
        notes=tuple(notes),
        findings=tuple(findings),
    )


def calculate(
    period: str | dt.date,
    employees: Sequence[EmployeeBasis],
    *,
    parameters: ParameterTable | None = None,
    region_of_unit: int | str,
    accident_rate: Decimal | None = None,
) -> UnitContribution:
    """What a unit owes for one period: per employee, per fund and share, and in total.

    ``accident_rate`` is the unit's TNLĐ-BNN employer rate when it is approved for a lower
    rate (0.003) [I]; an employee's own ``accident_rate`` wins over it.
    """
    table = parameters or default_parameters()
    unit_region = parse_region(region_of_unit)
    unit_params = table.for_period(period, unit_region)
    results: list[EmployeeContribution] = []
    findings: list[Finding] = []
    seen: dict[str, int] = {}
    for index, employee in enumerate(employees):
        row = index + 1
        result = calculate_employee(
            unit_params.first_day,
            employee,
            parameters=table,
            region_of_unit=unit_region,
            accident_rate=accident_rate,
            row=row,
        )
        results.append(result)
        findings.extend(result.findings)
        if employee.identifier in seen:
            findings.append(
                warning(
                    DUPLICATE,
                    f"Người lao động ở dòng {row} trùng mã với dòng {seen[employee.identifier]}: "
                    "số phải đóng bị tính hai lần.",
                    f"The employee on row {row} has the same identifier as row "
                    f"{seen[employee.identifier]}: the amounts are counted twice.",
                    row=row,
                )
            )
        else:
            seen[employee.identifier] = row
    return UnitContribution(
        period=unit_params.period,
        region=unit_region,
        parameters=unit_params,
        employees=tuple(results),
        totals=_sum(line.amount for result in results for line in result.lines),
        findings=tuple(findings),
    )


# --- Arrears (procedure 601) ------------------------------------------------------------------


@dataclass(frozen=True)
class Arrears(_Amounts):
    """Contributions for past months, each month at its own parameters (no interest)."""

    identifier: str
    first_period: str
    last_period: str
    months: tuple[EmployeeContribution, ...]
    totals: tuple[FundAmount, ...]
    notes: tuple[Note, ...] = ()

    def _amounts(self) -> Sequence[FundAmount]:
        return self.totals


def _no_interest() -> Note:
    return Note(
        NOTE_NO_INTEREST,
        "I",
        "Chưa gồm tiền lãi chậm đóng (mục B.5 của C12).",
        "Late-payment interest (C12 section B.5) is not included.",
    )


def arrears(
    employee: EmployeeBasis,
    from_period: str | dt.date,
    to_period: str | dt.date,
    *,
    parameters: ParameterTable | None = None,
    region_of_unit: int | str,
    accident_rate: Decimal | None = None,
) -> Arrears:
    """Arrears (truy đóng, procedure 601) for one employee: the sum of every month's amount at
    that month's own minimum wage, reference salary, caps and rates."""
    table = parameters or default_parameters()
    first, last = parse_period(from_period), parse_period(to_period)
    if last < first:
        raise CalculationError(
            "CALC-PERIOD-RANGE",
            "Kỳ kết thúc trước kỳ bắt đầu.",
            "The last period is before the first one.",
        )
    results = tuple(
        calculate_employee(
            month,
            employee,
            parameters=table,
            region_of_unit=region_of_unit,
            accident_rate=accident_rate,
        )
        for month in months(first, last)
    )
    return Arrears(
        identifier=employee.identifier,
        first_period=format_period(first),
        last_period=format_period(last),
        months=results,
        totals=_sum(line.amount for result in results for line in result.lines),
        notes=(_no_interest(),),
    )


# --- Changes (D02 phương án) ------------------------------------------------------------------


class Direction(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"
    ADJUST = "adjust"


@dataclass(frozen=True)
class ChangeType:
    code: str
    direction: Direction
    funds: frozenset[str]  # the funds the change affects
    # A decrease reported in or after its month leaves BHYT due for the months up to the
    # reporting month (vss-domain.md §3.5 timing rules) [S].
    bhyt_timing_rule: bool = False


_ALL: Final = frozenset(FUNDS)


def _types() -> dict[str, ChangeType]:
    increase, decrease, adjust = Direction.INCREASE, Direction.DECREASE, Direction.ADJUST
    types = [
        # Increases (portal list 600, API 082 [C]).
        ChangeType("TM", increase, _ALL),  # tăng mới
        ChangeType("TH", increase, _ALL),  # tăng mới hợp đồng
        ChangeType("TD", increase, _ALL),  # tăng do chuyển đơn vị
        ChangeType("TC", increase, _ALL),  # tăng do chuyển tỉnh
        ChangeType("ON", increase, _ALL),  # đi làm lại
        ChangeType("AD", increase, _ALL),  # bổ sung tăng nguyên lương
        ChangeType("AT", increase, _ALL),  # truy đóng theo MLCS tại thời điểm
        ChangeType("TL", increase, frozenset({ACCIDENT})),  # tăng tham gia TNLĐ, BNN
        ChangeType("TN", increase, frozenset({UNEMPLOYMENT})),  # tăng tham gia thất nghiệp
        ChangeType("TV", increase, frozenset({PENSION})),  # tăng tham gia HTTT
        ChangeType("TT", increase, frozenset({HEALTH})),  # bổ sung tăng quỹ KCB
        # Adjustments.
        ChangeType("DC", adjust, _ALL),  # điều chỉnh lương
        ChangeType("CD", adjust, _ALL),  # điều chỉnh chức danh (money only if the salary changes)
        ChangeType("DL", adjust, frozenset({ACCIDENT})),  # điều chỉnh tham gia TNLĐ, BNN
        ChangeType("DN", adjust, frozenset({UNEMPLOYMENT})),  # điều chỉnh tham gia thất nghiệp
        # Decreases. The timing rule is reported for GH/KL/OF [S]; applying it to GD, GC and
        # TS is an inference [I]. SB and the partial decreases are corrections: no BHYT rule.
        ChangeType("GH", decrease, _ALL, bhyt_timing_rule=True),  # giảm hẳn
        ChangeType("GD", decrease, _ALL, bhyt_timing_rule=True),  # giảm do chuyển đơn vị
        ChangeType("GC", decrease, _ALL, bhyt_timing_rule=True),  # giảm do chuyển tỉnh
        ChangeType("KL", decrease, _ALL, bhyt_timing_rule=True),  # nghỉ không lương
        ChangeType("OF", decrease, _ALL, bhyt_timing_rule=True),  # nghỉ ốm đau / không lương
        ChangeType("TS", decrease, _ALL, bhyt_timing_rule=True),  # thai sản
        ChangeType("SB", decrease, _ALL),  # bổ sung giảm nguyên lương
        ChangeType("GL", decrease, frozenset({ACCIDENT})),  # giảm tham gia TNLĐ, BNN
        ChangeType("GN", decrease, frozenset({UNEMPLOYMENT})),  # giảm tham gia thất nghiệp
        ChangeType("GV", decrease, frozenset({PENSION})),  # giảm tham gia HTTT
        ChangeType("TU", decrease, frozenset({HEALTH})),  # bổ sung giảm quỹ KCB
    ]
    return {t.code: t for t in types}


CHANGE_TYPES: Final[Mapping[str, ChangeType]] = _types()


@dataclass(frozen=True)
class Change:
    """One D02 row: a change type (PA) from ``from_period`` (tuThang) to ``to_period``
    (denThang, open when None) for the employee of ``basis``.

    For a decrease, ``basis`` is what the employee was contributing on; for an adjustment,
    ``basis`` is the new situation and ``previous`` the old one.
    """

    code: str
    basis: EmployeeBasis
    from_period: str | dt.date
    to_period: str | dt.date | None = None
    previous: EmployeeBasis | None = None

    def __post_init__(self) -> None:
        code = self.code.strip().upper()
        object.__setattr__(self, "code", code)
        if code not in CHANGE_TYPES:
            raise CalculationError(
                "CALC-CHANGE-CODE",
                f"Phương án '{code}' không được máy tính hỗ trợ.",
                f"Change type '{code}' is not supported by the calculator.",
            )
        if self.to_period is not None and parse_period(self.to_period) < parse_period(
            self.from_period
        ):
            raise CalculationError(
                "CALC-PERIOD-RANGE",
                "Đến tháng trước từ tháng.",
                "to_period is before from_period.",
            )
        if CHANGE_TYPES[code].direction is Direction.ADJUST:
            if self.previous is None:
                raise CalculationError(
                    "CALC-CHANGE-PREVIOUS",
                    "Điều chỉnh cần mức cũ (previous).",
                    "An adjustment needs the previous basis.",
                )
            if self.previous.identifier != self.basis.identifier:
                raise CalculationError(
                    "CALC-CHANGE-PREVIOUS",
                    "Mức cũ và mức mới phải cùng một người lao động.",
                    "The previous and the new basis must be the same employee.",
                )

    @property
    def type(self) -> ChangeType:
        return CHANGE_TYPES[self.code]


Section = Literal["current", "prior"]


@dataclass(frozen=True)
class ChangeEffect:
    """The effect of one change on one contribution month, as seen in the reporting month.

    ``section`` "current" is the reporting month itself (C12 B.3, phải đóng tăng/giảm);
    "prior" a past month (C12 B.4, điều chỉnh phải đóng kỳ trước). ``before`` and ``after`` are
    the amounts of the affected funds for this employee and month; ``deltas`` = after − before.
    """

    identifier: str
    code: str
    direction: Direction
    month: str  # MM/YYYY, the contribution month
    section: Section
    before: tuple[FundAmount, ...]
    after: tuple[FundAmount, ...]
    notes: tuple[Note, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def deltas(self) -> tuple[FundAmount, ...]:
        return tuple(a - b for a, b in zip(self.after, self.before, strict=True))

    def delta(self, fund: str) -> FundAmount:
        for amount in self.deltas:
            if amount.fund == fund:
                return amount
        raise KeyError(fund)

    def due(self, fund: str) -> FundAmount:
        """What remains due for this fund, employee and month after the change."""
        for amount in self.after:
            if amount.fund == fund:
                return amount
        raise KeyError(fund)

    @property
    def employer(self) -> int:
        return sum(a.employer for a in self.deltas)

    @property
    def employee(self) -> int:
        return sum(a.employee for a in self.deltas)

    @property
    def total(self) -> int:
        return self.employer + self.employee


def total_effect(
    effects: Iterable[ChangeEffect], section: Section | None = None
) -> tuple[FundAmount, ...]:
    """The deltas per fund of several effects (of one section, or all)."""
    return _sum(d for e in effects if section in (None, e.section) for d in e.deltas)


def _restricted(result: EmployeeContribution, funds: frozenset[str]) -> list[FundAmount]:
    return [line.amount if line.fund in funds else FundAmount(line.fund) for line in result.lines]


def month_effect(
    period: str | dt.date,
    changes: Sequence[Change],
    *,
    parameters: ParameterTable | None = None,
    region_of_unit: int | str,
    accident_rate: Decimal | None = None,
) -> list[ChangeEffect]:
    """The effect of D02 changes reported in ``period`` on the amount due, per affected month.

    A change from ``from_period`` to ``to_period`` affects every month from ``from_period`` to
    the reporting month (or ``to_period`` if earlier); months after the reporting month are not
    affected yet (they are computed by :func:`calculate` when they come). Past months are
    computed at their own parameters. Simplifications [I]: before a decrease the unit was
    charged in full; an adjustment compares ``previous`` with ``basis``; no interest.
    """
    table = parameters or default_parameters()
    reported = parse_period(period)
    effects: list[ChangeEffect] = []
    for change in changes:
        kind = change.type
        start = parse_period(change.from_period)
        end = reported
        if change.to_period is not None:
            end = min(end, parse_period(change.to_period))
        basis = dataclasses.replace(change.basis, status=MonthStatus.CONTRIBUTING)
        late = start < reported
        for index, month in enumerate(months(start, end)):
            full = calculate_employee(
                month,
                basis,
                parameters=table,
                region_of_unit=region_of_unit,
                accident_rate=accident_rate,
            )
            notes: list[Note] = list(full.notes)
            findings: list[Finding] = list(full.findings)
            affected = _restricted(full, kind.funds)
            nothing = [FundAmount(fund) for fund in FUNDS]
            if kind.direction is Direction.INCREASE:
                before, after = nothing, affected
            elif kind.direction is Direction.ADJUST:
                assert change.previous is not None
                old = calculate_employee(
                    month,
                    dataclasses.replace(change.previous, status=MonthStatus.CONTRIBUTING),
                    parameters=table,
                    region_of_unit=region_of_unit,
                    accident_rate=accident_rate,
                )
                before, after = _restricted(old, kind.funds), affected
            else:
                before, after = affected, nothing
                if kind.bhyt_timing_rule and HEALTH in kind.funds:
                    # Reported in or after its month: the BHYT card ran until the end of the
                    # reporting month, so BHYT stays due for every month up to it [S].
                    after = [a if a.fund == HEALTH else FundAmount(a.fund) for a in affected]
                    notes.append(
                        Note(
                            NOTE_BHYT_STILL_DUE,
                            "S",
                            f"Báo giảm {change.code} trong hoặc sau tháng {format_period(month)}: "
                            "vẫn phải đóng BHYT tháng này.",
                            f"Decrease {change.code} reported in or after "
                            f"{format_period(month)}: BHYT for the month is still due.",
                        )
                    )
            if late and index == 0:
                findings.append(_late_finding(change, reported))
            effects.append(
                ChangeEffect(
                    identifier=change.basis.identifier,
                    code=change.code,
                    direction=kind.direction,
                    month=format_period(month),
                    section="current" if month == reported else "prior",
                    before=tuple(before),
                    after=tuple(after),
                    notes=tuple(notes),
                    findings=tuple(findings),
                )
            )
    return effects


def _late_finding(change: Change, reported: dt.date) -> Finding:
    start = format_period(parse_period(change.from_period))
    if change.type.direction is Direction.DECREASE:
        return warning(
            LATE_DECREASE,
            f"Báo giảm {change.code} từ {start} nộp chậm (kỳ {format_period(reported)}): BHYT các "
            "tháng chậm vẫn phải đóng; cần kèm D01-TS với văn bản chứng minh.",
            f"Decrease {change.code} from {start} reported late (in {format_period(reported)}): "
            "BHYT stays due for the late months; a D01-TS with the supporting document is "
            "required.",
            field="tuThang",
        )
    if change.type.direction is Direction.ADJUST:
        return warning(
            LATE_ADJUST,
            f"Điều chỉnh {change.code} từ {start} nộp chậm (kỳ {format_period(reported)}): "
            "điều chỉnh số phải đóng các tháng trước; có thể cần kèm D01-TS.",
            f"Adjustment {change.code} from {start} reported late (in "
            f"{format_period(reported)}): the past months are adjusted; a D01-TS may be required.",
            field="tuThang",
        )
    return warning(
        LATE_INCREASE,
        f"{change.code} từ {start} nộp chậm (kỳ {format_period(reported)}): truy đóng các tháng "
        "trước, cần kèm D01-TS.",
        f"{change.code} from {start} reported late (in {format_period(reported)}): arrears for "
        "the past months; a D01-TS is required.",
        field="tuThang",
    )
