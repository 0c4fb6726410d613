"""Format and check-digit rules for Vietnamese identifiers (vss-domain.md §6.4, §4.5).

Pure Python, no Django. Every ``check_*`` function accepts any string, never raises,
and returns a :class:`CheckResult`:

* ``ok`` is True when there is no finding of severity ``"error"`` (warnings keep it True);
* ``value`` is the normalised identifier (surrounding and inner whitespace removed,
  upper-cased where letters are allowed, tax codes in their dashed 13-character form);
* ``findings`` lists what is wrong, each with a stable ``code`` (``ID-...``) and a
  message in Vietnamese and in English.

Messages never repeat the input: personal identifiers are personal data (vss-domain.md §0.3),
so they must not leak into logs through validation messages.

Finding codes (see :data:`FINDING_CODES`):

=======================  ========  ================================================
code                     severity  meaning
=======================  ========  ================================================
ID-TAX-FORMAT            error     not 10 digits / not ``NNNNNNNNNN-NNN``
ID-TAX-CHECKDIGIT        error     wrong 10th digit, or the first 9 digits have none
ID-TAX-BRANCH            error     13-character code with branch suffix ``000``
ID-BHXH-FORMAT           error     social insurance number not exactly 10 digits
ID-PID-FORMAT            error     personal ID not exactly 12 digits
ID-PID-PROVINCE          warning   first 3 digits are not a known province code
ID-PID-GENDER-CENTURY    warning   4th digit encodes a century that has not begun
ID-PID-BIRTHYEAR         warning   century + YY give a birth year in the future
ID-UNIT-FORMAT           error     unit code not 7 characters ``A-Z``/``0-9``
ID-UNIT-PATTERN          warning   unit code does not look like ``[A-Z]{2}[A-Z0-9]{4}[A-Z]``
ID-AGENCY-FORMAT         error     agency code not exactly 5 digits
ID-DOSSIER-FORMAT        error     dossier number not ``NNNNN/YYYY/AAAAA``
ID-DOSSIER-SEQ           error     running number 00000
ID-DOSSIER-YEAR          error     year part below 1000 (leading zero)
ID-DOSSIER-AGENCY        error     agency part not 5 digits
=======================  ========  ================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Literal

__all__ = [
    "DOSSIER_SEQ_MAX",
    "DOSSIER_YEAR_MAX",
    "DOSSIER_YEAR_MIN",
    "FINDING_CODES",
    "PID_PROVINCE_CODES",
    "TAX_WEIGHTS",
    "CheckResult",
    "Finding",
    "PersonalIdInfo",
    "Severity",
    "check_agency_code",
    "check_bhxh_code",
    "check_dossier_number",
    "check_personal_id",
    "check_tax_code",
    "check_unit_code",
    "format_dossier_number",
    "make_tax_code",
    "parse_dossier_number",
    "personal_id_info",
    "tax_check_digit",
]

Severity = Literal["error", "warning"]

FINDING_CODES: frozenset[str] = frozenset(
    {
        "ID-TAX-FORMAT",
        "ID-TAX-CHECKDIGIT",
        "ID-TAX-BRANCH",
        "ID-BHXH-FORMAT",
        "ID-PID-FORMAT",
        "ID-PID-PROVINCE",
        "ID-PID-GENDER-CENTURY",
        "ID-PID-BIRTHYEAR",
        "ID-UNIT-FORMAT",
        "ID-UNIT-PATTERN",
        "ID-AGENCY-FORMAT",
        "ID-DOSSIER-FORMAT",
        "ID-DOSSIER-SEQ",
        "ID-DOSSIER-YEAR",
        "ID-DOSSIER-AGENCY",
    }
)


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message_vi: str
    message_en: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    value: str
    findings: tuple[Finding, ...] = ()

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)


def _result(value: str, *findings: Finding) -> CheckResult:
    return CheckResult(
        ok=not any(f.severity == "error" for f in findings),
        value=value,
        findings=tuple(findings),
    )


def _error(code: str, vi: str, en: str) -> Finding:
    return Finding(code=code, severity="error", message_vi=vi, message_en=en)


def _warning(code: str, vi: str, en: str) -> Finding:
    return Finding(code=code, severity="warning", message_vi=vi, message_en=en)


# Only ASCII digits/letters count: ``\d`` and str.isdigit() also accept e.g. Arabic-Indic
# or full-width digits, which no VSS system will.
_DIGITS = "0123456789"
_WHITESPACE_RE = re.compile(r"\s+")
# Hyphen look-alikes produced by word processors and phone keyboards.
_DASHES_RE = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d]")


def _is_digits(s: str, length: int) -> bool:
    return len(s) == length and all(c in _DIGITS for c in s)


def _squeeze(s: str) -> str:
    """Remove all whitespace (leading, trailing and inside)."""
    return _WHITESPACE_RE.sub("", s)


# --------------------------------------------------------------------------- tax code

TAX_WEIGHTS: tuple[int, ...] = (31, 29, 23, 19, 17, 13, 7, 5, 3)


def tax_check_digit(first9: str) -> int | None:
    """Check digit (10th digit) for the first 9 digits of a tax code.

    N10 = 10 - (sum(Ni * Wi) mod 11). When the remainder is 0 the formula gives 10, which is
    not a digit. Public validators disagree on that case (vss-domain.md §6.4: "reject, or map
    to 0 with a warning"). We REJECT it: this function returns None, ``check_tax_code``
    reports ID-TAX-CHECKDIGIT, and ``make_tax_code`` returns None. Rationale: the tax
    authority does not issue codes from such prefixes as far as any source shows, and
    accepting "0" would make every prefix valid with two different check digits
    (remainder 0 -> "0", remainder 10 -> "0"), weakening the check for real codes.

    Raises ValueError if ``first9`` is not exactly 9 ASCII digits.
    """
    if not _is_digits(first9, 9):
        raise ValueError("first9 must be exactly 9 ASCII digits")
    total = sum(int(c) * w for c, w in zip(first9, TAX_WEIGHTS, strict=True))
    digit = 10 - total % 11
    return None if digit == 10 else digit


def make_tax_code(first9: str, branch: int | None = None) -> str | None:
    """Build a valid tax code from 9 digits (and an optional branch 1..999).

    Returns None when the prefix has no valid check digit (see :func:`tax_check_digit`).
    Intended for test-data generators. Raises ValueError on malformed input.
    """
    digit = tax_check_digit(first9)
    if digit is None:
        return None
    code = f"{first9}{digit}"
    if branch is None:
        return code
    if not 1 <= branch <= 999:
        raise ValueError("branch must be between 1 and 999")
    return f"{code}-{branch:03d}"


_TAX_FORMAT = _error(
    "ID-TAX-FORMAT",
    "Mã số thuế phải gồm 10 chữ số hoặc 13 ký tự dạng NNNNNNNNNN-NNN.",
    "The tax code must be 10 digits, or 13 characters written NNNNNNNNNN-NNN.",
)
_TAX_CHECKDIGIT_WRONG = _error(
    "ID-TAX-CHECKDIGIT",
    "Mã số thuế không hợp lệ: chữ số kiểm tra (chữ số thứ 10) không đúng.",
    "Invalid tax code: the check digit (10th digit) is wrong.",
)
_TAX_CHECKDIGIT_NONE = _error(
    "ID-TAX-CHECKDIGIT",
    "Mã số thuế không hợp lệ: 9 chữ số đầu không tạo ra được chữ số kiểm tra hợp lệ.",
    "Invalid tax code: the first 9 digits have no valid check digit.",
)
_TAX_BRANCH = _error(
    "ID-TAX-BRANCH",
    "Mã chi nhánh (3 chữ số cuối của mã số thuế 13 ký tự) không được là 000.",
    "The branch suffix (last 3 digits of a 13-character tax code) must not be 000.",
)


def check_tax_code(s: str) -> CheckResult:
    """Mã số thuế: ``NNNNNNNNNN`` or ``NNNNNNNNNN-NNN`` (13 digits without the dash accepted)."""
    value = _DASHES_RE.sub("-", _squeeze(s))
    if _is_digits(value, 13):
        value = f"{value[:10]}-{value[10:]}"
    if _is_digits(value, 10):
        main, branch = value, None
    elif len(value) == 14 and value[10] == "-" and _is_digits(value[:10] + value[11:], 13):
        main, branch = value[:10], value[11:]
    else:
        return _result(value, _TAX_FORMAT)

    findings: list[Finding] = []
    expected = tax_check_digit(main[:9])
    if expected is None:
        findings.append(_TAX_CHECKDIGIT_NONE)
    elif int(main[9]) != expected:
        findings.append(_TAX_CHECKDIGIT_WRONG)
    if branch == "000":
        findings.append(_TAX_BRANCH)
    return _result(value, *findings)


# --------------------------------------------------------------------------- BHXH number

_BHXH_FORMAT = _error(
    "ID-BHXH-FORMAT",
    "Mã số BHXH phải gồm đúng 10 chữ số.",
    "The social insurance number (mã số BHXH) must be exactly 10 digits.",
)


def check_bhxh_code(s: str) -> CheckResult:
    """Mã số BHXH of a person: exactly 10 digits. No public check-digit rule is known."""
    value = _squeeze(s)
    if not _is_digits(value, 10):
        return _result(value, _BHXH_FORMAT)
    return _result(value)


# --------------------------------------------------------------------------- personal ID

# Province codes of birth registration used in the first 3 digits (Thông tư 07/2016/TT-BCA,
# then 59/2021/TT-BCA): "0" + the 2-digit GSO code of the 63 provinces that existed before
# the 2025 merger. The 34 provinces of 2025 kept codes from this set, so it covers new IDs
# too. A code outside it is only a warning (the structure rules may no longer be binding).
_PID_PROVINCE_TABLE = """
001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033
034 035 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064
066 067 068 070 072 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094
095 096
"""
PID_PROVINCE_CODES: frozenset[str] = frozenset(_PID_PROVINCE_TABLE.split())

_VN_TZ = timezone(timedelta(hours=7), "ICT")  # Vietnam has no daylight saving time


@dataclass(frozen=True, slots=True)
class PersonalIdInfo:
    """What the structure of a 12-digit personal ID says (unverified, see §6.4)."""

    province_code: str
    """First 3 digits, e.g. ``"079"``; may not be a real province code."""
    gender: Literal["male", "female"]
    century_start: int
    """First year of the birth century: 1900, 2000, 2100, 2200 or 2300."""
    birth_year_last_two: int
    birth_year: int


def personal_id_info(s: str) -> PersonalIdInfo | None:
    """Decode ``PPP G YY NNNNNN``; None if ``s`` is not 12 digits (after removing spaces).

    G: even = male, odd = female; G // 2 gives the century (0 -> 1900s, 1 -> 2000s,
    2 -> 2100s, 3 -> 2200s, 4 -> 2300s), per Thông tư 07/2016/TT-BCA.
    """
    value = _squeeze(s)
    if not _is_digits(value, 12):
        return None
    g = int(value[3])
    yy = int(value[4:6])
    century_start = 1900 + 100 * (g // 2)
    return PersonalIdInfo(
        province_code=value[:3],
        gender="male" if g % 2 == 0 else "female",
        century_start=century_start,
        birth_year_last_two=yy,
        birth_year=century_start + yy,
    )


_PID_FORMAT = _error(
    "ID-PID-FORMAT",
    "Số định danh cá nhân (số CCCD) phải gồm đúng 12 chữ số.",
    "The personal identification number (CCCD) must be exactly 12 digits.",
)
_PID_FORMAT_CMND = _error(
    "ID-PID-FORMAT",
    "Số định danh cá nhân phải gồm đúng 12 chữ số; số có 9 chữ số là số CMND cũ, không dùng thay thế được.",
    "The personal identification number must be exactly 12 digits; a 9-digit number is a legacy CMND number and cannot be used instead.",
)
_PID_PROVINCE = _warning(
    "ID-PID-PROVINCE",
    "Ba chữ số đầu của số định danh cá nhân không phải là mã tỉnh, thành phố nơi đăng ký khai sinh đã biết (001–096); vui lòng kiểm tra lại.",
    "The first three digits of the personal identification number are not a known province code of birth registration (001–096); please double-check.",
)
_PID_GENDER_CENTURY = _warning(
    "ID-PID-GENDER-CENTURY",
    "Chữ số thứ tư của số định danh cá nhân (mã giới tính và thế kỷ sinh) chỉ một thế kỷ chưa bắt đầu; vui lòng kiểm tra lại.",
    "The fourth digit of the personal identification number (gender and century code) points to a century that has not begun; please double-check.",
)
_PID_BIRTHYEAR = _warning(
    "ID-PID-BIRTHYEAR",
    "Năm sinh suy ra từ số định danh cá nhân (chữ số thứ 4 đến thứ 6) nằm ở tương lai; vui lòng kiểm tra lại.",
    "The birth year encoded in the personal identification number (digits 4 to 6) is in the future; please double-check.",
)


def check_personal_id(s: str, *, today: date | None = None) -> CheckResult:
    """Số định danh cá nhân / CCCD: 12 digits (error otherwise).

    Structure checks (province, gender/century, birth year) give WARNINGS only: the
    structural rules come from a circular that may have expired (vss-domain.md §6.4).
    ``today`` (default: today in Vietnam) is used for the "birth year in the future" check.
    """
    value = _squeeze(s)
    info = personal_id_info(value)
    if info is None:
        return _result(value, _PID_FORMAT_CMND if _is_digits(value, 9) else _PID_FORMAT)

    current_year = (today or datetime.now(_VN_TZ).date()).year
    findings: list[Finding] = []
    if info.province_code not in PID_PROVINCE_CODES:
        findings.append(_PID_PROVINCE)
    if info.century_start > current_year:
        findings.append(_PID_GENDER_CENTURY)
    elif info.birth_year > current_year:
        findings.append(_PID_BIRTHYEAR)
    return _result(value, *findings)


# --------------------------------------------------------------------------- unit code

_UNIT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_UNIT_PATTERN_RE = re.compile(r"[A-Z]{2}[A-Z0-9]{4}[A-Z]", re.ASCII)

_UNIT_FORMAT = _error(
    "ID-UNIT-FORMAT",
    "Mã đơn vị phải gồm đúng 7 ký tự, chỉ gồm chữ cái không dấu (A–Z) và chữ số.",
    "The unit code must be exactly 7 characters, letters A–Z and digits only.",
)
_UNIT_PATTERN = _warning(
    "ID-UNIT-PATTERN",
    "Mã đơn vị không theo mẫu thường gặp (2 chữ cái, 4 chữ cái hoặc chữ số, 1 chữ cái, ví dụ TA0001A); vui lòng kiểm tra lại.",
    "The unit code does not follow the usual pattern (2 letters, 4 letters or digits, 1 letter, e.g. TA0001A); please double-check.",
)


def check_unit_code(s: str) -> CheckResult:
    """Mã đơn vị: 7 characters A–Z/0–9 (error); usual pattern ``[A-Z]{2}[A-Z0-9]{4}[A-Z]``
    (warning only: the pattern is inferred from live examples, vss-domain.md §6.4)."""
    value = _squeeze(s).upper()
    if len(value) != 7 or not set(value) <= _UNIT_CHARS:
        return _result(value, _UNIT_FORMAT)
    if _UNIT_PATTERN_RE.fullmatch(value) is None:
        return _result(value, _UNIT_PATTERN)
    return _result(value)


# --------------------------------------------------------------------------- agency code

_AGENCY_FORMAT = _error(
    "ID-AGENCY-FORMAT",
    "Mã cơ quan BHXH phải gồm đúng 5 chữ số (ví dụ 07906).",
    "The social insurance agency code must be exactly 5 digits (e.g. 07906).",
)


def check_agency_code(s: str) -> CheckResult:
    """Mã cơ quan BHXH: exactly 5 digits, e.g. ``07906``."""
    value = _squeeze(s)
    if not _is_digits(value, 5):
        return _result(value, _AGENCY_FORMAT)
    return _result(value)


# --------------------------------------------------------------------------- dossier number

DOSSIER_SEQ_MAX = 99_999
DOSSIER_YEAR_MIN = 1000
DOSSIER_YEAR_MAX = 9999

_DOSSIER_FORMAT = _error(
    "ID-DOSSIER-FORMAT",
    "Số hồ sơ phải có dạng NNNNN/YYYY/AAAAA (số thứ tự 5 chữ số/năm 4 chữ số/mã cơ quan BHXH 5 chữ số).",
    "The dossier number must be written NNNNN/YYYY/AAAAA (5-digit running number/4-digit year/5-digit agency code).",
)
_DOSSIER_SEQ = _error(
    "ID-DOSSIER-SEQ",
    "Số thứ tự trong số hồ sơ phải từ 00001 đến 99999.",
    "The running number of the dossier number must be between 00001 and 99999.",
)
_DOSSIER_YEAR = _error(
    "ID-DOSSIER-YEAR",
    "Năm trong số hồ sơ không hợp lệ (phải từ 1000 đến 9999).",
    "The year of the dossier number is invalid (must be between 1000 and 9999).",
)
_DOSSIER_AGENCY = _error(
    "ID-DOSSIER-AGENCY",
    "Mã cơ quan BHXH trong số hồ sơ phải gồm đúng 5 chữ số (ví dụ 07906).",
    "The agency code in the dossier number must be exactly 5 digits (e.g. 07906).",
)


def check_dossier_number(s: str) -> CheckResult:
    """Số hồ sơ ``NNNNN/YYYY/AAAAA``: running number 00001–99999 / year / agency code."""
    value = _squeeze(s)
    parts = value.split("/")
    if len(parts) != 3 or not _is_digits(parts[0], 5) or not _is_digits(parts[1], 4):
        return _result(value, _DOSSIER_FORMAT)
    seq, year, agency = parts
    findings: list[Finding] = []
    if int(seq) == 0:
        findings.append(_DOSSIER_SEQ)
    if int(year) < DOSSIER_YEAR_MIN:
        findings.append(_DOSSIER_YEAR)
    if not _is_digits(agency, 5):
        findings.append(_DOSSIER_AGENCY)
    return _result(value, *findings)


def format_dossier_number(seq: int, year: int, agency: str) -> str:
    """``format_dossier_number(3706, 2026, "07906") == "03706/2026/07906"``.

    Raises ValueError if seq is not 1..99999, year not 1000..9999 or agency not 5 digits.
    """
    if isinstance(seq, bool) or not 1 <= seq <= DOSSIER_SEQ_MAX:
        raise ValueError(f"dossier running number must be 1..{DOSSIER_SEQ_MAX}, got {seq!r}")
    if isinstance(year, bool) or not DOSSIER_YEAR_MIN <= year <= DOSSIER_YEAR_MAX:
        raise ValueError(
            f"dossier year must be {DOSSIER_YEAR_MIN}..{DOSSIER_YEAR_MAX}, got {year!r}"
        )
    if not _is_digits(agency, 5):
        raise ValueError(f"agency code must be exactly 5 ASCII digits, got {agency!r}")
    return f"{seq:05d}/{year:04d}/{agency}"


def parse_dossier_number(s: str) -> tuple[int, int, str]:
    """``"03706/2026/07906"`` -> ``(3706, 2026, "07906")``; ValueError if invalid."""
    result = check_dossier_number(s)
    if not result.ok:
        raise ValueError(
            "invalid dossier number: " + "; ".join(f.message_en for f in result.errors)
        )
    seq, year, agency = result.value.split("/")
    return int(seq), int(year), agency
