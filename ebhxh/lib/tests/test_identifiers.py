"""Tests for ebhxh.lib.identifiers (pure Python, no Django needed)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ebhxh.lib import identifiers as ids
from ebhxh.lib.identifiers import (
    FINDING_CODES,
    CheckResult,
    check_agency_code,
    check_bhxh_code,
    check_dossier_number,
    check_personal_id,
    check_tax_code,
    check_unit_code,
    format_dossier_number,
    make_tax_code,
    parse_dossier_number,
    personal_id_info,
    tax_check_digit,
)

PROPERTY = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
CODE_RE = re.compile(r"^ID-[A-Z]+(-[A-Z]+)*$")
TODAY = date(2026, 6, 1)

digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


def codes(result: CheckResult) -> set[str]:
    return {f.code for f in result.findings}


# --------------------------------------------------------------------------- tax code


@pytest.mark.parametrize("code", ["0100109106", "0300588569", "0300588569-001", "0100109106-999"])
def test_tax_code_valid(code: str) -> None:
    result = check_tax_code(code)
    assert result.ok, result.findings
    assert result.value == code
    assert result.findings == ()


def test_tax_code_thirteen_digits_without_dash_is_normalised() -> None:
    result = check_tax_code(" 0300588569001 ")
    assert result.ok
    assert result.value == "0300588569-001"


def test_tax_code_spaces_and_unicode_dash_are_normalised() -> None:
    assert check_tax_code("0300 588 569 \u2013 001").value == "0300588569-001"


@pytest.mark.parametrize(
    "code",
    [
        "",
        "123",
        "010010910",
        "01001091061",
        "0100109106-01",
        "0100109106_001",
        "01001O9106",
        "٠١٠٠١٠٩١٠٦",
    ],
)
def test_tax_code_format(code: str) -> None:
    result = check_tax_code(code)
    assert not result.ok
    assert codes(result) == {"ID-TAX-FORMAT"}


def test_tax_code_wrong_check_digit() -> None:
    result = check_tax_code("0100109107")
    assert not result.ok
    assert codes(result) == {"ID-TAX-CHECKDIGIT"}
    assert result.findings[0].severity == "error"


def test_tax_code_branch_000() -> None:
    result = check_tax_code("0100109106-000")
    assert not result.ok
    assert codes(result) == {"ID-TAX-BRANCH"}


def test_tax_check_digit_known_values() -> None:
    assert tax_check_digit("010010910") == 6
    assert tax_check_digit("030058856") == 9


def _prefix_with_remainder(remainder: int) -> str:
    for n in range(10**9):
        first9 = f"{n:09d}"
        total = sum(int(c) * w for c, w in zip(first9, ids.TAX_WEIGHTS, strict=True))
        if total % 11 == remainder:
            return first9
    raise AssertionError("unreachable")


def test_tax_remainder_zero_is_rejected() -> None:
    # Documented decision: remainder 0 would need check digit 10 -> no valid code.
    first9 = _prefix_with_remainder(0)
    assert tax_check_digit(first9) is None
    assert make_tax_code(first9) is None
    for last in "0123456789":
        result = check_tax_code(first9 + last)
        assert not result.ok
        assert codes(result) == {"ID-TAX-CHECKDIGIT"}


def test_tax_remainder_ten_gives_zero() -> None:
    first9 = _prefix_with_remainder(10)
    assert tax_check_digit(first9) == 0
    assert check_tax_code(first9 + "0").ok


@pytest.mark.parametrize("bad", ["", "12345678", "1234567890", "12345678a"])
def test_tax_check_digit_rejects_bad_prefix(bad: str) -> None:
    with pytest.raises(ValueError):
        tax_check_digit(bad)


def test_make_tax_code_branch() -> None:
    assert make_tax_code("010010910", branch=1) == "0100109106-001"
    with pytest.raises(ValueError):
        make_tax_code("010010910", branch=0)
    with pytest.raises(ValueError):
        make_tax_code("010010910", branch=1000)


@PROPERTY
@given(first9=digits, branch=st.none() | st.integers(1, 999))
def test_generated_tax_codes_pass(first9: str, branch: int | None) -> None:
    code = make_tax_code(first9, branch)
    assume(code is not None)
    assert code is not None
    result = check_tax_code(code)
    assert result.ok, result.findings
    assert result.value == code


@PROPERTY
@given(first9=digits, position=st.integers(0, 9), delta=st.integers(1, 9))
def test_changing_one_digit_breaks_tax_code(first9: str, position: int, delta: int) -> None:
    code = make_tax_code(first9)
    assume(code is not None)
    assert code is not None
    changed = code[:position] + str((int(code[position]) + delta) % 10) + code[position + 1 :]
    result = check_tax_code(changed)
    assert not result.ok
    assert codes(result) == {"ID-TAX-CHECKDIGIT"}
    # ...and the recomputed check digit differs (or none exists) whenever a payload digit changed
    if position < 9:
        assert tax_check_digit(changed[:9]) != int(code[9])


# --------------------------------------------------------------------------- BHXH number


def test_bhxh_code() -> None:
    assert check_bhxh_code("7912345678").ok
    assert check_bhxh_code(" 79 1234 5678 ").value == "7912345678"
    for bad in ("", "791234567", "79123456789", "79123456a8", "７９１２３４５６７８"):
        result = check_bhxh_code(bad)
        assert not result.ok
        assert codes(result) == {"ID-BHXH-FORMAT"}


# --------------------------------------------------------------------------- personal ID


def test_personal_id_valid() -> None:
    result = check_personal_id("079090123456", today=TODAY)
    assert result.ok
    assert result.findings == ()


@pytest.mark.parametrize("bad", ["", "07909012345", "0790901234567", "07909012345x"])
def test_personal_id_format(bad: str) -> None:
    result = check_personal_id(bad, today=TODAY)
    assert not result.ok
    assert codes(result) == {"ID-PID-FORMAT"}


def test_personal_id_legacy_cmnd_gets_specific_message() -> None:
    result = check_personal_id("123456789", today=TODAY)
    assert codes(result) == {"ID-PID-FORMAT"}
    assert "CMND" in result.findings[0].message_vi
    assert "CMND" in result.findings[0].message_en


@pytest.mark.parametrize("province", ["000", "003", "097", "999"])
def test_personal_id_unknown_province_is_warning(province: str) -> None:
    result = check_personal_id(province + "090123456", today=TODAY)
    assert result.ok
    assert codes(result) == {"ID-PID-PROVINCE"}
    assert result.findings[0].severity == "warning"


def test_personal_id_future_century_is_warning() -> None:
    result = check_personal_id("001400123456", today=TODAY)  # G=4: male, 2100s
    assert result.ok
    assert codes(result) == {"ID-PID-GENDER-CENTURY"}
    assert result.warnings == result.findings


def test_personal_id_future_birth_year_is_warning() -> None:
    assert codes(check_personal_id("001230123456", today=TODAY)) == {"ID-PID-BIRTHYEAR"}  # 2030
    assert check_personal_id("001226123456", today=TODAY).findings == ()  # 2026


def test_personal_id_default_today_does_not_raise() -> None:
    assert check_personal_id("079090123456").ok


@pytest.mark.parametrize(
    ("pid", "gender", "year"),
    [
        ("079090123456", "male", 1990),
        ("001185123456", "female", 1985),
        ("036205123456", "male", 2005),
        ("096310123456", "female", 2010),
        ("001499123456", "male", 2199),
        ("001900123456", "female", 2300),
    ],
)
def test_personal_id_info(pid: str, gender: str, year: int) -> None:
    info = personal_id_info(pid)
    assert info is not None
    assert info.province_code == pid[:3]
    assert info.gender == gender
    assert info.birth_year == year
    assert info.birth_year_last_two == year % 100
    assert info.century_start == year - year % 100


def test_personal_id_info_invalid() -> None:
    assert personal_id_info("12345") is None
    assert personal_id_info("0790901234ab") is None


def test_province_codes() -> None:
    assert len(ids.PID_PROVINCE_CODES) == 63
    assert {"001", "079", "096"} <= ids.PID_PROVINCE_CODES
    assert all("001" <= c <= "096" for c in ids.PID_PROVINCE_CODES)


# --------------------------------------------------------------------------- unit code


def test_unit_code() -> None:
    assert check_unit_code("TA0001A").ok
    assert check_unit_code("  ta0001a ").value == "TA0001A"
    assert check_unit_code("TA0001A").findings == ()


@pytest.mark.parametrize("bad", ["", "TA0001", "TA0001AB", "TA-001A", "TĐ0001A", "TA 00 01 A!"])
def test_unit_code_format(bad: str) -> None:
    result = check_unit_code(bad)
    assert not result.ok
    assert codes(result) == {"ID-UNIT-FORMAT"}


@pytest.mark.parametrize("odd", ["1A0001A", "TA00011", "T10001A"])
def test_unit_code_unusual_pattern_is_warning(odd: str) -> None:
    result = check_unit_code(odd)
    assert result.ok
    assert codes(result) == {"ID-UNIT-PATTERN"}
    assert result.findings[0].severity == "warning"


# --------------------------------------------------------------------------- agency code


def test_agency_code() -> None:
    assert check_agency_code("07906").ok
    assert check_agency_code(" 01903 ").value == "01903"
    for bad in ("", "7906", "079060", "0790A"):
        assert codes(check_agency_code(bad)) == {"ID-AGENCY-FORMAT"}


# --------------------------------------------------------------------------- dossier number


def test_dossier_number_example() -> None:
    assert check_dossier_number("03706/2026/07906").ok
    assert parse_dossier_number(" 03706/2026/07906 ") == (3706, 2026, "07906")
    assert format_dossier_number(3706, 2026, "07906") == "03706/2026/07906"


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("", {"ID-DOSSIER-FORMAT"}),
        ("3706/2026/07906", {"ID-DOSSIER-FORMAT"}),
        ("03706/26/07906", {"ID-DOSSIER-FORMAT"}),
        ("03706-2026-07906", {"ID-DOSSIER-FORMAT"}),
        ("03706/2026/07906/1", {"ID-DOSSIER-FORMAT"}),
        ("00000/2026/07906", {"ID-DOSSIER-SEQ"}),
        ("00001/0999/07906", {"ID-DOSSIER-YEAR"}),
        ("03706/2026/7906", {"ID-DOSSIER-AGENCY"}),
        ("03706/2026/ABCDE", {"ID-DOSSIER-AGENCY"}),
        ("00000/0000/X", {"ID-DOSSIER-SEQ", "ID-DOSSIER-YEAR", "ID-DOSSIER-AGENCY"}),
    ],
)
def test_dossier_number_invalid(number: str, expected: set[str]) -> None:
    result = check_dossier_number(number)
    assert not result.ok
    assert codes(result) == expected
    with pytest.raises(ValueError):
        parse_dossier_number(number)


@pytest.mark.parametrize(
    ("seq", "year", "agency"),
    [
        (0, 2026, "07906"),
        (100_000, 2026, "07906"),
        (-1, 2026, "07906"),
        (1, 999, "07906"),
        (1, 10_000, "07906"),
        (1, 2026, "7906"),
        (1, 2026, "0790A"),
        (True, 2026, "07906"),
    ],
)
def test_format_dossier_number_out_of_range(seq: int, year: int, agency: str) -> None:
    with pytest.raises(ValueError):
        format_dossier_number(seq, year, agency)


@PROPERTY
@given(
    seq=st.integers(1, ids.DOSSIER_SEQ_MAX),
    year=st.integers(ids.DOSSIER_YEAR_MIN, ids.DOSSIER_YEAR_MAX),
    agency=st.text(alphabet="0123456789", min_size=5, max_size=5),
)
def test_dossier_round_trip(seq: int, year: int, agency: str) -> None:
    number = format_dossier_number(seq, year, agency)
    assert len(number) == 16
    assert check_dossier_number(number).ok
    assert parse_dossier_number(number) == (seq, year, agency)


# --------------------------------------------------------------------------- all checks

CHECKS: list[Callable[[str], CheckResult]] = [
    check_tax_code,
    check_bhxh_code,
    check_personal_id,
    check_unit_code,
    check_agency_code,
    check_dossier_number,
]

identifier_like = st.text(alphabet="0123456789-/ ABCXZabc\u2013\u0110\t", max_size=20)


def _assert_well_formed(result: CheckResult) -> None:
    assert isinstance(result, CheckResult)
    assert isinstance(result.value, str)
    assert result.ok == (not result.errors)
    for finding in result.findings:
        assert CODE_RE.fullmatch(finding.code), finding.code
        assert finding.code in FINDING_CODES
        assert finding.severity in ("error", "warning")
        assert finding.message_vi.strip()
        assert finding.message_en.strip()


@PROPERTY
@given(s=st.text(max_size=40) | identifier_like, index=st.integers(0, len(CHECKS) - 1))
def test_random_strings_never_raise(s: str, index: int) -> None:
    _assert_well_formed(CHECKS[index](s))


@PROPERTY
@given(s=st.text(max_size=30) | identifier_like)
def test_personal_id_info_never_raises(s: str) -> None:
    info = personal_id_info(s)
    assert info is None or info.gender in ("male", "female")


def test_finding_codes_are_well_formed() -> None:
    for code in FINDING_CODES:
        assert CODE_RE.fullmatch(code), code


def test_messages_never_echo_the_input() -> None:
    # Personal identifiers are personal data: no value may leak through the messages.
    for check, value in [
        (check_personal_id, "999090123456"),
        (check_personal_id, "12345678901"),
        (check_bhxh_code, "791234567"),
        (check_tax_code, "0100109107"),
    ]:
        for finding in check(value).findings:
            assert value not in finding.message_vi
            assert value not in finding.message_en


def test_vietnamese_messages_have_diacritics() -> None:
    finding = check_tax_code("x").findings[0]
    assert finding.message_vi == "Mã số thuế phải gồm 10 chữ số hoặc 13 ký tự dạng NNNNNNNNNN-NNN."
