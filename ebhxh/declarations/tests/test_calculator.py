"""Worked examples of the contribution calculator, written from the law, not from the code.

Every expected amount is computed by hand in the comments. The values in force:

* rates (Luật BHXH 2024 Đ.33, Đ.34 as cited by the catalogue; Luật ATVSLĐ 2015 Đ.44 for
  TNLĐ-BNN; Luật BHYT Đ.13; Luật Việc làm 2025 Đ.33) [S], employer / employee:
  HT-TT 14 % / 8 %, ÔĐ-TS 3 % / 0, TNLĐ-BNN 0.5 % / 0, BHYT 3 % / 1.5 %, BHTN 1 % / 1 %
  → 21.5 % / 10.5 %;
* reference salary (mức tham chiếu = lương cơ sở): 2,340,000 until 30/06/2026 (NĐ 73/2024),
  2,530,000 from 01/07/2026 (NĐ 161/2026); BHXH/BHYT cap = 20 × it (Luật BHXH 2024
  Đ.31(1)(đ)): 46,800,000 in 06/2026, 50,600,000 in 07/2026;
* regional minimum wage from 01/01/2026 (NĐ 293/2025): I 5,310,000 · II 4,730,000 ·
  III 4,140,000 · IV 3,700,000; BHTN cap = 20 × it (Luật Việc làm 2025 Đ.33): I 106,200,000 ·
  IV 74,000,000.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ebhxh.declarations.calculator import (
    CHANGE_TYPES,
    CalculationError,
    Change,
    Direction,
    EmployeeBasis,
    MonthStatus,
    arrears,
    calculate,
    calculate_employee,
    month_effect,
    round_vnd,
    total_effect,
)
from ebhxh.declarations.parameters import FUNDS, ParameterError, load_parameters

TABLE = load_parameters()


def shares(result):
    """{fund: (employer, employee)} of a result with per-fund amounts."""
    return {fund: (result.fund(fund).employer, result.fund(fund).employee) for fund in FUNDS}


def deltas(effect):
    return {fund: (effect.delta(fund).employer, effect.delta(fund).employee) for fund in FUNDS}


def one(period, basis, *, region=1, **kwargs):
    return calculate_employee(period, basis, parameters=TABLE, region_of_unit=region, **kwargs)


# --- (a) a region I worker at 10,000,000 in 06/2026 ---------------------------------------------


def test_a_region_1_worker_at_10_million():
    # 10,000,000 is above the floor (5,310,000) and below both caps: every fund uses it.
    # HT-TT 14 % = 1,400,000 / 8 % = 800,000; ÔĐ-TS 3 % = 300,000; TNLĐ-BNN 0.5 % = 50,000;
    # BHYT 3 % = 300,000 / 1.5 % = 150,000; BHTN 1 % = 100,000 / 1 % = 100,000.
    # Employer 21.5 % = 2,150,000; employee 10.5 % = 1,050,000.
    result = one("06/2026", EmployeeBasis("A", salary_amount=10_000_000))
    assert shares(result) == {
        "pension": (1_400_000, 800_000),
        "sickness": (300_000, 0),
        "accident": (50_000, 0),
        "health": (300_000, 150_000),
        "unemployment": (100_000, 100_000),
    }
    assert (result.employer, result.employee, result.total) == (2_150_000, 1_050_000, 3_200_000)
    assert result.contribution_salary == result.monthly_salary == 10_000_000
    assert all(line.salary == 10_000_000 and not line.capped for line in result.lines)
    assert result.findings == () and result.notes == ()
    # C12 columns: bhxh = HT-TT + ÔĐ-TS = 2,200,000 + 300,000; bhyt 450,000; bhtn 200,000;
    # bhtnld 50,000; cong 3,200,000.
    assert result.c12() == {
        "bhxh": 2_500_000,
        "bhyt": 450_000,
        "bhtn": 200_000,
        "bhtnld": 50_000,
        "cong": 3_200_000,
    }


# --- (b) a high earner: the BHXH/BHYT cap moves on 01/07/2026 -----------------------------------


def test_a_high_earner_in_june_2026_is_capped_at_46_8_million():
    # BHXH and BHYT on min(60,000,000, 20 × 2,340,000 = 46,800,000) = 46,800,000:
    #   HT-TT 14 % = 6,552,000 / 8 % = 3,744,000; ÔĐ-TS 3 % = 1,404,000; TNLĐ 0.5 % = 234,000;
    #   BHYT 3 % = 1,404,000 / 1.5 % = 702,000.
    # BHTN on 60,000,000 (cap 106,200,000 not binding): 1 % = 600,000 each.
    # Employer 20.5 % × 46.8M + 600,000 = 9,594,000 + 600,000 = 10,194,000;
    # employee 9.5 % × 46.8M + 600,000 = 4,446,000 + 600,000 = 5,046,000.
    result = one("06/2026", EmployeeBasis("B", salary_amount=60_000_000))
    assert shares(result) == {
        "pension": (6_552_000, 3_744_000),
        "sickness": (1_404_000, 0),
        "accident": (234_000, 0),
        "health": (1_404_000, 702_000),
        "unemployment": (600_000, 600_000),
    }
    assert (result.employer, result.employee) == (10_194_000, 5_046_000)
    assert result.line("pension").salary == 46_800_000 and result.line("pension").capped
    assert result.line("unemployment").salary == 60_000_000
    assert not result.line("unemployment").capped


def test_a_high_earner_in_july_2026_is_capped_at_50_6_million():
    # BHXH/BHYT on 20 × 2,530,000 = 50,600,000:
    #   HT-TT 7,084,000 / 4,048,000; ÔĐ-TS 1,518,000; TNLĐ 253,000; BHYT 1,518,000 / 759,000.
    # BHTN unchanged: 600,000 each.
    # Employer 20.5 % × 50.6M = 10,373,000 + 600,000 = 10,973,000;
    # employee 9.5 % × 50.6M = 4,807,000 + 600,000 = 5,407,000.
    result = one("07/2026", EmployeeBasis("B", salary_amount=60_000_000))
    assert shares(result) == {
        "pension": (7_084_000, 4_048_000),
        "sickness": (1_518_000, 0),
        "accident": (253_000, 0),
        "health": (1_518_000, 759_000),
        "unemployment": (600_000, 600_000),
    }
    assert (result.employer, result.employee) == (10_973_000, 5_407_000)


# --- (c) region IV: the floor, and both caps binding --------------------------------------------


def test_a_region_4_worker_at_the_minimum_wage():
    # 3,700,000 = the region IV minimum wage of 2026 (NĐ 293/2025): no warning.
    # HT-TT 518,000 / 296,000; ÔĐ-TS 111,000; TNLĐ 18,500; BHYT 111,000 / 55,500;
    # BHTN 37,000 / 37,000. Employer 21.5 % = 795,500; employee 10.5 % = 388,500.
    result = one("06/2026", EmployeeBasis("C", salary_amount=3_700_000), region=4)
    assert shares(result) == {
        "pension": (518_000, 296_000),
        "sickness": (111_000, 0),
        "accident": (18_500, 0),
        "health": (111_000, 55_500),
        "unemployment": (37_000, 37_000),
    }
    assert (result.employer, result.employee) == (795_500, 388_500)
    assert result.findings == ()


def test_a_salary_below_the_floor_is_computed_on_the_floor_with_a_warning():
    # Decision: the contribution salary may not be below the regional minimum wage (NĐ 158/2025
    # and QĐ 595/QĐ-BHXH Đ.6 [I/S]), so 3,500,000 declared in region IV is computed on
    # 3,700,000 (same amounts as above) and reported as CALC-BELOW-FLOOR.
    result = one("06/2026", EmployeeBasis("C", salary_amount=3_500_000), region=4, row=7)
    assert (result.employer, result.employee) == (795_500, 388_500)
    assert result.monthly_salary == 3_500_000
    assert result.contribution_salary == 3_700_000
    [finding] = result.findings
    assert (finding.code, finding.severity) == ("CALC-BELOW-FLOOR", "warning")
    assert (finding.location.row, finding.location.field) == (7, "tienLuong")
    assert "3,700,000" in finding.message_en
    assert "vùng IV" in finding.message_vi and "3.700.000 đồng" in finding.message_vi


def test_a_region_4_earner_above_both_caps():
    # 80,000,000 in region IV, 06/2026:
    #   BHXH/BHYT on 46,800,000: 6,552,000 / 3,744,000; 1,404,000; 234,000; 1,404,000 / 702,000;
    #   BHTN on min(80,000,000, 20 × 3,700,000 = 74,000,000) = 74,000,000: 740,000 each.
    # Employer 9,594,000 + 740,000 = 10,334,000; employee 4,446,000 + 740,000 = 5,186,000.
    result = one("06/2026", EmployeeBasis("D", salary_amount=80_000_000), region=4)
    assert shares(result) == {
        "pension": (6_552_000, 3_744_000),
        "sickness": (1_404_000, 0),
        "accident": (234_000, 0),
        "health": (1_404_000, 702_000),
        "unemployment": (740_000, 740_000),
    }
    assert (result.employer, result.employee) == (10_334_000, 5_186_000)
    assert result.line("unemployment").salary == 74_000_000
    assert result.line("unemployment").capped and result.line("pension").capped


def test_the_bhtn_cap_follows_the_employees_region_not_the_units():
    # Same 80,000,000 employee working in region I of a region IV unit: BHTN cap 106,200,000
    # does not bind, BHTN = 1 % × 80,000,000 = 800,000 each.
    basis = EmployeeBasis("D", salary_amount=80_000_000, region=1)
    result = one("06/2026", basis, region=4)
    assert result.region == 1
    assert shares(result)["unemployment"] == (800_000, 800_000)


# --- (d) a coefficient salary before and after 01/07/2026 ---------------------------------------


def test_a_coefficient_salary_follows_the_reference_salary_of_each_month():
    basis = EmployeeBasis("E", salary_coefficient=Decimal("2.34"))
    # 06/2026: 2.34 × 2,340,000 = 5,475,600.
    #   HT-TT 14 % = 766,584 / 8 % = 438,048; ÔĐ-TS 164,268; TNLĐ 27,378;
    #   BHYT 164,268 / 82,134; BHTN 54,756 / 54,756.
    #   Employer 21.5 % = 1,177,254; employee 10.5 % = 574,938.
    june = one("06/2026", basis)
    assert june.monthly_salary == 5_475_600
    assert shares(june) == {
        "pension": (766_584, 438_048),
        "sickness": (164_268, 0),
        "accident": (27_378, 0),
        "health": (164_268, 82_134),
        "unemployment": (54_756, 54_756),
    }
    assert (june.employer, june.employee) == (1_177_254, 574_938)
    # 07/2026: 2.34 × 2,530,000 = 5,920,200.
    #   HT-TT 828,828 / 473,616; ÔĐ-TS 177,606; TNLĐ 29,601; BHYT 177,606 / 88,803;
    #   BHTN 59,202 / 59,202. Employer 1,272,843; employee 621,621.
    july = one("07/2026", basis)
    assert july.monthly_salary == 5_920_200
    assert shares(july) == {
        "pension": (828_828, 473_616),
        "sickness": (177_606, 0),
        "accident": (29_601, 0),
        "health": (177_606, 88_803),
        "unemployment": (59_202, 59_202),
    }
    assert (july.employer, july.employee) == (1_272_843, 621_621)


def test_coefficient_allowances_count_toward_the_contribution_salary():
    # 07/2026, coefficient 4.40, position allowance 0.30, beyond-scale seniority 5 %,
    # professional seniority 10 %, salary allowance 500,000 VND:
    #   salary       4.40 × 2,530,000                  = 11,132,000
    #   position     0.30 × 2,530,000                  =    759,000
    #   beyond-scale 5 % × 11,132,000                  =    556,600
    #   professional 10 % × (11,132,000 + 759,000 + 556,600) = 1,244,760
    #   + 500,000 → 14,192,360; HT-TT employer 14 % = 1,986,930.4 → 1,986,930.
    basis = EmployeeBasis(
        "F",
        salary_coefficient=Decimal("4.40"),
        position_allowance_coefficient=Decimal("0.30"),
        seniority_beyond_scale_percent=Decimal(5),
        seniority_professional_percent=Decimal(10),
        salary_allowance=500_000,
    )
    result = one("07/2026", basis)
    assert result.monthly_salary == 14_192_360
    assert result.line("pension").employer_exact == Decimal("1986930.40")
    assert result.line("pension").employer == 1_986_930


def test_the_minimum_wage_floor_does_not_apply_to_a_coefficient_salary():
    # 1.00 × 2,340,000 = 2,340,000 < 3,700,000 (region IV): state pay-scale salaries follow
    # their scale, not the enterprise minimum wage [I]. Employer 21.5 % = 503,100.
    result = one("06/2026", EmployeeBasis("G", salary_coefficient=Decimal(1)), region=4)
    assert result.contribution_salary == 2_340_000
    assert result.employer == 503_100
    assert result.findings == ()


def test_amounts_are_rounded_half_up_per_employee_fund_and_share():
    # 07/2026, coefficient 2.67: 2.67 × 2,530,000 = 6,755,100.
    #   TNLĐ 0.5 % = 33,775.5 → 33,776; BHYT employee 1.5 % = 101,326.5 → 101,327
    #   (half-even would give 101,326); the others are whole: HT-TT 945,714 / 540,408,
    #   ÔĐ-TS 202,653, BHYT employer 202,653, BHTN 67,551 / 67,551.
    # Employer: 945,714 + 202,653 + 33,776 + 202,653 + 67,551 = 1,452,347
    #   (exact 21.5 % × 6,755,100 = 1,452,346.5); employee: 540,408 + 101,327 + 67,551 = 709,286
    #   (exact 10.5 % = 709,285.5).
    result = one("07/2026", EmployeeBasis("H", salary_coefficient=Decimal("2.67")))
    assert result.line("accident").employer_exact == Decimal("33775.5")
    assert result.line("accident").employer == 33_776
    assert result.line("health").employee_exact == Decimal("101326.5")
    assert result.line("health").employee == 101_327
    assert (result.employer, result.employee) == (1_452_347, 709_286)
    assert (result.employer_exact, result.employee_exact) == (
        Decimal("1452346.5"),
        Decimal("709285.5"),
    )


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [("0.5", 1), ("1.49", 1), ("2.5", 3), ("101326.5", 101_327), ("-0.5", -1), ("7", 7)],
)
def test_round_vnd_is_half_up(amount, rounded):
    assert round_vnd(Decimal(amount)) == rounded


# --- (e) a foreign worker -----------------------------------------------------------------------


def test_a_foreign_worker_pays_no_bhtn():
    # Foreign workers are not in BHTN [I]: 10,000,000 in 06/2026 gives (a) minus BHTN:
    # employer 2,150,000 − 100,000 = 2,050,000 (20.5 %); employee 1,050,000 − 100,000 = 950,000.
    result = one("06/2026", EmployeeBasis("I", salary_amount=10_000_000, foreign_worker=True))
    assert (result.employer, result.employee) == (2_050_000, 950_000)
    line = result.line("unemployment")
    assert not line.participates and (line.salary, line.total) == (0, 0)
    assert [(n.code, n.tag) for n in result.notes] == [("CALC-NO-BHTN", "I")]


def test_the_bhtn_flag_alone_also_removes_bhtn():
    result = one("06/2026", EmployeeBasis("I", salary_amount=10_000_000, bhtn=False))
    assert (result.employer, result.employee) == (2_050_000, 950_000)


# --- Month statuses and the TNLĐ-BNN rate -------------------------------------------------------


def test_unpaid_leave_for_the_month_owes_nothing():
    # ≥ 14 working days unpaid: no BHXH, BHYT, BHTN for the month (Luật BHXH 2014 Đ.85(3),
    # kept by the 2024 law; QĐ 595 for BHYT) [S].
    result = one(
        "06/2026",
        EmployeeBasis("J", salary_amount=3_000_000, status="unpaid_leave_full_month"),
    )
    assert result.status is MonthStatus.UNPAID_LEAVE_FULL_MONTH
    assert (result.total, result.contribution_salary) == (0, 0)
    # Below the floor, but nothing is due, so no warning.
    assert result.findings == ()
    assert [(n.code, n.tag) for n in result.notes] == [("CALC-UNPAID-LEAVE", "S")]


def test_maternity_leave_owes_nothing_from_the_unit():
    # ≥ 14 working days of maternity leave: no contributions, the month counts as contributed
    # and BHYT is paid by the BHXH fund (Luật BHXH 2014 Đ.39(2) kept in 2024) [I].
    result = one("06/2026", EmployeeBasis("K", salary_amount=12_000_000, status="maternity"))
    assert result.total == 0
    assert all(not line.participates for line in result.lines)
    assert [(n.code, n.tag) for n in result.notes] == [("CALC-MATERNITY", "I")]
    assert "BHXH fund pays BHYT" in result.notes[0].message_en


def test_the_unit_accident_rate_and_an_employee_override():
    # Approved units pay TNLĐ-BNN at 0.3 % (NĐ 58/2020 Đ.4) [I]: 0.3 % × 10,000,000 = 30,000;
    # employer 2,150,000 − 50,000 + 30,000 = 2,130,000. An employee's own rate wins.
    unit = one("06/2026", EmployeeBasis("L", salary_amount=10_000_000), accident_rate="0.003")
    assert unit.line("accident").employer == 30_000
    assert unit.employer == 2_130_000
    assert [n.code for n in unit.notes] == ["CALC-ACCIDENT-RATE"]
    own = one(
        "06/2026",
        EmployeeBasis("L", salary_amount=10_000_000, accident_rate=Decimal("0.005")),
        accident_rate=Decimal("0.003"),
    )
    assert own.line("accident").employer == 50_000


# --- (f) unit totals ----------------------------------------------------------------------------


def test_unit_totals_for_a_small_mixed_list():
    employees = [
        EmployeeBasis("A", salary_amount=10_000_000),  # (a): 2,150,000 / 1,050,000
        EmployeeBasis("B", salary_amount=60_000_000),  # (b): 10,194,000 / 5,046,000
        EmployeeBasis("C", salary_amount=10_000_000, foreign_worker=True),  # 2,050,000 / 950,000
        # Region II, 4,000,000 < 4,730,000 → on 4,730,000: HT-TT 662,200 / 378,400;
        # ÔĐ-TS 141,900; TNLĐ 23,650; BHYT 141,900 / 70,950; BHTN 47,300 / 47,300
        # → 1,016,950 (21.5 %) / 496,650 (10.5 %).
        EmployeeBasis("D", salary_amount=4_000_000, region=2),
        EmployeeBasis("E", salary_amount=8_000_000, status=MonthStatus.MATERNITY),  # 0
        EmployeeBasis("F", salary_amount=7_000_000, status="unpaid_leave_full_month"),  # 0
    ]
    unit = calculate("06/2026", employees, parameters=TABLE, region_of_unit=1)
    assert unit.period == "06/2026" and unit.region == 1
    assert unit.parameters.floor == 5_310_000
    assert [e.total for e in unit.employees] == [3_200_000, 15_240_000, 3_000_000, 1_513_600, 0, 0]
    # Per fund, employer: HT-TT 1,400,000 + 6,552,000 + 1,400,000 + 662,200 = 10,014,200;
    # ÔĐ-TS 300,000 + 1,404,000 + 300,000 + 141,900 = 2,145,900;
    # TNLĐ 50,000 + 234,000 + 50,000 + 23,650 = 357,650; BHYT as ÔĐ-TS = 2,145,900;
    # BHTN 100,000 + 600,000 + 0 + 47,300 = 747,300.
    # Employee: HT-TT 800,000 + 3,744,000 + 800,000 + 378,400 = 5,722,400;
    # BHYT 150,000 + 702,000 + 150,000 + 70,950 = 1,072,950; BHTN 747,300.
    assert shares(unit) == {
        "pension": (10_014_200, 5_722_400),
        "sickness": (2_145_900, 0),
        "accident": (357_650, 0),
        "health": (2_145_900, 1_072_950),
        "unemployment": (747_300, 747_300),
    }
    # Employer 2,150,000 + 10,194,000 + 2,050,000 + 1,016,950 = 15,410,950;
    # employee 1,050,000 + 5,046,000 + 950,000 + 496,650 = 7,542,650; total 22,953,600.
    assert (unit.employer, unit.employee, unit.total) == (15_410_950, 7_542_650, 22_953_600)
    # Salary funds: BHXH 10M + 46.8M + 10M + 4.73M = 71,530,000; BHTN 10M + 60M + 4.73M.
    assert unit.fund("pension").salary == 71_530_000
    assert unit.fund("unemployment").salary == 74_730_000
    # C12: bhxh = 10,014,200 + 5,722,400 + 2,145,900 = 17,882,500; bhyt 3,218,850;
    # bhtn 1,494,600; bhtnld 357,650.
    assert unit.c12() == {
        "bhxh": 17_882_500,
        "bhyt": 3_218_850,
        "bhtn": 1_494_600,
        "bhtnld": 357_650,
        "cong": 22_953_600,
    }
    assert unit.headcount == 4
    assert [(f.code, f.location.row) for f in unit.findings] == [("CALC-BELOW-FLOOR", 4)]


def test_a_duplicate_employee_is_reported():
    basis = EmployeeBasis("A", salary_amount=10_000_000)
    unit = calculate("06/2026", [basis, basis], parameters=TABLE, region_of_unit="I")
    assert unit.total == 6_400_000
    assert [(f.code, f.location.row) for f in unit.findings] == [("CALC-DUPLICATE", 2)]


def test_the_default_table_is_the_shipped_catalogue():
    unit = calculate("06/2026", [EmployeeBasis("A", salary_amount=10_000_000)], region_of_unit=1)
    assert unit.employer == 2_150_000


# --- (g) arrears (procedure 601) at each month's parameters -------------------------------------


def test_arrears_use_each_months_own_parameters():
    # 60,000,000 for 06/2026 and 07/2026: (b) June + (b) July.
    # Employer 10,194,000 + 10,973,000 = 21,167,000; employee 5,046,000 + 5,407,000 = 10,453,000.
    # HT-TT 6,552,000 + 7,084,000 = 13,636,000 / 3,744,000 + 4,048,000 = 7,792,000;
    # BHYT 1,404,000 + 1,518,000 = 2,922,000 / 702,000 + 759,000 = 1,461,000; BHTN 2 × 600,000.
    # (July's cap for both months would give 2 × 10,973,000 = 21,946,000: wrong.)
    result = arrears(
        EmployeeBasis("B", salary_amount=60_000_000),
        "06/2026",
        "07/2026",
        parameters=TABLE,
        region_of_unit=1,
    )
    assert [m.period for m in result.months] == ["06/2026", "07/2026"]
    assert (result.employer, result.employee) == (21_167_000, 10_453_000)
    assert shares(result)["pension"] == (13_636_000, 7_792_000)
    assert shares(result)["health"] == (2_922_000, 1_461_000)
    assert shares(result)["unemployment"] == (1_200_000, 1_200_000)
    assert [n.code for n in result.notes] == ["CALC-NO-INTEREST"]


def test_arrears_across_a_minimum_wage_change_apply_each_floor():
    # 5,000,000 in region I: 12/2025 floor 4,960,000 (NĐ 74/2024) → on 5,000,000, employer
    # 21.5 % = 1,075,000; 01/2026 floor 5,310,000 (NĐ 293/2025) → on 5,310,000, employer
    # 1,141,650 with a warning. Total employer 2,216,650.
    result = arrears(
        EmployeeBasis("M", salary_amount=5_000_000),
        "12/2025",
        "01/2026",
        parameters=TABLE,
        region_of_unit=1,
    )
    assert [m.employer for m in result.months] == [1_075_000, 1_141_650]
    assert result.employer == 2_216_650
    assert [f.code for m in result.months for f in m.findings] == ["CALC-BELOW-FLOOR"]


def test_a_late_increase_brings_arrears_into_the_reporting_month():
    # TM from 06/2026 reported in 07/2026: 06/2026 is a prior-period adjustment (C12 B.4),
    # 07/2026 the current month (B.3), each at its own parameters (amounts of (b)).
    effects = month_effect(
        "07/2026",
        [Change("TM", EmployeeBasis("B", salary_amount=60_000_000), "06/2026")],
        parameters=TABLE,
        region_of_unit=1,
    )
    assert [(e.month, e.section, e.direction) for e in effects] == [
        ("06/2026", "prior", Direction.INCREASE),
        ("07/2026", "current", Direction.INCREASE),
    ]
    assert [(e.employer, e.employee) for e in effects] == [
        (10_194_000, 5_046_000),
        (10_973_000, 5_407_000),
    ]
    assert [f.code for f in effects[0].findings] == ["CALC-LATE-INCREASE"]
    assert effects[1].findings == ()
    prior = total_effect(effects, "prior")
    assert sum(a.employer for a in prior) == 10_194_000
    assert sum(a.total for a in total_effect(effects)) == 21_167_000 + 10_453_000


def test_an_increase_for_a_future_month_has_no_effect_yet():
    change = Change("TM", EmployeeBasis("B", salary_amount=10_000_000), "08/2026")
    assert month_effect("07/2026", [change], parameters=TABLE, region_of_unit=1) == []


def test_a_closed_increase_stops_at_its_last_month():
    # TM 01/2026–03/2026 reported in 06/2026: three prior months at 2,150,000 employer each.
    change = Change("TM", EmployeeBasis("N", salary_amount=10_000_000), "01/2026", "03/2026")
    effects = month_effect("06/2026", [change], parameters=TABLE, region_of_unit=1)
    assert [(e.month, e.section, e.employer) for e in effects] == [
        ("01/2026", "prior", 2_150_000),
        ("02/2026", "prior", 2_150_000),
        ("03/2026", "prior", 2_150_000),
    ]


# --- (h) decreases and the BHYT timing rule [S] -------------------------------------------------

FULL_MONTH_OF_A = {
    # (a): what the unit was charged for A each month.
    "pension": (-1_400_000, -800_000),
    "sickness": (-300_000, 0),
    "accident": (-50_000, 0),
    "health": (0, 0),  # BHYT stays due
    "unemployment": (-100_000, -100_000),
}


def test_a_decrease_reported_late_leaves_bhyt_due_for_every_month_up_to_the_report():
    # GH from 06/2026 reported in 07/2026 (vss-domain.md §3.5 [S]: reporting one month or more
    # late triggers BHYT retro-collection). For 06/2026 and 07/2026, BHXH and BHTN are no
    # longer due: −1,850,000 employer (1,400,000 + 300,000 + 50,000 + 100,000) and −900,000
    # employee (800,000 + 100,000) each month; BHYT 300,000 / 150,000 stays due each month.
    change = Change("GH", EmployeeBasis("A", salary_amount=10_000_000), "06/2026")
    effects = month_effect("07/2026", [change], parameters=TABLE, region_of_unit=1)
    assert [(e.month, e.section) for e in effects] == [("06/2026", "prior"), ("07/2026", "current")]
    for effect in effects:
        assert effect.direction is Direction.DECREASE
        assert deltas(effect) == FULL_MONTH_OF_A
        assert (effect.employer, effect.employee) == (-1_850_000, -900_000)
        assert (effect.due("health").employer, effect.due("health").employee) == (300_000, 150_000)
        assert [(n.code, n.tag) for n in effect.notes] == [("CALC-BHYT-STILL-DUE", "S")]
    assert [f.code for f in effects[0].findings] == ["CALC-LATE-DECREASE"]
    assert "D01-TS" in effects[0].findings[0].message_en
    assert effects[1].findings == ()


def test_a_decrease_reported_within_its_month_leaves_that_months_bhyt_due():
    # GH from 06/2026 reported in 06/2026: reporting in the same month triggers BHYT for it [S].
    change = Change("GH", EmployeeBasis("A", salary_amount=10_000_000), "06/2026")
    [effect] = month_effect("06/2026", [change], parameters=TABLE, region_of_unit=1)
    assert (effect.month, effect.section) == ("06/2026", "current")
    assert deltas(effect) == FULL_MONTH_OF_A
    assert effect.findings == ()


def test_a_decrease_reported_before_its_month_changes_nothing_yet():
    # GH from 06/2026 reported in 05/2026: nothing is due for June at all, BHYT included [S];
    # the May statement is unaffected.
    change = Change("GH", EmployeeBasis("A", salary_amount=10_000_000), "06/2026")
    assert month_effect("05/2026", [change], parameters=TABLE, region_of_unit=1) == []


def test_unpaid_leave_reported_late_stops_at_its_last_month():
    # KL for 06/2026 only, reported in 08/2026: one prior month, BHYT still due for it.
    change = Change("kl", EmployeeBasis("A", salary_amount=10_000_000), "06/2026", "06/2026")
    [effect] = month_effect("08/2026", [change], parameters=TABLE, region_of_unit=1)
    assert (effect.code, effect.month, effect.section) == ("KL", "06/2026", "prior")
    assert deltas(effect) == FULL_MONTH_OF_A


def test_a_partial_decrease_touches_only_its_fund():
    # GN (leaves BHTN) from 07/2026 reported in 07/2026: −100,000 / −100,000, nothing else.
    change = Change("GN", EmployeeBasis("A", salary_amount=10_000_000), "07/2026")
    [effect] = month_effect("07/2026", [change], parameters=TABLE, region_of_unit=1)
    assert {f: d for f, d in deltas(effect).items() if d != (0, 0)} == {
        "unemployment": (-100_000, -100_000)
    }
    assert effect.notes == ()


def test_a_salary_adjustment_is_the_difference_at_each_months_parameters():
    # DC 10,000,000 → 12,000,000 from 06/2026, reported in 07/2026: +2,000,000 each month:
    # employer 21.5 % = 430,000, employee 10.5 % = 210,000 (no cap binds).
    change = Change(
        "DC",
        EmployeeBasis("A", salary_amount=12_000_000),
        "06/2026",
        previous=EmployeeBasis("A", salary_amount=10_000_000),
    )
    effects = month_effect("07/2026", [change], parameters=TABLE, region_of_unit=1)
    assert [(e.month, e.employer, e.employee) for e in effects] == [
        ("06/2026", 430_000, 210_000),
        ("07/2026", 430_000, 210_000),
    ]
    assert [f.code for f in effects[0].findings] == ["CALC-LATE-ADJUST"]


def test_an_adjustment_above_the_cap_only_moves_bhtn():
    # DC 60,000,000 → 70,000,000 in 07/2026: BHXH/BHYT stay at the 50,600,000 cap; BHTN
    # +10,000,000 × 1 % = 100,000 each.
    change = Change(
        "DC",
        EmployeeBasis("B", salary_amount=70_000_000),
        "07/2026",
        previous=EmployeeBasis("B", salary_amount=60_000_000),
    )
    [effect] = month_effect("07/2026", [change], parameters=TABLE, region_of_unit=1)
    assert {f: d for f, d in deltas(effect).items() if d != (0, 0)} == {
        "unemployment": (100_000, 100_000)
    }
    assert effect.delta("unemployment").salary == 10_000_000


def test_every_portal_change_type_of_list_600_is_known():
    # The 26 codes of the portal's list 600 (API 082 [C], vss-domain.md §3.5).
    codes = "TM TH TD TC ON TL TN TV TT AD AT DC CD DL DN GH GD GC GL GN GV KL OF TS SB TU"
    assert set(CHANGE_TYPES) == set(codes.split())


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({}, "CALC-SALARY"),
        ({"salary_amount": 1, "salary_coefficient": Decimal(1)}, "CALC-SALARY"),
        ({"salary_amount": 10_000_000.0}, "CALC-AMOUNT"),
        ({"salary_amount": -1}, "CALC-AMOUNT"),
        ({"salary_amount": "abc"}, "CALC-AMOUNT"),
        ({"salary_amount": 1, "position_allowance_coefficient": Decimal("0.3")}, "CALC-ALLOWANCE"),
        ({"salary_amount": 1, "accident_rate": Decimal("1.5")}, "CALC-RATE"),
        ({"salary_amount": 1, "status": "sick"}, "CALC-STATUS"),
    ],
)
def test_bad_employee_input_raises_a_coded_error(kwargs, code):
    with pytest.raises(CalculationError) as error:
        EmployeeBasis("X", **kwargs)
    assert error.value.code == code
    assert error.value.message_vi and error.value.message_en
    assert error.value.as_finding().severity == "error"


def test_a_bad_region_raises_the_catalogue_code():
    with pytest.raises(ParameterError) as error:
        EmployeeBasis("X", salary_amount=1, region=5)
    assert error.value.code == "CAT-REGION"


def test_a_period_without_parameters_raises_the_catalogue_code():
    with pytest.raises(ParameterError) as error:
        calculate("06/2024", [], parameters=TABLE, region_of_unit=1)
    assert error.value.code == "CAT-NO-VALUE"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("XX", "06/2026"), "CALC-CHANGE-CODE"),
        (("GH", "06/2026", "05/2026"), "CALC-PERIOD-RANGE"),
        (("DC", "06/2026"), "CALC-CHANGE-PREVIOUS"),
    ],
)
def test_bad_changes_raise_a_coded_error(args, code):
    code_, *periods = args
    with pytest.raises(CalculationError) as error:
        Change(code_, EmployeeBasis("X", salary_amount=10_000_000), *periods)
    assert error.value.code == code


def test_an_adjustment_of_another_employee_is_refused():
    with pytest.raises(CalculationError) as error:
        Change(
            "DC",
            EmployeeBasis("X", salary_amount=2),
            "06/2026",
            previous=EmployeeBasis("Y", salary_amount=1),
        )
    assert error.value.code == "CALC-CHANGE-PREVIOUS"


def test_arrears_need_an_ordered_range():
    with pytest.raises(CalculationError) as error:
        arrears(
            EmployeeBasis("X", salary_amount=1),
            "07/2026",
            "06/2026",
            parameters=TABLE,
            region_of_unit=1,
        )
    assert error.value.code == "CALC-PERIOD-RANGE"
