"""Excel codec for D02-TS (D02-LT) and the TK1-TS of new participants, following the portal's
import template FileMau-D02LT_v2.xlsx.

Pure Python (no Django). Reading goes through ``xlsxread`` (a streaming lxml reader; see
docs/decisions/0002-xlsx-reader.md), writing through openpyxl. vss-domain.md §3.3, §3.5.

    result = read_workbook(data)                       # DeclarationError if unreadable
    result.d02, result.tk1, result.findings            # tk1 is None when no row carries TK1 data
    form, findings = read_d02_workbook(data)           # the D02-TS only (all findings)
    data = write_d02_workbook(form, tk1)               # the same layout; round trip is lossless
    blank = d02_template()                             # header rows, drop-down lists, no data

Layout of sheet ``DuLieu`` (the portal's sheet name):

* row 1: the title (A1);
* row 2: the unit header as label/value pairs: A2 "Tên đơn vị", B2 its value, C2 "Mã đơn vị",
  D2 its value, … (the labels are the models' ``label_vi``; the reader finds a value by its
  label, or by the XML element name, so pairs may be moved or left out);
* row 3: the Vietnamese column headings; row 4: the XML element name of each column (a key for
  tools; the reader does not depend on it);
* data from row 5, one participant a row, columns in the portal template's order: A STT, B Họ
  tên, C Mã số BHXH, D Loại hồ sơ ("1-Tăng"), E Phương án ("TM-Tăng mới": the code before the
  dash is kept), F Chỉ có năm sinh, G Ngày sinh, H Giới tính ("1-Nam"/"0-Nữ"), I CCCD, J Chức
  vụ, K Phòng ban, L Nơi làm việc, M Tiền lương, N–R Phụ cấp, S Từ tháng, T Đến tháng, U Ghi
  chú, V Đã có sổ, W Có giảm chết, X Ngày chết, Y Loại HĐLĐ ("XD-Xác định thời hạn",
  "KXD-Không xác định thời hạn", "KHAC-HĐ khác"), Z/AA HĐLĐ từ/đến ngày; then ebhxh's
  remaining D02Row fields (vùng lương tối thiểu, …, the five contract columns 20–24 of the
  paper form, the portal ids) up to AZ. ``COLUMNS`` lists them.
* from BA, the TK1-TS of the row's participant (``TK1_COLUMNS``), for a new participant
  without a mã số BHXH or a change of identity: first the portal template's TK1 block (BA
  "Xuất TK1-TS", quốc tịch, dân tộc, điện thoại, email, nơi đăng ký khai sinh, nơi KCB ban đầu,
  mã hộ gia đình and the chủ hộ), then ebhxh's remaining TK1Row fields. The TK1 identity (họ tên
  [01], giới tính, ngày sinh, CCCD, mã số BHXH) is the D02 row's, the name in capitals. A row
  carries a TK1-TS when BA is "1-Có", or when BA is blank and a TK1 column (or the household
  sheet) has data for it; BA "0-Không" leaves its TK1 data out with a warning.

Sheet ``PL TV HGĐ`` (the household appendix): title and headings in rows 1–5, members from row 6
(``HOUSEHOLD_COLUMNS``); column A is the STT (column A of ``DuLieu``) of the participant the
member belongs to, so STT must be unique among the participants who have members. Giới tính is
coded 1-Nam, 2-Nữ on this sheet (the portal's household coding, vss-domain.md §6.4); D "Loại
ngày sinh" is 0 (ngày/tháng/năm), 1 (tháng/năm) or 2 (năm). A hidden sheet ``DanhMuc`` holds
the lists of the drop-downs.

Values: dates as Excel dates or text dd/mm/yyyy; months as text MM/YYYY or Excel dates;
numbers as numbers or text. Text numbers follow the Vietnamese convention: "." separates
thousands when followed by groups of exactly three digits ("5.310.000" = 5310000) and ","
is the decimal comma ("2,34"); a single "." followed by other than three digits is a decimal
point ("2.34", as in the XML); several ","-separated groups of three are English thousands.
A number cell 2.34 is Decimal("2.34"). Identifiers and catalogue codes typed as numbers
(leading zeros lost) are padded back: Mã số BHXH to 10 digits, an 11-digit CCCD to 12,
province codes to 2, district codes to 3, commune and hospital codes to 5, ethnic-group and
relationship codes to 2. Catalogue codes may be written "code-label" ("01-Kinh"): the code is
kept.

Formulas and macros are never evaluated: a formula's cached value (computed by Excel) is
used, a formula without one is a ``DECL-XLSX-FORMULA`` finding, and an Excel error value
(#N/A, #VALUE!…) a ``DECL-XLSX-ERROR`` finding. Findings carry the sheet and cell
(``DuLieu!G6``, ``PL TV HGĐ!F7``), the form, the row (1-based among the form's rows, as in the
XML codec) and the field; the equivalent XPath is given too. A file that cannot be read at all
raises ``DeclarationError`` (``DECL-EMPTY``, ``DECL-TOO-LARGE``, ``DECL-XLSX-NOT-WORKBOOK``,
``DECL-XLSX-SHEET``), never another exception.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import io
import json
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, NamedTuple

from lxml import etree
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet.datavalidation import DataValidation

from ebhxh.declarations.codes import fail, finding
from ebhxh.declarations.findings import DeclarationError, Finding
from ebhxh.declarations.forms import (
    D02TS,
    TK1TS,
    D02Header,
    D02Row,
    HouseholdAppendix,
    HouseholdMember,
    Month,
    PartialDate,
    TK1Adjustment,
    TK1Header,
    TK1Row,
)
from ebhxh.declarations.xlsxread import UNCALCULATED, CellError, XlsxBook, XlsxError
from ebhxh.declarations.xmlcodec import _record

MAX_BYTES: Final = 50 * 1024 * 1024
MAX_UNCOMPRESSED: Final = 500 * 1024 * 1024  # zip-bomb guard: all members, uncompressed
MAX_ROWS: Final = 100_000
SHEET: Final = "DuLieu"
HOUSEHOLD_SHEET: Final = "PL TV HGĐ"
LIST_SHEET: Final = "DanhMuc"
FIRST_ROW: Final = 5
HOUSEHOLD_FIRST_ROW: Final = 6
VALIDATION_ROWS: Final = 10_000
FORM: Final = "D02-TS"
TK1: Final = "TK1-TS"
TITLE: Final = "DANH SÁCH LAO ĐỘNG THAM GIA BHXH, BHYT, BHTN, BHTNLĐ-BNN (Mẫu D02-LT)"
HOUSEHOLD_TITLE: Final = "PHỤ LỤC THÀNH VIÊN HỘ GIA ĐÌNH (kèm tờ khai TK1-TS)"
HOUSEHOLD_NOTE: Final = (
    "Cột A: STT của người tham gia trên trang DuLieu. Giới tính: 1-Nam, 2-Nữ. "
    "Loại ngày sinh: 0-Ngày tháng năm, 1-Tháng năm, 2-Năm."
)
CHANGE_TYPES: Final = Path(__file__).resolve().parents[1] / "catalog" / "data" / "change_types.json"
EXAMPLES: Final = Path(__file__).resolve().parents[2] / "docs" / "examples"

# Pseudo-fields of the template that are not model attributes.
_YEAR_ONLY, _CONTRACT_KIND, _CONTRACT_FROM, _CONTRACT_TO = (
    "~year_only",
    "~contract_kind",
    "~contract_from",
    "~contract_to",
)
_TK1_FLAG: Final = "~tk1"  # "Xuất TK1-TS": the row carries its participant's TK1-TS
_LINK: Final = "~link"  # PL TV HGĐ column A: the participant's STT on DuLieu
_BIRTH_KIND: Final = "~birth_kind"  # PL TV HGĐ "Loại ngày sinh" (0/1/2)
_MEMBER_GENDER: Final = "~member_gender"  # PL TV HGĐ "Giới tính" (1 nam, 2 nữ)
_CONTRACTS: Final = {  # code -> (label, from field, to field)
    "XD": ("Xác định thời hạn", "contract_fixed_from", "contract_fixed_to"),
    "KXD": ("Không xác định thời hạn", "contract_indefinite_from", None),
    "KHAC": ("HĐ khác (thử việc…)", "contract_other_from", "contract_other_to"),
}

# (attribute or pseudo-field, heading or None for the model's label_vi), in sheet order.
COLUMNS: Final[tuple[tuple[str, str | None], ...]] = (
    ("stt", None),
    ("full_name", None),
    ("bhxh_code", None),
    ("kind", "Loại hồ sơ (tăng/giảm)"),
    ("pa", "Phương án"),
    (_YEAR_ONLY, "Chỉ có năm sinh"),
    ("birth_date", None),
    ("gender", None),
    ("personal_id", None),
    ("position", "Chức vụ, chức danh nghề"),
    ("department", None),
    ("workplace", None),
    ("salary", None),
    ("allowance_position", None),
    ("allowance_seniority_excess", None),
    ("allowance_seniority_profession", None),
    ("allowance_salary", None),
    ("allowance_other", None),
    ("from_month", "Từ tháng"),
    ("to_month", "Đến tháng"),
    ("note", None),
    ("has_book", None),
    ("deceased", "Có giảm chết"),
    ("death_date", None),
    (_CONTRACT_KIND, "Loại HĐLĐ"),
    (_CONTRACT_FROM, "HĐLĐ từ ngày"),
    (_CONTRACT_TO, "HĐLĐ đến ngày"),
    ("wage_region", None),
    ("residence_region", None),
    ("charge_interest", None),
    ("contribution_rate", None),
    ("benefit_level", None),
    ("book_cover_sheets", None),
    ("book_loose_sheets", None),
    ("health_card_number", None),
    ("manager_from", None),
    ("manager_to", None),
    ("senior_specialist_from", None),
    ("senior_specialist_to", None),
    ("mid_specialist_from", None),
    ("mid_specialist_to", None),
    ("other_position_from", None),
    ("other_position_to", None),
    ("hazardous_from", None),
    ("hazardous_to", None),
    ("contract_indefinite_from", None),
    ("contract_fixed_from", None),
    ("contract_fixed_to", None),
    ("contract_other_from", None),
    ("contract_other_to", None),
    ("portal_employee_id", None),
    ("portal_ref_id", None),
)
_NCOLS: Final = len(COLUMNS)

# The TK1-TS of the row's participant, from column BA: (TK1Row attribute, "household.<attr>"
# or "adjustment.<attr>", or the flag; heading or None for the model's label_vi). First the
# portal template's TK1 block in its order [S, vss-domain.md §3.5], then ebhxh's remaining
# TK1Row fields so that nothing is lost in a round trip [I].
TK1_COLUMNS: Final[tuple[tuple[str, str | None], ...]] = (
    (_TK1_FLAG, "Xuất TK1-TS"),
    ("nationality", None),
    ("ethnicity", None),
    ("phone", "Điện thoại liên hệ"),
    ("email", None),
    ("birth_province", None),
    ("birth_commune", None),
    ("birth_registration_place", None),
    ("hospital_province", None),
    ("hospital_code", None),
    ("household.household_code", None),
    ("household.head_name", None),
    ("household.head_personal_id", None),
    ("household.head_phone", None),
    ("household.head_province", None),
    ("household.head_commune", None),
    ("household.head_address", None),
    ("household.residence_kind", "Chủ hộ: thường trú/tạm trú"),
    ("stt", "STT trên TK1-TS"),
    ("household_declared", None),
    ("child_under_six", None),
    ("guardian_name", None),
    ("address_text", None),
    ("address_street", "Địa chỉ nhận kết quả: số nhà, đường phố, thôn xóm"),
    ("address_commune", "Địa chỉ nhận kết quả: xã"),
    ("address_district", "Địa chỉ nhận kết quả: huyện"),
    ("address_province", "Địa chỉ nhận kết quả: tỉnh"),
    ("birth_district", None),
    ("hospital_name", None),
    ("contribution_amount", None),
    ("contribution_level", None),
    ("payment_method", None),
    ("change_content", None),
    ("attachments", None),
    ("receive_electronic", None),
    ("receive_paper", None),
    ("paper_address", None),
    ("paper_commune", None),
    ("paper_district", None),
    ("paper_province", None),
    ("receipt_method", None),
    ("receive_at", None),
    ("adjustment.full_name", None),
    ("adjustment.gender", None),
    ("adjustment.birth_date", None),
    ("adjustment.birth_registration_place", None),
    ("adjustment.personal_id", None),
    ("portal_employee_id", "Mã người lao động trên cổng (TK1-TS)"),
    ("portal_ref_id", "Mã tham chiếu trên cổng (TK1-TS)"),
)
_NTK1: Final = len(TK1_COLUMNS)
_WIDTH: Final = _NCOLS + _NTK1  # columns read from DuLieu

# Sheet PL TV HGĐ, from row 6: the portal template's columns without its hidden id columns
# [S, SRC-ODOO-D02], then the member's own STT [I].
HOUSEHOLD_COLUMNS: Final[tuple[tuple[str, str | None], ...]] = (
    (_LINK, "STT người tham gia (trang DuLieu)"),
    ("full_name", None),
    ("bhxh_code", None),
    (_BIRTH_KIND, "Loại ngày sinh"),
    ("birth_date", "Ngày sinh"),
    (_MEMBER_GENDER, "Giới tính"),
    ("nationality", None),
    ("ethnicity", None),
    ("personal_id", None),
    ("birth_province", None),
    ("birth_commune", None),
    ("address", None),
    ("relationship", "Mối quan hệ với chủ hộ"),
    ("stt", "STT thành viên"),
)

_HEADER_FIELDS: Final = tuple(f.name for f in dataclasses.fields(D02Header))
_TK1_HEADER_FIELDS: Final = tuple(f.name for f in dataclasses.fields(TK1Header))

# Display labels of the coded values ("code-label" in the cells and the drop-downs).
_LABELS: Final[dict[str, dict[str, str]]] = {
    "kind": {"1": "Tăng", "2": "Giảm"},
    "gender": {"1": "Nam", "0": "Nữ"},
    "wage_region": {"01": "Vùng I", "02": "Vùng II", "03": "Vùng III", "04": "Vùng IV"},
    "bool": {"1": "Có", "0": "Không"},
    _CONTRACT_KIND: {code: label for code, (label, _, _) in _CONTRACTS.items()},
    _MEMBER_GENDER: {"1": "Nam", "2": "Nữ"},
    _BIRTH_KIND: {"0": "Ngày tháng năm", "1": "Tháng năm", "2": "Năm"},
}
# Identifiers and catalogue codes typed as numbers lose their leading zeros: padded back [I].
_PAD: Final[dict[str, int]] = {
    "bhxh_code": 10,
    "wage_region": 2,
    "ethnicity": 2,
    "relationship": 2,
    **dict.fromkeys(
        ("birth_province", "address_province", "paper_province", "hospital_province"), 2
    ),
    "head_province": 2,
    **dict.fromkeys(("birth_district", "address_district", "paper_district"), 3),
    **dict.fromkeys(("birth_commune", "address_commune", "paper_commune", "head_commune"), 5),
    "hospital_code": 5,
}
# Text fields holding a catalogue code: "code-label" keeps the code ("TM-Tăng mới", "01-Kinh").
_CODE_TEXT: Final = frozenset(
    (
        "pa",
        "nationality",
        "ethnicity",
        "relationship",
        "residence_kind",
        "payment_method",
        "hospital_code",
        "birth_province",
        "birth_district",
        "birth_commune",
        "address_province",
        "address_district",
        "address_commune",
        "paper_province",
        "paper_district",
        "paper_commune",
        "hospital_province",
        "head_province",
        "head_commune",
    )
)


@functools.lru_cache(maxsize=1)
def _change_types() -> dict[str, str]:
    """The PA list "600" (API 082), read from the catalogue's data file directly."""
    items = json.loads(CHANGE_TYPES.read_text(encoding="utf-8"))["items"]
    return {item["code"]: item["name"] for item in items if item["list"] == "600"}


# --- reading values -------------------------------------------------------------------------

_DATE_TEXT = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_MONTH_TEXT = re.compile(r"([0-9]{1,2})/([0-9]{4})")
_PARTIAL_TEXT = re.compile(r"(?:(?:([0-9]{1,2})/)?([0-9]{1,2})/)?([0-9]{4})")
_PLAIN = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_VI_THOUSANDS = re.compile(r"(-?[0-9]{1,3}(?:\.[0-9]{3})+)(?:,([0-9]+))?")
_EN_THOUSANDS = re.compile(r"(-?[0-9]{1,3}(?:,[0-9]{3}){2,})(?:\.([0-9]+))?")
_DECIMAL_COMMA = re.compile(r"(-?[0-9]+),([0-9]+)")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def _text_of(value: Any) -> str:
    """A cell value as text (for text fields and codes)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    if isinstance(value, dt.date):
        return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    return str(value)


def parse_number_text(text: str) -> Decimal:
    """A number typed as text, by the conventions in the module docstring; ValueError if not."""
    s = _SPACES.sub("", text)
    if _PLAIN.fullmatch(s) and not re.fullmatch(r"-?[0-9]{1,3}\.[0-9]{3}", s):
        return Decimal(s)
    if match := _VI_THOUSANDS.fullmatch(s):
        return Decimal(match[1].replace(".", "") + (f".{match[2]}" if match[2] else ""))
    if match := _EN_THOUSANDS.fullmatch(s):
        return Decimal(match[1].replace(",", "") + (f".{match[2]}" if match[2] else ""))
    if match := _DECIMAL_COMMA.fullmatch(s):
        return Decimal(f"{match[1]}.{match[2]}")
    raise ValueError


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError
        return Decimal(int(value)) if value.is_integer() else Decimal(repr(value))
    if isinstance(value, str):
        return parse_number_text(value)
    raise ValueError


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if value < 0:
            raise ValueError
        return value
    if isinstance(value, str):
        s = value.strip()
        if s.isascii() and s.isdigit():
            return int(s)
    raise ValueError


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and (match := _DATE_TEXT.fullmatch(value.strip())):
        return dt.date(int(match[3]), int(match[2]), int(match[1]))
    raise ValueError


def _month(value: Any) -> Month:
    if isinstance(value, dt.date):
        return Month(value.year, value.month)
    if isinstance(value, str) and (match := _MONTH_TEXT.fullmatch(value.strip())):
        return Month(int(match[2]), int(match[1]))
    raise ValueError


def _partial(value: Any) -> PartialDate:
    if isinstance(value, dt.date):
        return PartialDate(value.year, value.month, value.day)
    if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
        return PartialDate(value)
    if isinstance(value, str) and (match := _PARTIAL_TEXT.fullmatch(value.strip())):
        day, month, year = match[1], match[2], match[3]
        return PartialDate(int(year), int(month) if month else None, int(day) if day else None)
    raise ValueError


def _code_of(value: Any, labels: dict[str, str] | None, width: int = 0) -> str:
    """The code in a "code-label" cell, a bare code, or a label; ValueError if none."""
    text = _text_of(value).strip()
    if not text:
        raise ValueError
    code = text.split("-", 1)[0].strip() if "-" in text else text
    if width and code.isdigit():
        code = code.zfill(width)
    if labels is None:
        return code
    if code in labels:
        return code
    folded = text.casefold()
    for key, label in labels.items():
        if label.casefold() == folded:
            return key
    raise ValueError


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().casefold() == "x":
        return True
    return _code_of(value, _LABELS["bool"]) == "1"


_KIND_PROBLEM: Final[dict[str, tuple[str, str | None, str | None]]] = {
    "int": ("DECL-NUMBER", "Cần số nguyên.", "A whole number is expected."),
    "decimal": ("DECL-NUMBER", None, None),
    "bool": ("DECL-CODE", "Cần 1-Có hoặc 0-Không.", "1 (yes) or 0 (no) is expected."),
    "date": ("DECL-DATE", None, None),
    "month": ("DECL-MONTH", None, None),
    "partial": (
        "DECL-DATE",
        "Cần dd/mm/yyyy, mm/yyyy hoặc yyyy.",
        "dd/mm/yyyy, mm/yyyy or yyyy is expected.",
    ),
    "code": ("DECL-CODE", None, None),
}
_PARSERS: Final[dict[str, Any]] = {
    "int": _int,
    "decimal": _decimal,
    "bool": _bool,
    "date": _date,
    "month": _month,
    "partial": _partial,
}


def _kinds(cls: type[Any]) -> dict[str, tuple[str, frozenset[str] | None, str]]:
    """attribute -> (kind, choices, XML element), from the XML codec's model description."""
    return {f.name: (f.kind, f.choices, f.element) for f in _record(cls).fields}


def _labels_vi(cls: type[Any]) -> dict[str, str]:
    return {f.name: f.metadata["label_vi"] for f in dataclasses.fields(cls)}


_ROW_KINDS: Final = _kinds(D02Row)
_HEADER_KINDS: Final = _kinds(D02Header)
_ROW_LABELS: Final = _labels_vi(D02Row)
_HEADER_LABELS: Final = _labels_vi(D02Header)
_REQUIRED: Final = tuple(f.name for f in _record(D02Row).required)
_HEADER_REQUIRED: Final = tuple(f.name for f in _record(D02Header).required)
_GROUPS: Final[dict[str, tuple[type[Any], str]]] = {  # "household." -> (class, element)
    "": (TK1Row, ""),
    "household": (HouseholdAppendix, "PhuLucHoGiaDinh/"),
    "adjustment": (TK1Adjustment, "DieuChinh/"),
}


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class _Col:
    """How one column is read and written, and where its findings point."""

    name: str  # model attribute (in its group) or pseudo-field
    field: str  # the field path of findings (without the record's prefix)
    element: str  # the XPath step(s) of findings (without the record's prefix)
    kind: str
    choices: frozenset[str] | None = None
    group: str = ""  # TK1 columns: "", "household" or "adjustment"
    heading: str = ""
    labels: dict[str, str] | None = None  # "code-label" display of a code column
    mapping: dict[str, str] | None = None  # sheet code -> model code (household gender)
    pad: int = 0  # zero-padding of digits typed as a number
    pid: bool = False  # an 11-digit personal ID typed as a number gets its leading zero back
    code_text: bool = False  # text holding a catalogue code: "code-label" keeps the code
    plain: bool = False  # text kept as written (a text cell needs no conversion)


def _col(
    name: str,
    spec: tuple[str, frozenset[str] | None, str],
    heading: str,
    *,
    group: str = "",
    field: str | None = None,
    element: str | None = None,
    **extra: Any,
) -> _Col:
    kind, choices, xml = spec
    leaf = name.rsplit(".", 1)[-1]
    return _Col(
        name=leaf,
        field=field if field is not None else name,
        element=element if element is not None else _GROUPS[group][1] + xml if group else xml,
        kind=kind,
        choices=choices,
        group=group,
        heading=heading,
        labels=_LABELS.get(leaf) if kind == "code" else None,
        pad=_PAD.get(leaf, 0),
        pid=leaf in ("personal_id", "head_personal_id"),
        code_text=kind == "text" and leaf in _CODE_TEXT,
        plain=kind == "text" and leaf not in _CODE_TEXT,
        **extra,
    )


_PSEUDO: Final[dict[str, tuple[str, frozenset[str] | None, str]]] = {
    _YEAR_ONLY: ("bool", None, "ChiCoNamSinh"),
    _CONTRACT_KIND: ("code", frozenset(_CONTRACTS), "LoaiHdld"),
    _CONTRACT_FROM: ("date", None, "HdldTuNgay"),
    _CONTRACT_TO: ("date", None, "HdldDenNgay"),
    _TK1_FLAG: ("bool", None, "XuatTk1"),
    _LINK: ("int", None, "SttNguoiThamGia"),
    _BIRTH_KIND: ("code", frozenset(("0", "1", "2")), "LoaiNgaySinh"),
    _MEMBER_GENDER: ("code", frozenset(("1", "2")), "GioiTinh"),
}


def _d02_col(name: str, heading: str | None) -> _Col:
    if name.startswith("~"):
        return _col(name, _PSEUDO[name], heading or name)
    return _col(name, _ROW_KINDS[name], heading or str(_ROW_LABELS[name]))


def _tk1_col(path: str, heading: str | None) -> _Col:
    if path.startswith("~"):
        return _col(path, _PSEUDO[path], heading or path)
    group, _, leaf = path.rpartition(".")
    cls = _GROUPS[group][0]
    label = heading or str(_labels_vi(cls)[leaf])
    if group == "adjustment" and heading is None:
        label = f"[14] {label}"
    return _col(path, _kinds(cls)[leaf], label, group=group)


def _member_col(name: str, heading: str | None) -> _Col:
    kinds = _kinds(HouseholdMember)
    if name == _MEMBER_GENDER:
        return _col(
            name,
            _PSEUDO[name],
            heading or name,
            field="gender",
            element="GioiTinh",
            mapping={"1": "1", "2": "0"},
        )
    if name in (_BIRTH_KIND, _LINK):
        return _col(name, _PSEUDO[name], heading or name)
    return _col(name, kinds[name], heading or str(_labels_vi(HouseholdMember)[name]))


_D02_COLS: Final = tuple(_d02_col(name, heading) for name, heading in COLUMNS)
_TK1_COLS: Final = tuple(_tk1_col(path, heading) for path, heading in TK1_COLUMNS)
_MEMBER_COLS: Final = tuple(_member_col(name, heading) for name, heading in HOUSEHOLD_COLUMNS)
_HEADER_COLS: Final = {name: _col(name, _HEADER_KINDS[name], name) for name in _HEADER_FIELDS}
_COLUMN_OF: Final = {name: col for col, (name, _) in enumerate(COLUMNS, start=1)}
_TK1_COLUMN_OF: Final = {path: _NCOLS + i for i, (path, _) in enumerate(TK1_COLUMNS, start=1)}
_MEMBER_COLUMN_OF: Final = {c.field: i for i, c in enumerate(_MEMBER_COLS, start=1)}
# The TK1-TS identity is the D02 row's: TK1 field -> DuLieu column.
_IDENTITY: Final = ("full_name", "gender", "birth_date", "personal_id", "bhxh_code")


def _parse(col: _Col, value: Any) -> Any:
    """The model value of a non-empty cell; ValueError (or ArithmeticError) if unreadable."""
    kind = col.kind
    if kind == "text":
        text = _text_of(value)
        if value.__class__ is not str:
            if col.pad and text.isdigit():
                text = text.zfill(col.pad)
            elif col.pid and len(text) == 11 and text.isdigit():
                text = text.zfill(12)
        if col.code_text and "-" in text:
            text = text.split("-", 1)[0].strip()
        return text
    if kind == "code":
        code = _code_of(value, col.labels, col.pad)
        if col.choices is not None and code not in col.choices:
            raise ValueError
        return col.mapping.get(code, code) if col.mapping else code
    return _PARSERS[kind](value)


def _blank(value: Any) -> bool:
    return value is None or (value.__class__ is str and not value.strip())


def _empty(values: Sequence[Any]) -> bool:
    """No cell with content (None and blank text only)."""
    if values.count(None) == len(values):
        return True
    return all(_blank(v) for v in values)


class _Target(NamedTuple):
    """Where the findings about one record go."""

    form: str
    sheet: str
    row: int | None
    field: str  # prefix of the field paths: "", "header.", "household.members[2]."
    xpath: str | None  # prefix of the XPaths ("/D02-TS/DanhSach/NguoiLaoDong[3]/"), or none


_BAD: Final = object()
_NOTHING: Final = object()


class _Reader:
    """Converts cells to model values; findings in `self.findings`."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.bad_header: set[str] = set()
        # (column spec, value class, value) -> parsed value or the problem: values repeat a lot
        # in a sheet (dates, amounts, codes), and parsing text numbers and dates is not free.
        self.cache: dict[tuple[_Col, type, Any], Any] = {}

    def add(
        self,
        code: str,
        target: _Target,
        sheet_row: int,
        col: int,
        field: str | None,
        element: str | None,
        detail: tuple[str | None, str | None] = (None, None),
    ) -> None:
        self.findings.append(
            finding(
                code,
                detail[0],
                detail[1],
                form=target.form,
                row=target.row,
                field=None if field is None else target.field + field,
                xpath=None if element is None or target.xpath is None else target.xpath + element,
                sheet=target.sheet,
                cell=f"{get_column_letter(col)}{sheet_row}",
            )
        )

    def convert(self, value: Any, sheet_row: int, col: int, spec: _Col, target: _Target) -> Any:
        """The parsed value of a non-None cell, or _NOTHING (blank) or _BAD (reported)."""
        cls = value.__class__
        if cls is str:
            if not value.strip():
                return _NOTHING
            if spec.plain:
                return value
        elif value is UNCALCULATED:
            self.add("DECL-XLSX-FORMULA", target, sheet_row, col, spec.field, spec.element)
            return _BAD
        elif cls is CellError:
            detail = (f"({value.code})", f"({value.code})")
            self.add("DECL-XLSX-ERROR", target, sheet_row, col, spec.field, spec.element, detail)
            return _BAD
        key = (spec, cls, value)
        parsed = self.cache.get(key, _NOTHING)
        if parsed is _NOTHING:
            try:
                parsed = _parse(spec, value)
            except (ValueError, ArithmeticError, TypeError):
                parsed = _BAD
            self.cache[key] = parsed
        if parsed is _BAD:
            code, vi, en = _KIND_PROBLEM.get(spec.kind, ("DECL-CODE", None, None))
            if spec.kind == "code":
                allowed = ", ".join(sorted(spec.choices or ()))
                vi, en = f"Giá trị cho phép: {allowed}.", f"Allowed: {allowed}."
            self.add(code, target, sheet_row, col, spec.field, spec.element, (vi, en))
        return parsed

    def header(self, cells: Sequence[Any]) -> dict[str, Any]:
        by_label: dict[str, str] = {}
        for name in _HEADER_FIELDS:
            by_label[_HEADER_LABELS[name].casefold()] = name
            by_label[_HEADER_KINDS[name][2].casefold()] = name
        target = _Target(FORM, SHEET, None, "header.", f"/{FORM}/ThongTinDonVi/")
        values: dict[str, Any] = {}
        for col in range(1, len(cells), 2):
            label = cells[col - 1]
            if not isinstance(label, str):
                continue
            key = by_label.get(label.strip().rstrip(":").strip().casefold())
            if key is None or key in values:
                continue
            value = cells[col]
            if value is None:
                continue
            parsed = self.convert(value, 2, col + 1, _HEADER_COLS[key], target)
            if parsed is _BAD:
                self.bad_header.add(key)
            elif parsed is not _NOTHING:
                values[key] = parsed
        return values

    def row(self, cells: Sequence[Any], sheet_row: int, row: int) -> D02Row:
        values: dict[str, Any] = {}
        bad: set[str] = set()
        extra: dict[str, Any] = {}
        target = _Target(FORM, SHEET, row, "", f"/{FORM}/DanhSach/NguoiLaoDong[{row}]/")
        convert, cached = self.convert, self.cache.get
        for col, (spec, value) in enumerate(zip(_D02_COLS, cells, strict=False), start=1):
            if value is None:
                continue
            name = spec.name
            cls = value.__class__
            if cls is str and spec.plain:  # most cells: text kept as written
                if value.strip():
                    values[name] = value
                continue
            parsed = cached((spec, cls, value), _BAD)  # a value met before (dates, codes…)
            if parsed is _BAD:
                parsed = convert(value, sheet_row, col, spec, target)
            if name[0] == "~":
                if parsed is not _NOTHING:
                    extra[name] = (parsed, col)
                continue
            if parsed is _BAD:
                bad.add(name)
            elif parsed is not _NOTHING:
                values[name] = parsed
        year_only = extra.get(_YEAR_ONLY, (False, 0))[0]
        birth = values.get("birth_date")
        if year_only is True and isinstance(birth, PartialDate):
            values["birth_date"] = PartialDate(birth.year)
        self.contract(extra, values, bad, sheet_row, target)
        for name in _REQUIRED:
            if name not in values and name not in bad:
                element = _ROW_KINDS[name][2]
                self.add("DECL-MISSING", target, sheet_row, _COLUMN_OF[name], name, element)
        return D02Row(**values)

    def contract(
        self,
        extra: dict[str, Any],
        values: dict[str, Any],
        bad: set[str],
        sheet_row: int,
        target: _Target,
    ) -> None:
        """Y/Z/AA (loại HĐLĐ, từ/đến ngày) into the contract columns 20–24."""
        kind = extra.get(_CONTRACT_KIND)
        dates = [(extra[k][0], extra[k][1]) for k in (_CONTRACT_FROM, _CONTRACT_TO) if k in extra]
        if kind is None or kind[0] is _BAD:
            if kind is None and dates:
                self.add(
                    "DECL-MISSING",
                    target,
                    sheet_row,
                    _COLUMN_OF[_CONTRACT_KIND],
                    "contract_kind",
                    None,
                    ("Thiếu loại HĐLĐ.", "The contract type is missing."),
                )
            return
        _, from_field, to_field = _CONTRACTS[kind[0]]
        for pseudo, name in ((_CONTRACT_FROM, from_field), (_CONTRACT_TO, to_field)):
            if pseudo not in extra or extra[pseudo][0] is _BAD:
                continue
            value, col = extra[pseudo]
            if name is None:
                self.add(
                    "DECL-STRUCTURE",
                    target,
                    sheet_row,
                    col,
                    "contract_indefinite_from",
                    None,
                    (
                        "HĐLĐ không xác định thời hạn không có ngày kết thúc.",
                        "An indefinite-term contract has no end date.",
                    ),
                )
                continue
            if name in values and values[name] != value:
                element = _ROW_KINDS[name][2]
                self.add("DECL-DUPLICATE", target, sheet_row, col, name, element)
                continue
            if name not in bad:
                values[name] = value

    def flag(self, cells: Sequence[Any], sheet_row: int) -> Any:
        """Column BA ("Xuất TK1-TS"): True, False, or _NOTHING (blank or unreadable)."""
        value = cells[0]
        if value is None:
            return _NOTHING
        target = _Target(TK1, SHEET, None, "", None)
        parsed = self.convert(value, sheet_row, _NCOLS + 1, _TK1_COLS[0], target)
        return _NOTHING if parsed is _BAD else parsed

    def tk1_row(
        self,
        d02: D02Row,
        cells: Sequence[Any] | None,
        sheet_row: int,
        n: int,
        members: list[HouseholdMember],
    ) -> TK1Row:
        """The TK1-TS of a DuLieu row: its identity is the D02 row's (the name in capitals)."""
        target = _Target(TK1, SHEET, n, "", f"/{TK1}/DanhSach/NguoiThamGia[{n}]/")
        groups: dict[str, dict[str, Any]] = {"": {}, "household": {}, "adjustment": {}}
        if cells is not None:
            for offset, value in enumerate(cells[1:], start=1):
                if value is None:
                    continue
                spec = _TK1_COLS[offset]
                parsed = self.convert(value, sheet_row, _NCOLS + 1 + offset, spec, target)
                if parsed is not _BAD and parsed is not _NOTHING:
                    groups[spec.group][spec.name] = parsed
        values = groups[""]
        for name in _IDENTITY:
            value = getattr(d02, name)
            if value is not None:
                values[name] = value.upper() if name == "full_name" else value
        if groups["household"] or members:
            values["household"] = HouseholdAppendix(**groups["household"], members=tuple(members))
        if groups["adjustment"]:
            values["adjustment"] = TK1Adjustment(**groups["adjustment"])
        return TK1Row(**values)

    def member(self, cells: Sequence[Any], sheet_row: int, n: int, k: int) -> HouseholdMember:
        """Member `k` (1-based) of TK1-TS row `n`, from a PL TV HGĐ row."""
        target = _Target(
            TK1,
            HOUSEHOLD_SHEET,
            n,
            f"household.members[{k}].",
            f"/{TK1}/DanhSach/NguoiThamGia[{n}]/PhuLucHoGiaDinh/ThanhVien[{k}]/",
        )
        values: dict[str, Any] = {}
        bad: set[str] = set()
        birth_kind = None
        for col, (spec, value) in enumerate(zip(_MEMBER_COLS, cells, strict=False), start=1):
            if value is None or col == 1:
                continue
            parsed = self.convert(value, sheet_row, col, spec, target)
            if parsed is _BAD:
                bad.add(spec.field)
            elif parsed is _NOTHING:
                continue
            elif spec.name == _BIRTH_KIND:
                birth_kind = parsed
            else:
                values[spec.field] = parsed
        birth = values.get("birth_date")
        if isinstance(birth, PartialDate) and birth_kind in ("1", "2"):
            month = birth.month if birth_kind == "1" else None
            values["birth_date"] = PartialDate(birth.year, month)
        if "full_name" not in values and "full_name" not in bad:
            column = _MEMBER_COLUMN_OF["full_name"]
            self.add("DECL-MISSING", target, sheet_row, column, "full_name", "HoTen")
        return HouseholdMember(**values)


# --- opening the file safely ----------------------------------------------------------------

_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _not_workbook(vi: str, en: str) -> DeclarationError:
    return fail("DECL-XLSX-NOT-WORKBOOK", vi, en, form=FORM)


def _check_zip(data: bytes, max_uncompressed: int) -> None:
    """Refuse what is not an xlsx package, and zip bombs (by the members' declared sizes, which
    zipfile enforces while decompressing), before anything is decompressed."""
    if data.startswith(_OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise _not_workbook(
                "Tệp được bảo vệ bằng mật khẩu; hãy bỏ mật khẩu rồi gửi lại.",
                "The workbook is password-protected; remove the password and send it again.",
            )
        raise _not_workbook(
            "Tệp Excel 97-2003 (.xls) không được hỗ trợ; hãy lưu thành .xlsx.",
            "Excel 97-2003 (.xls) files are not supported; save as .xlsx.",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            total = sum(info.file_size for info in members)
            if total > max_uncompressed:
                raise fail(
                    "DECL-TOO-LARGE",
                    "Dung lượng giải nén quá lớn.",
                    "The uncompressed content is too large.",
                    form=FORM,
                )
            names = {info.filename for info in members}
            if "xl/workbook.xml" not in names and "[Content_Types].xml" not in names:
                raise _not_workbook(
                    "Tệp nén không chứa bảng tính.", "The archive contains no workbook."
                )
    except DeclarationError:
        raise
    except Exception:  # BadZipFile, LargeZipFile, OSError, ValueError…  # noqa: BLE001
        raise _not_workbook("", "") from None


# What a broken package or part raises while being read (lxml, zipfile, zlib, int()…): the file
# is then "not a readable workbook". Anything else is a bug and is not hidden.
_UNREADABLE: Final = (
    XlsxError,
    etree.LxmlError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    ValueError,
    KeyError,
    IndexError,
    OverflowError,
    OSError,
    EOFError,
    NotImplementedError,
    RuntimeError,
)


@dataclasses.dataclass(frozen=True)
class WorkbookForms:
    """What `read_workbook` found: the D02-TS, the TK1-TS of the rows that carry one (None if
    none does), the findings, and where each form row is on the sheets."""

    d02: D02TS
    tk1: TK1TS | None
    findings: list[Finding]
    sheet_rows: tuple[int, ...]  # DuLieu row of each D02-TS row
    tk1_sheet_rows: tuple[int, ...] = ()  # DuLieu row of each TK1-TS row
    member_rows: tuple[tuple[int, ...], ...] = ()  # PL TV HGĐ rows of each TK1-TS row's members

    @property
    def forms(self) -> tuple[D02TS | TK1TS, ...]:
        return (self.d02,) if self.tk1 is None else (self.d02, self.tk1)

    def locate(self, findings: Iterable[Finding]) -> list[Finding]:
        """Findings about the forms (rules run after reading) with their cell on the sheets, so
        that a user of the workbook is sent to `DuLieu!M7` or `PL TV HGĐ!F8`, not to an XPath.
        A TK1-TS finding that repeats a D02-TS one (the TK1 identity and header are the D02
        row's and header's) is dropped."""
        placed = []
        for f in findings:
            form = f.location.form
            if form == FORM:
                f = place_on_sheet([f], self.sheet_rows)[0]
            elif form == TK1:
                f = self._place_tk1(f)
            placed.append(f)
        seen = {_key(f) for f in placed if f.location.form != TK1}
        return [f for f in placed if f.location.form != TK1 or _key(f) not in seen]

    def _place_tk1(self, f: Finding) -> Finding:
        loc = f.location
        if loc.cell is not None or loc.row is None or not 0 < loc.row <= len(self.tk1_sheet_rows):
            return f
        field = loc.field or ""
        member = _MEMBER_FIELD.fullmatch(field)
        if member and 0 < int(member[1]) <= len(self.member_rows[loc.row - 1]):
            sheet_row = self.member_rows[loc.row - 1][int(member[1]) - 1]
            column = _MEMBER_COLUMN_OF.get(member[2], 1)
            where = dataclasses.replace(
                loc, sheet=HOUSEHOLD_SHEET, cell=f"{get_column_letter(column)}{sheet_row}"
            )
            return dataclasses.replace(f, location=where)
        column = _COLUMN_OF[field] if field in _IDENTITY else _TK1_COLUMN_OF.get(field, 1)
        cell = f"{get_column_letter(column)}{self.tk1_sheet_rows[loc.row - 1]}"
        return dataclasses.replace(f, location=dataclasses.replace(loc, sheet=SHEET, cell=cell))


_MEMBER_FIELD: Final = re.compile(r"household\.members\[([0-9]+)\]\.?(.*)")


def _key(f: Finding) -> tuple[Any, ...]:
    loc = f.location
    if loc.cell is not None:
        return (f.code, loc.sheet, loc.cell)
    return (f.code, loc.field)


def read_workbook(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    max_uncompressed: int = MAX_UNCOMPRESSED,
    header: D02Header | None = None,
) -> WorkbookForms:
    """The D02-TS and TK1-TS forms in workbook `data` (portal template layout) and what is wrong
    with them.

    `header` overrides the sheet's header: its non-None fields replace the sheet's values
    (e.g. the unit and period known to the server); the TK1-TS header is taken from the
    result. Raises only DeclarationError.
    """
    if not data:
        raise fail("DECL-EMPTY", form=FORM)
    if len(data) > max_bytes:
        raise fail("DECL-TOO-LARGE", form=FORM)
    _check_zip(data, max_uncompressed)
    try:
        book = XlsxBook(data)
    except _UNREADABLE as exc:
        raise _not_workbook("", "") from exc
    try:
        return _read(book, max_rows, header)
    except DeclarationError:
        raise
    except _UNREADABLE as exc:
        raise _not_workbook("", "") from exc
    finally:
        book.close()


def read_d02_workbook(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    max_uncompressed: int = MAX_UNCOMPRESSED,
    header: D02Header | None = None,
    sheet_rows: list[int] | None = None,
) -> tuple[D02TS, list[Finding]]:
    """The D02-TS form in workbook `data` and what is wrong with the workbook (TK1-TS findings
    included; `read_workbook` gives the TK1-TS form too).

    When `sheet_rows` is a list, it receives the sheet row of each form row, for
    `place_on_sheet`. Raises only DeclarationError.
    """
    result = read_workbook(
        data,
        max_bytes=max_bytes,
        max_rows=max_rows,
        max_uncompressed=max_uncompressed,
        header=header,
    )
    if sheet_rows is not None:
        sheet_rows.extend(result.sheet_rows)
    return result.d02, result.findings


def _too_many(max_rows: int, sheet: str) -> DeclarationError:
    return fail(
        "DECL-TOO-LARGE",
        f"Tối đa {max_rows} dòng.",
        f"At most {max_rows} rows.",
        form=FORM,
        sheet=sheet,
    )


def _read(book: XlsxBook, max_rows: int, header: D02Header | None) -> WorkbookForms:
    if SHEET not in book.sheet_names:
        raise fail(
            "DECL-XLSX-SHEET",
            f"Cần trang '{SHEET}'.",
            f"Sheet '{SHEET}' is required.",
            form=FORM,
            sheet=SHEET,
        )
    reader = _Reader()
    header_values: dict[str, Any] = {}
    rows: list[D02Row] = []
    sheet_rows: list[int] = []
    tk1_cells: dict[int, list[Any]] = {}  # D02 row index -> its TK1 cells, when it has any
    by_stt: dict[int, list[int]] = {}  # STT -> D02 row indexes
    anything = False
    for row in book.rows(SHEET, max_col=_WIDTH):
        number, values = row.number, row.values
        if number == 2:
            header_values = reader.header(values[:_NCOLS])
        if not anything and not _empty(values):
            anything = True
        if number < FIRST_ROW or _empty(values[1:]):
            continue  # header rows, blank rows, rows with only an STT
        if len(rows) >= max_rows:
            raise _too_many(max_rows, SHEET)
        d02 = reader.row(values, number, len(rows) + 1)
        tk1_part = values[_NCOLS:]
        if tk1_part.count(None) != _NTK1:
            tk1_cells[len(rows)] = tk1_part
        if d02.stt is not None:
            by_stt.setdefault(d02.stt, []).append(len(rows))
        rows.append(d02)
        sheet_rows.append(number)
    if not anything:
        raise fail("DECL-EMPTY", "Trang dữ liệu trống.", "The data sheet is empty.", **_AT)
    if not rows:
        raise fail(
            "DECL-EMPTY",
            "Không có dòng dữ liệu nào từ dòng 5.",
            "There are no data rows from row 5.",
            **_AT,
        )
    members: dict[int, list[tuple[int, list[Any]]]] = {}
    if HOUSEHOLD_SHEET in book.sheet_names:
        members = _household(book, reader, by_stt, max_rows)
    if header is not None:
        for f in dataclasses.fields(header):
            value = getattr(header, f.name)
            if value is not None:
                header_values[f.name] = value
                reader.findings = [
                    x for x in reader.findings if x.location.field != f"header.{f.name}"
                ]
    for name in _HEADER_REQUIRED:
        if name not in header_values and name not in reader.bad_header:
            element = _HEADER_KINDS[name][2]
            reader.findings.append(
                finding(
                    "DECL-MISSING",
                    form=FORM,
                    field=f"header.{name}",
                    xpath=f"/{FORM}/ThongTinDonVi/{element}",
                    sheet=SHEET,
                    cell="A2",
                )
            )
    tk1_rows: list[TK1Row] = []
    tk1_sheet_rows: list[int] = []
    member_rows: list[tuple[int, ...]] = []
    for index in sorted(tk1_cells.keys() | members.keys()):
        cells: list[Any] | None = tk1_cells.get(index)
        linked = members.get(index, [])
        sheet_row = sheet_rows[index]
        flag = reader.flag(cells, sheet_row) if cells is not None else _NOTHING
        has_data = bool(linked) or (cells is not None and not _empty(cells[1:]))
        if flag is False:
            if has_data:
                reader.findings.append(
                    finding(
                        "DECL-UNKNOWN",
                        "Cột 'Xuất TK1-TS' là Không: thông tin TK1-TS của dòng bị bỏ qua.",
                        "Column 'Xuất TK1-TS' says no: the row's TK1-TS data was ignored.",
                        form=TK1,
                        sheet=SHEET,
                        cell=f"{get_column_letter(_NCOLS + 1)}{sheet_row}",
                    )
                )
            continue
        if flag is not True and not has_data:
            continue
        n = len(tk1_rows) + 1
        people = [reader.member(c, r, n, k) for k, (r, c) in enumerate(linked, start=1)]
        tk1_rows.append(reader.tk1_row(rows[index], cells, sheet_row, n, people))
        tk1_sheet_rows.append(sheet_row)
        member_rows.append(tuple(r for r, _ in linked))
    tk1 = None
    if tk1_rows:
        tk1_header = TK1Header(
            **{k: header_values[k] for k in _TK1_HEADER_FIELDS if k in header_values}
        )
        tk1 = TK1TS(tk1_header, tk1_rows)
    return WorkbookForms(
        D02TS(D02Header(**header_values), rows),
        tk1,
        reader.findings,
        tuple(sheet_rows),
        tuple(tk1_sheet_rows),
        tuple(member_rows),
    )


_AT: Final = {"form": FORM, "sheet": SHEET}


def _household(
    book: XlsxBook, reader: _Reader, by_stt: dict[int, list[int]], max_rows: int
) -> dict[int, list[tuple[int, list[Any]]]]:
    """The rows of sheet PL TV HGĐ by the D02 row (index) they belong to (column A = its STT)."""
    linked: dict[int, list[tuple[int, list[Any]]]] = {}
    count = 0
    link_target = _Target(TK1, HOUSEHOLD_SHEET, None, "", None)
    for row in book.rows(HOUSEHOLD_SHEET, max_col=len(HOUSEHOLD_COLUMNS)):
        number, values = row.number, row.values
        if number < HOUSEHOLD_FIRST_ROW or _empty(values[1:]):
            continue
        count += 1
        if count > max_rows:
            raise _too_many(max_rows, HOUSEHOLD_SHEET)
        stt: Any = _NOTHING
        if values[0] is not None:
            stt = reader.convert(values[0], number, 1, _MEMBER_COLS[0], link_target)
            if stt is _BAD:
                continue
        indexes = by_stt.get(stt, []) if stt is not _NOTHING else []
        if len(indexes) != 1:
            reader.findings.append(
                finding(
                    "DECL-XLSX-LINK",
                    f"Cột A phải là STT của đúng một người tham gia trên trang {SHEET}.",
                    f"Column A must be the STT of exactly one participant on sheet {SHEET}.",
                    form=TK1,
                    field="household.members",
                    sheet=HOUSEHOLD_SHEET,
                    cell=f"A{number}",
                )
            )
            continue
        linked.setdefault(indexes[0], []).append((number, values))
    return linked


def place_on_sheet(findings: list[Finding], sheet_rows: Sequence[int]) -> list[Finding]:
    """Give findings about D02-TS rows (rules, checks after decoding) their cell on the sheet,
    so a user of the workbook is sent to `DuLieu!M7`, not to an XPath."""
    placed = []
    for f in findings:
        loc = f.location
        column = _COLUMN_OF.get(loc.field or "")
        if loc.cell is None and loc.row is not None and 0 < loc.row <= len(sheet_rows):
            cell = f"{get_column_letter(column)}{sheet_rows[loc.row - 1]}" if column else None
            if cell is None:  # a finding about the whole row: point at its STT cell
                cell = f"A{sheet_rows[loc.row - 1]}"
            f = dataclasses.replace(f, location=dataclasses.replace(loc, sheet=SHEET, cell=cell))
        placed.append(f)
    return placed


# --- writing --------------------------------------------------------------------------------

_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_DATE_FORMAT = "DD/MM/YYYY"
_EMPTY: Final[tuple[Any, str | None]] = (None, None)


def _cell_value(col: _Col, value: Any) -> tuple[Any, str | None]:
    """What to write for a model value, and the number format."""
    kind = col.kind
    if kind == "text":
        if col.name == "pa" and value in _change_types():
            return f"{value}-{_change_types()[value]}", "@"
        return value, "@"
    if kind == "code":
        if col.mapping:
            value = next((k for k, v in col.mapping.items() if v == value), value)
        labels = col.labels
        return (f"{value}-{labels[value]}" if labels and value in labels else value), "@"
    if kind == "bool":
        return ("1-Có" if value else "0-Không"), "@"
    if kind == "int":
        return value, "0"
    if kind == "decimal":
        if not isinstance(value, Decimal):
            value = Decimal(value)
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= 0:
            return int(value), "#,##0"
        as_float = float(value)
        if not as_float.is_integer() and Decimal(repr(as_float)).as_tuple() == value.as_tuple():
            return as_float, "General"
        return str(value).replace(".", ","), "@"  # decimal comma: reads back exactly
    if kind == "date":
        return value, _DATE_FORMAT
    if kind == "month":
        return str(value), "@"
    if kind == "partial":
        if value.kind == 0:
            return value.as_date(), _DATE_FORMAT
        return str(value), "@"
    raise TypeError(kind)


def _row_cells(row: D02Row) -> list[tuple[Any, str | None]]:
    contract_kind, contract_from, contract_to = None, None, None
    set_kinds = [
        code
        for code, (_, f, t) in _CONTRACTS.items()
        if getattr(row, f) is not None or (t is not None and getattr(row, t) is not None)
    ]
    shorthand = len(set_kinds) == 1
    if shorthand:
        contract_kind = set_kinds[0]
        _, f, t = _CONTRACTS[contract_kind]
        contract_from = getattr(row, f)
        contract_to = getattr(row, t) if t else None
        used = {f, t}
    else:
        used = set()
    out: list[tuple[Any, str | None]] = []
    for col in _D02_COLS:
        name = col.name
        if name == _YEAR_ONLY:
            birth = row.birth_date
            out.append(("1-Có", "@") if birth is not None and birth.kind == 2 else _EMPTY)
        elif name == _CONTRACT_KIND:
            label = _LABELS[_CONTRACT_KIND].get(contract_kind or "")
            out.append((f"{contract_kind}-{label}", "@") if contract_kind else _EMPTY)
        elif name in (_CONTRACT_FROM, _CONTRACT_TO):
            value = contract_from if name == _CONTRACT_FROM else contract_to
            out.append((value, _DATE_FORMAT) if value is not None else _EMPTY)
        elif name in used:
            out.append(_EMPTY)
        else:
            value = getattr(row, name)
            out.append(_cell_value(col, value) if value is not None else _EMPTY)
    return out


def _tk1_cells(row: TK1Row) -> list[tuple[Any, str | None]]:
    """Columns BA… of the DuLieu row of `row`'s participant (the identity is the D02 row's)."""
    out: list[tuple[Any, str | None]] = [("1-Có", "@")]
    for col in _TK1_COLS[1:]:
        record = getattr(row, col.group) if col.group else row
        value = None if record is None else getattr(record, col.name)
        out.append(_cell_value(col, value) if value is not None else _EMPTY)
    return out


def _member_cells(stt: int, member: HouseholdMember) -> list[tuple[Any, str | None]]:
    out: list[tuple[Any, str | None]] = []
    for col in _MEMBER_COLS:
        if col.name == _LINK:
            out.append((stt, "0"))
        elif col.name == _BIRTH_KIND:
            birth = member.birth_date
            kind = str(birth.kind) if birth is not None else None
            out.append((f"{kind}-{_LABELS[_BIRTH_KIND][kind]}", "@") if kind else _EMPTY)
        else:
            value = getattr(member, col.field)
            out.append(_cell_value(col, value) if value is not None else _EMPTY)
    return out


def _put(
    ws: Any, row: int, col: int, value: Any, number_format: str | None = None, form: str = FORM
) -> None:
    cell = ws.cell(row=row, column=col)
    try:
        cell.value = value
    except IllegalCharacterError:
        raise fail(
            "DECL-CHAR", form=form, sheet=ws.title, cell=f"{get_column_letter(col)}{row}"
        ) from None
    if isinstance(value, str):
        cell.data_type = "s"  # text starting with "=" stays text, never a formula
    if number_format:
        cell.number_format = number_format


def _width(name: str) -> float:
    if name in ("full_name", "position", "workplace", "note", "pa", "address", "head_address"):
        return 28
    if name in ("stt", _LINK):
        return 6
    return 16


def _headings(ws: Any, row: int, cols: Sequence[_Col], tk1_from: int = 0) -> None:
    """Row `row`: the Vietnamese headings; row `row` + 1: the XML element of each column
    ("TK1." before those of the TK1-TS from column `tk1_from`)."""
    for col, spec in enumerate(cols, start=1):
        _put(ws, row, col, spec.heading)
        prefix = "TK1." if tk1_from and col >= tk1_from else ""
        _put(ws, row + 1, col, prefix + spec.element.replace("/", "."))
        head = ws.cell(row=row, column=col)
        head.font = _BOLD
        head.fill = _HEAD_FILL
        head.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        ws.cell(row=row + 1, column=col).font = Font(italic=True, color="808080")
        ws.column_dimensions[get_column_letter(col)].width = _width(spec.name)
    ws.row_dimensions[row].height = 45


def _lists(wb: Any) -> dict[str, str]:
    """The hidden sheet of drop-down lists; list name -> range formula."""
    ws = wb.create_sheet(LIST_SHEET)
    ws.sheet_state = "hidden"
    lists = {
        "pa": [f"{code}-{name}" for code, name in _change_types().items()],
        **{
            key: [f"{c}-{label}" for c, label in _LABELS[key].items()]
            for key in ("kind", "gender", "bool", "wage_region", _CONTRACT_KIND)
        },
        _MEMBER_GENDER: [f"{c}-{label}" for c, label in _LABELS[_MEMBER_GENDER].items()],
        _BIRTH_KIND: [f"{c}-{label}" for c, label in _LABELS[_BIRTH_KIND].items()],
    }
    formulas = {}
    titles = {
        "pa": "Phương án",
        "kind": "Loại hồ sơ",
        "gender": "Giới tính",
        "bool": "Có/Không",
        "wage_region": "Vùng lương tối thiểu",
        _CONTRACT_KIND: "Loại HĐLĐ",
        _MEMBER_GENDER: "Giới tính (phụ lục hộ gia đình)",
        _BIRTH_KIND: "Loại ngày sinh",
    }
    for col, (key, items) in enumerate(lists.items(), start=1):
        letter = get_column_letter(col)
        _put(ws, 1, col, titles[key])
        for index, item in enumerate(items, start=2):
            _put(ws, index, col, item)
        formulas[key] = f"{LIST_SHEET}!${letter}$2:${letter}${len(items) + 1}"
    return formulas


def _validation(ws: Any, formula: str, column: int, first: int, last: int) -> None:
    letter = get_column_letter(column)
    validation = DataValidation(
        type="list",
        formula1=f"={formula}",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Giá trị không hợp lệ",
        error="Chọn một giá trị trong danh sách.",
    )
    validation.add(f"{letter}{first}:{letter}{last}")
    ws.add_data_validation(validation)


def _validations(ws: Any, household: Any, formulas: dict[str, str], last_row: int) -> None:
    for col, spec in enumerate((*_D02_COLS, *_TK1_COLS), start=1):
        if spec.kind == "bool":
            key = "bool"
        elif spec.kind == "code" and spec.labels is not None:
            key = spec.name
        elif spec.name == "pa":
            key = "pa"
        else:
            continue
        _validation(ws, formulas[key], col, FIRST_ROW, last_row)
    for col, spec in enumerate(_MEMBER_COLS, start=1):
        if spec.name in (_MEMBER_GENDER, _BIRTH_KIND):
            _validation(household, formulas[spec.name], col, HOUSEHOLD_FIRST_ROW, last_row)


def _match(form: D02TS, tk1: TK1TS) -> dict[int, TK1Row]:
    """D02 row index -> the TK1-TS row of its participant: by personal ID, else mã số BHXH,
    else name and birth date. DeclarationError (DECL-XLSX-LINK) when a TK1 row matches no D02
    row, or a row already matched, or its identity differs from the D02 row's."""
    keys: dict[tuple[Any, ...], list[int]] = {}
    for i, d02_row in enumerate(form.rows):
        for key in _identity_keys(d02_row):
            keys.setdefault(key, []).append(i)
    matched: dict[int, TK1Row] = {}
    for n, row in enumerate(tk1.rows, start=1):
        found: list[int] = []
        for key in _identity_keys(row):
            found = keys.get(key, [])
            if found:
                break
        if len(found) != 1 or found[0] in matched:
            raise fail(
                "DECL-XLSX-LINK",
                "(không có đúng một dòng D02-TS cùng số định danh, mã số BHXH hoặc họ tên và "
                "ngày sinh)",
                "(there is not exactly one D02-TS row with the same personal ID, social "
                "insurance number, or name and date of birth)",
                form=TK1,
                row=n,
            )
        d02 = form.rows[found[0]]
        for name in _IDENTITY:
            value, expected = getattr(row, name), getattr(d02, name)
            if name == "full_name" and value is not None and expected is not None:
                value, expected = value.casefold(), expected.casefold()
            if value is not None and value != expected:
                raise fail(
                    "DECL-XLSX-LINK",
                    "(nhân thân khác với dòng D02-TS của người tham gia)",
                    "(the identity differs from the participant's D02-TS row)",
                    form=TK1,
                    row=n,
                    field=name,
                )
        matched[found[0]] = row
    return matched


def _identity_keys(row: D02Row | TK1Row) -> list[tuple[Any, ...]]:
    keys: list[tuple[Any, ...]] = []
    if row.personal_id:
        keys.append(("pid", row.personal_id.strip()))
    if row.bhxh_code:
        keys.append(("bhxh", row.bhxh_code.strip()))
    if row.full_name and row.birth_date:
        keys.append(("name", row.full_name.strip().casefold(), row.birth_date))
    return keys


def write_d02_workbook(form: D02TS, tk1: TK1TS | None = None) -> bytes:
    """`form` (and the TK1-TS of its participants) as a workbook in the layout of
    `read_workbook`; the round trip is lossless (the TK1 identity is the D02 row's, the name
    in capitals).

    Each TK1-TS row goes on the D02 row of the same participant (same personal ID, else mã số
    BHXH, else name and birth date); its household members go to sheet PL TV HGĐ, linked by the
    D02 row's STT. Raises DeclarationError: DECL-CHAR for text a workbook cannot carry,
    DECL-XLSX-LINK for a TK1-TS row that cannot be placed.
    """
    matched = _match(form, tk1) if tk1 is not None else {}
    stts = [row.stt for row in form.rows]
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    _put(ws, 1, 1, TITLE)
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    for index, name in enumerate(_HEADER_FIELDS):
        col = 2 * index + 1
        _put(ws, 2, col, _HEADER_LABELS[name])
        ws.cell(row=2, column=col).font = _BOLD
        value = getattr(form.header, name)
        if value is not None:
            _put(ws, 2, col + 1, *_cell_value(_HEADER_COLS[name], value))
    _headings(ws, 3, (*_D02_COLS, *_TK1_COLS), tk1_from=_NCOLS + 1)
    household = wb.create_sheet(HOUSEHOLD_SHEET)
    _put(household, 1, 1, HOUSEHOLD_TITLE)
    household.cell(row=1, column=1).font = Font(bold=True, size=14)
    _put(household, 2, 1, HOUSEHOLD_NOTE)
    _headings(household, 3, _MEMBER_COLS)
    for col in range(1, len(_MEMBER_COLS) + 1):
        _put(household, 5, col, f"({col})")
    member_row = HOUSEHOLD_FIRST_ROW
    for offset, row in enumerate(form.rows):
        sheet_row = FIRST_ROW + offset
        for col, (value, number_format) in enumerate(_row_cells(row), start=1):
            if value is not None:
                _put(ws, sheet_row, col, value, number_format)
        declared = matched.get(offset)
        if declared is None:
            continue
        for col, (value, number_format) in enumerate(_tk1_cells(declared), start=_NCOLS + 1):
            if value is not None:
                _put(ws, sheet_row, col, value, number_format, TK1)
        members = declared.household.members if declared.household is not None else ()
        if members and (row.stt is None or stts.count(row.stt) != 1):
            raise fail(
                "DECL-XLSX-LINK",
                "(dòng D02-TS cần STT riêng để gắn thành viên hộ gia đình)",
                "(the D02-TS row needs an STT of its own to link the household members)",
                form=FORM,
                row=offset + 1,
                field="stt",
            )
        for member in members:
            assert row.stt is not None  # noqa: S101
            for col, (value, number_format) in enumerate(_member_cells(row.stt, member), 1):
                if value is not None:
                    _put(household, member_row, col, value, number_format, TK1)
            member_row += 1
    ws.freeze_panes = f"C{FIRST_ROW}"
    household.freeze_panes = f"C{HOUSEHOLD_FIRST_ROW}"
    formulas = _lists(wb)
    last_row = max(FIRST_ROW + VALIDATION_ROWS - 1, FIRST_ROW + len(form.rows) - 1, member_row - 1)
    _validations(ws, household, formulas, last_row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def d02_template() -> bytes:
    """The blank import template: header rows, headings, drop-down lists, no data."""
    return write_d02_workbook(D02TS(D02Header()))


# --- the committed examples (docs/examples/) -----------------------------------------------


def example_workbooks() -> dict[str, bytes]:
    """docs/examples/D02-TS.xlsx (from docs/examples/D02-TS.xml and TK1-TS.xml: the TK1-TS of
    the new participant and of the identity correction) and the blank template."""
    from ebhxh.declarations.xmlcodec import decode

    form, _ = decode((EXAMPLES / "D02-TS.xml").read_bytes(), expect=FORM)
    tk1, _ = decode((EXAMPLES / "TK1-TS.xml").read_bytes(), expect=TK1)
    assert isinstance(form, D02TS) and isinstance(tk1, TK1TS)  # noqa: S101
    return {"D02-TS.xlsx": write_d02_workbook(form, tk1), "D02-TS-template.xlsx": d02_template()}


def write_examples(directory: Path = EXAMPLES) -> list[Path]:
    written = []
    for name, data in example_workbooks().items():
        path = directory / name
        path.write_bytes(data)
        written.append(path)
    return written


def sheet_values(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's cell values, read by openpyxl (for comparing workbooks by content, not
    bytes; also an independent reader for the tests)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_vba=False)
    try:
        return {
            ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets
        }
    finally:
        wb.close()


if __name__ == "__main__":
    for path in write_examples():
        print(path)  # noqa: T201
