"""Excel codec for D02-TS (D02-LT), following the portal's import template FileMau-D02LT_v2.xlsx.

Pure Python (no Django); openpyxl only. vss-domain.md §3.5.

    form, findings = read_d02_workbook(data)          # DeclarationError if unreadable
    data = write_d02_workbook(form)                    # the same layout; round trip is lossless
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
  paper form, the portal ids). ``COLUMNS`` lists them. The portal template's TK1 columns
  (xuất TK01, quốc tịch, dân tộc, KCB, chủ hộ, mã hộ gia đình…) are not part of D02Row and are
  not read; neither is sheet ``PL TV HGĐ`` (household members belong to TK1-TS: a warning
  ``DECL-UNKNOWN`` says so when it holds data). A hidden sheet ``DanhMuc`` holds the lists of
  the drop-downs.

Values: dates as Excel dates or text dd/mm/yyyy; months as text MM/YYYY or Excel dates;
numbers as numbers or text. Text numbers follow the Vietnamese convention: "." separates
thousands when followed by groups of exactly three digits ("5.310.000" = 5310000) and ","
is the decimal comma ("2,34"); a single "." followed by other than three digits is a decimal
point ("2.34", as in the XML); several ","-separated groups of three are English thousands.
A number cell 2.34 is Decimal("2.34"). Identifiers typed as numbers (leading zeros lost) are
padded back: Mã số BHXH to 10 digits, an 11-digit CCCD to 12.

Formulas and macros are never evaluated: a formula's cached value (computed by Excel) is
used, and a formula without one is a ``DECL-XLSX-FORMULA`` finding. Findings carry the
sheet and cell (``DuLieu!G6``), the form, the row (1-based among the form's rows, as in the
XML codec) and the field; the equivalent XPath is given too. A file that cannot be read at
all raises ``DeclarationError`` (``DECL-EMPTY``, ``DECL-TOO-LARGE``, ``DECL-XLSX-NOT-WORKBOOK``,
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
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError, InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from ebhxh.declarations.codes import fail, finding
from ebhxh.declarations.findings import DeclarationError, Finding
from ebhxh.declarations.forms import D02TS, D02Header, D02Row, Month, PartialDate
from ebhxh.declarations.xmlcodec import _record

MAX_BYTES: Final = 50 * 1024 * 1024
MAX_UNCOMPRESSED: Final = 500 * 1024 * 1024  # zip-bomb guard: all members, uncompressed
MAX_ROWS: Final = 100_000
SHEET: Final = "DuLieu"
HOUSEHOLD_SHEET: Final = "PL TV HGĐ"
LIST_SHEET: Final = "DanhMuc"
FIRST_ROW: Final = 5
VALIDATION_ROWS: Final = 10_000
FORM: Final = "D02-TS"
TITLE: Final = "DANH SÁCH LAO ĐỘNG THAM GIA BHXH, BHYT, BHTN, BHTNLĐ-BNN (Mẫu D02-LT)"
CHANGE_TYPES: Final = Path(__file__).resolve().parents[1] / "catalog" / "data" / "change_types.json"
EXAMPLES: Final = Path(__file__).resolve().parents[2] / "docs" / "examples"

# Pseudo-fields of the template that are not D02Row attributes.
_YEAR_ONLY, _CONTRACT_KIND, _CONTRACT_FROM, _CONTRACT_TO = (
    "~year_only",
    "~contract_kind",
    "~contract_from",
    "~contract_to",
)
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

_HEADER_FIELDS: Final = tuple(f.name for f in dataclasses.fields(D02Header))

# Display labels of the coded values ("code-label" in the cells and the drop-downs).
_LABELS: Final[dict[str, dict[str, str]]] = {
    "kind": {"1": "Tăng", "2": "Giảm"},
    "gender": {"1": "Nam", "0": "Nữ"},
    "wage_region": {"01": "Vùng I", "02": "Vùng II", "03": "Vùng III", "04": "Vùng IV"},
    "bool": {"1": "Có", "0": "Không"},
    _CONTRACT_KIND: {code: label for code, (label, _, _) in _CONTRACTS.items()},
}


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
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z0-9_]+:)?f[\s>/]")


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


_ROW_KINDS: Final = _kinds(D02Row)
_HEADER_KINDS: Final = _kinds(D02Header)
_ROW_LABELS: Final = {f.name: f.metadata["label_vi"] for f in dataclasses.fields(D02Row)}
_HEADER_LABELS: Final = {f.name: f.metadata["label_vi"] for f in dataclasses.fields(D02Header)}
_REQUIRED: Final = tuple(f.name for f in _record(D02Row).required)
_HEADER_REQUIRED: Final = tuple(f.name for f in _record(D02Header).required)


def _parse(name: str, kind: str, choices: frozenset[str] | None, value: Any) -> Any:
    """The model value of a non-empty cell; ValueError (or ArithmeticError) if unreadable."""
    if kind == "text":
        text = _text_of(value)
        if not isinstance(value, str) and name == "bhxh_code" and text.isdigit():
            text = text.zfill(10)
        elif not isinstance(value, str) and name == "personal_id" and len(text) == 11:
            text = text.zfill(12)
        if name == "pa" and "-" in text:
            text = text.split("-", 1)[0].strip()
        return text
    if kind == "code":
        labels = _LABELS.get(name)
        code = _code_of(value, labels, 2 if name == "wage_region" else 0)
        if choices is not None and code not in choices:
            raise ValueError
        return code
    return _PARSERS[kind](value)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Reader:
    """One pass over the data sheet; findings in `self.findings`."""

    def __init__(self, formulas: set[tuple[int, int]]) -> None:
        self.formulas = formulas
        self.findings: list[Finding] = []
        self.bad_header: set[str] = set()

    def add(
        self,
        code: str,
        sheet_row: int,
        col: int,
        row: int | None,
        field: str | None,
        xpath: str | None,
        detail: tuple[str | None, str | None] = (None, None),
    ) -> None:
        self.findings.append(
            finding(
                code,
                detail[0],
                detail[1],
                form=FORM,
                row=row,
                field=field,
                xpath=xpath,
                sheet=SHEET,
                cell=f"{get_column_letter(col)}{sheet_row}",
            )
        )

    def header(self, cells: tuple[Any, ...]) -> dict[str, Any]:
        by_label: dict[str, str] = {}
        for name in _HEADER_FIELDS:
            by_label[_HEADER_LABELS[name].casefold()] = name
            by_label[_HEADER_KINDS[name][2].casefold()] = name
        values: dict[str, Any] = {}
        for col in range(1, len(cells), 2):
            label = cells[col - 1]
            if not isinstance(label, str):
                continue
            key = by_label.get(label.strip().rstrip(":").strip().casefold())
            if key is None or key in values:
                continue
            parsed = self.cell(cells, 2, col + 1, key, _HEADER_KINDS[key], None, "header")
            if parsed is _BAD:
                self.bad_header.add(key)
            elif parsed is not _NOTHING:
                values[key] = parsed
        return values

    def cell(
        self,
        cells: tuple[Any, ...],
        sheet_row: int,
        col: int,
        name: str,
        spec: tuple[str, frozenset[str] | None, str],
        row: int | None,
        where: str,
    ) -> Any:
        """The parsed value, or _NOTHING (blank, or reported)."""
        value = cells[col - 1] if col <= len(cells) else None
        if value is None and (sheet_row, col) not in self.formulas:
            return _NOTHING
        return self.convert(value, sheet_row, col, name, spec, row, where)

    def convert(
        self,
        value: Any,
        sheet_row: int,
        col: int,
        name: str,
        spec: tuple[str, frozenset[str] | None, str],
        row: int | None,
        where: str,
    ) -> Any:
        """`cell` for a value already taken from the row (None only for a formula)."""
        kind, choices, element = spec
        if value is None:
            self.add("DECL-XLSX-FORMULA", sheet_row, col, row, *_where(name, element, row, where))
            return _BAD
        if value.__class__ is str:
            if not value.strip():
                return _NOTHING
            if kind == "text" and name != "pa":
                return value
        try:
            return _parse(name, kind, choices, value)
        except (ValueError, ArithmeticError, TypeError):
            code, vi, en = _KIND_PROBLEM.get(kind, ("DECL-CODE", None, None))
            if kind == "code":
                allowed = ", ".join(sorted(choices or ()))
                vi, en = f"Giá trị cho phép: {allowed}.", f"Allowed: {allowed}."
            field, xpath = _where(name, element, row, where)
            self.add(code, sheet_row, col, row, field, xpath, (vi, en))
            return _BAD

    def row(self, cells: tuple[Any, ...], sheet_row: int, row: int) -> D02Row:
        values: dict[str, Any] = {}
        bad: set[str] = set()
        extra: dict[str, Any] = {}
        formulas = self.formulas
        for col, value in enumerate(cells, start=1):
            if value is None and (not formulas or (sheet_row, col) not in formulas):
                continue
            name, spec = _SPECS[col - 1]
            parsed = self.convert(value, sheet_row, col, name, spec, row, "row")
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
        self.contract(extra, values, bad, sheet_row, row)
        for name in _REQUIRED:
            if name not in values and name not in bad:
                col = _COLUMN_OF[name]
                element = _ROW_KINDS[name][2]
                xpath = f"/{FORM}/DanhSach/NguoiLaoDong[{row}]/{element}"
                self.add("DECL-MISSING", sheet_row, col, row, name, xpath)
        return D02Row(**values)

    def contract(
        self,
        extra: dict[str, Any],
        values: dict[str, Any],
        bad: set[str],
        sheet_row: int,
        row: int,
    ) -> None:
        """Y/Z/AA (loại HĐLĐ, từ/đến ngày) into the contract columns 20–24."""
        kind = extra.get(_CONTRACT_KIND)
        dates = [(extra[k][0], extra[k][1]) for k in (_CONTRACT_FROM, _CONTRACT_TO) if k in extra]
        if kind is None or kind[0] is _BAD:
            if kind is None and dates:
                _, col = dates[0]
                self.add(
                    "DECL-MISSING",
                    sheet_row,
                    _COLUMN_OF[_CONTRACT_KIND],
                    row,
                    "contract_kind",
                    None,
                    ("Thiếu loại HĐLĐ.", "The contract type is missing."),
                )
            return
        _, from_field, to_field = _CONTRACTS[kind[0]]
        for pseudo, target in ((_CONTRACT_FROM, from_field), (_CONTRACT_TO, to_field)):
            if pseudo not in extra or extra[pseudo][0] is _BAD:
                continue
            value, col = extra[pseudo]
            if target is None:
                self.add(
                    "DECL-STRUCTURE",
                    sheet_row,
                    col,
                    row,
                    "contract_indefinite_from",
                    None,
                    (
                        "HĐLĐ không xác định thời hạn không có ngày kết thúc.",
                        "An indefinite-term contract has no end date.",
                    ),
                )
                continue
            if target in values and values[target] != value:
                element = _ROW_KINDS[target][2]
                self.add(
                    "DECL-DUPLICATE",
                    sheet_row,
                    col,
                    row,
                    target,
                    f"/{FORM}/DanhSach/NguoiLaoDong[{row}]/{element}",
                )
                continue
            if target not in bad:
                values[target] = value


_BAD: Final = object()
_NOTHING: Final = object()
_PSEUDO: Final[dict[str, tuple[str, frozenset[str] | None, str]]] = {
    _YEAR_ONLY: ("bool", None, "ChiCoNamSinh"),
    _CONTRACT_KIND: ("code", frozenset(_CONTRACTS), "LoaiHdld"),
    _CONTRACT_FROM: ("date", None, "HdldTuNgay"),
    _CONTRACT_TO: ("date", None, "HdldDenNgay"),
}
_SPECS: Final = tuple(
    (name, _PSEUDO[name] if name[0] == "~" else _ROW_KINDS[name]) for name, _ in COLUMNS
)


def _where(name: str, element: str, row: int | None, where: str) -> tuple[str, str]:
    """The field path and XPath of a finding."""
    if where == "header":
        return f"header.{name}", f"/{FORM}/ThongTinDonVi/{element}"
    return name, f"/{FORM}/DanhSach/NguoiLaoDong[{row}]/{element}"


_COLUMN_OF: Final = {name: col for col, (name, _) in enumerate(COLUMNS, start=1)}


# --- opening the file safely ----------------------------------------------------------------

_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _not_workbook(vi: str, en: str) -> DeclarationError:
    return fail("DECL-XLSX-NOT-WORKBOOK", vi, en, form=FORM)


def _check_zip(data: bytes, max_uncompressed: int) -> bool:
    """Refuse what is not an xlsx package; True when a worksheet contains formulas."""
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
            return any(
                _FORMULA_TAG.search(archive.read(info))
                for info in members
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
            )
    except DeclarationError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise _not_workbook("", "") from None
    except (NotImplementedError, RuntimeError, KeyError, IndexError, TypeError):
        raise _not_workbook("", "") from None
    except Exception:  # zlib.error and other decompression failures  # noqa: BLE001
        raise _not_workbook("", "") from None


def _open(data: bytes, *, data_only: bool) -> Any:
    return load_workbook(io.BytesIO(data), read_only=True, data_only=data_only, keep_vba=False)


def _formula_cells(data: bytes) -> set[tuple[int, int]]:
    """(row, column) of every formula cell of the data sheet, read without evaluating."""
    wb = _open(data, data_only=False)
    try:
        ws = wb[SHEET]
        ws.reset_dimensions()
        found = set()
        for cells in ws.iter_rows(max_col=_NCOLS):
            for cell in cells:
                if getattr(cell, "data_type", None) == "f":
                    found.add((cell.row, cell.column))
        return found
    finally:
        wb.close()


def _rows(ws: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    yield from enumerate(ws.iter_rows(max_col=_NCOLS, values_only=True), start=1)


def read_d02_workbook(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    max_uncompressed: int = MAX_UNCOMPRESSED,
    header: D02Header | None = None,
    sheet_rows: list[int] | None = None,
) -> tuple[D02TS, list[Finding]]:
    """The D02-TS form in workbook `data` (portal template layout) and what is wrong with it.

    `header` overrides the sheet's header: its non-None fields replace the sheet's values
    (e.g. the unit and period known to the server). When `sheet_rows` is a list, it receives
    the sheet row of each form row, for `place_on_sheet`. Raises only DeclarationError.
    """
    if not data:
        raise fail("DECL-EMPTY", form=FORM)
    if len(data) > max_bytes:
        raise fail("DECL-TOO-LARGE", form=FORM)
    has_formulas = _check_zip(data, max_uncompressed)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about parts it drops (data-validation extensions, unknown
            # extensions, missing default styles); they do not affect the values read.
            warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")
            return _read(data, max_rows, header, has_formulas, sheet_rows)
    except DeclarationError:
        raise
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:
        raise _not_workbook("", "") from exc
    except Exception as exc:  # openpyxl raises many kinds on corrupt parts  # noqa: BLE001
        raise _not_workbook("", "") from exc


def _read(
    data: bytes,
    max_rows: int,
    header: D02Header | None,
    has_formulas: bool,
    sheet_rows: list[int] | None = None,
) -> tuple[D02TS, list[Finding]]:
    formulas = _formula_cells_safe(data) if has_formulas else set()
    wb = _open(data, data_only=True)
    try:
        if SHEET not in wb.sheetnames:
            raise fail(
                "DECL-XLSX-SHEET",
                f"Cần trang '{SHEET}'.",
                f"Sheet '{SHEET}' is required.",
                form=FORM,
                sheet=SHEET,
            )
        reader = _Reader(formulas)
        ws = wb[SHEET]
        ws.reset_dimensions()
        header_values: dict[str, Any] = {}
        rows: list[D02Row] = []
        anything = False
        for sheet_row, cells in _rows(ws):
            if sheet_row == 2:
                header_values = reader.header(cells)
            if any(not _blank(v) for v in cells):
                anything = True
            if sheet_row < FIRST_ROW:
                continue
            if all(_blank(v) for v in cells[1:]) and not any(
                (sheet_row, c) in formulas for c in range(2, _NCOLS + 1)
            ):
                continue  # blank, or only STT
            if len(rows) >= max_rows:
                raise fail(
                    "DECL-TOO-LARGE",
                    f"Tối đa {max_rows} dòng.",
                    f"At most {max_rows} rows.",
                    form=FORM,
                    sheet=SHEET,
                )
            rows.append(reader.row(cells, sheet_row, len(rows) + 1))
            if sheet_rows is not None:
                sheet_rows.append(sheet_row)
        if not anything:
            raise fail("DECL-EMPTY", "Trang dữ liệu trống.", "The data sheet is empty.", **_AT)
        if not rows:
            raise fail(
                "DECL-EMPTY",
                "Không có dòng dữ liệu nào từ dòng 5.",
                "There are no data rows from row 5.",
                **_AT,
            )
        reader.findings.extend(_household_note(wb))
    finally:
        wb.close()
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
    return D02TS(D02Header(**header_values), rows), reader.findings


_AT: Final = {"form": FORM, "sheet": SHEET}


def place_on_sheet(findings: list[Finding], sheet_rows: list[int]) -> list[Finding]:
    """Give findings about form rows (rules, checks after decoding) their cell on the sheet,
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


def _formula_cells_safe(data: bytes) -> set[tuple[int, int]]:
    try:
        return _formula_cells(data)
    except KeyError:  # no data sheet: reported by the main pass
        return set()


def _household_note(wb: Any) -> list[Finding]:
    if HOUSEHOLD_SHEET not in wb.sheetnames:
        return []
    ws = wb[HOUSEHOLD_SHEET]
    for cells in ws.iter_rows(min_row=6, max_col=30, values_only=True):
        if any(not _blank(v) for v in cells):
            return [
                finding(
                    "DECL-UNKNOWN",
                    "Thành viên hộ gia đình thuộc TK1-TS, không đọc trong D02-TS.",
                    "Household members belong to TK1-TS and are not read for D02-TS.",
                    form=FORM,
                    sheet=HOUSEHOLD_SHEET,
                )
            ]
    return []


# --- writing --------------------------------------------------------------------------------

_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_DATE_FORMAT = "DD/MM/YYYY"


def _cell_value(name: str, kind: str, value: Any) -> tuple[Any, str | None]:
    """What to write for a model value, and the number format."""
    if kind == "text":
        if name == "pa" and value in _change_types():
            return f"{value}-{_change_types()[value]}", "@"
        return value, "@"
    if kind == "code":
        labels = _LABELS.get(name)
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
    for name, _ in COLUMNS:
        if name == _YEAR_ONLY:
            birth = row.birth_date
            out.append(("1-Có", "@") if birth is not None and birth.kind == 2 else (None, None))
        elif name == _CONTRACT_KIND:
            label = _LABELS[_CONTRACT_KIND].get(contract_kind or "")
            out.append((f"{contract_kind}-{label}", "@") if contract_kind else (None, None))
        elif name in (_CONTRACT_FROM, _CONTRACT_TO):
            value = contract_from if name == _CONTRACT_FROM else contract_to
            out.append((value, _DATE_FORMAT) if value is not None else (None, None))
        elif name in used:
            out.append((None, None))
        else:
            value = getattr(row, name)
            kind = _ROW_KINDS[name][0]
            out.append(_cell_value(name, kind, value) if value is not None else (None, None))
    return out


def _put(ws: Any, row: int, col: int, value: Any, number_format: str | None = None) -> None:
    cell = ws.cell(row=row, column=col)
    try:
        cell.value = value
    except IllegalCharacterError:
        raise fail(
            "DECL-CHAR", form=FORM, sheet=SHEET, cell=f"{get_column_letter(col)}{row}"
        ) from None
    if isinstance(value, str):
        cell.data_type = "s"  # text starting with "=" stays text, never a formula
    if number_format:
        cell.number_format = number_format


def _heading(name: str, heading: str | None) -> str:
    if heading:
        return heading
    return str(_ROW_LABELS[name])


def _element(name: str) -> str:
    return _PSEUDO[name][2] if name.startswith("~") else _ROW_KINDS[name][2]


def _width(name: str) -> float:
    if name in ("full_name", "position", "workplace", "note", "pa"):
        return 28
    if name in ("stt",):
        return 6
    return 16


def _lists(wb: Any) -> dict[str, str]:
    """The hidden sheet of drop-down lists; column name -> range formula."""
    ws = wb.create_sheet(LIST_SHEET)
    ws.sheet_state = "hidden"
    lists = {
        "pa": [f"{code}-{name}" for code, name in _change_types().items()],
        "kind": [f"{c}-{label}" for c, label in _LABELS["kind"].items()],
        "gender": [f"{c}-{label}" for c, label in _LABELS["gender"].items()],
        "bool": [f"{c}-{label}" for c, label in _LABELS["bool"].items()],
        "wage_region": [f"{c}-{label}" for c, label in _LABELS["wage_region"].items()],
        _CONTRACT_KIND: [f"{c}-{label}" for c, label in _LABELS[_CONTRACT_KIND].items()],
    }
    formulas = {}
    titles = {
        "pa": "Phương án",
        "kind": "Loại hồ sơ",
        "gender": "Giới tính",
        "bool": "Có/Không",
        "wage_region": "Vùng lương tối thiểu",
        _CONTRACT_KIND: "Loại HĐLĐ",
    }
    for col, (key, items) in enumerate(lists.items(), start=1):
        letter = get_column_letter(col)
        _put(ws, 1, col, titles[key])
        for index, item in enumerate(items, start=2):
            _put(ws, index, col, item)
        formulas[key] = f"{LIST_SHEET}!${letter}$2:${letter}${len(items) + 1}"
    return formulas


def _validations(ws: Any, formulas: dict[str, str], last_row: int) -> None:
    targets = {
        "pa": "pa",
        "kind": "kind",
        "gender": "gender",
        "wage_region": "wage_region",
        _CONTRACT_KIND: _CONTRACT_KIND,
        _YEAR_ONLY: "bool",
        "has_book": "bool",
        "deceased": "bool",
        "charge_interest": "bool",
    }
    for name, list_key in targets.items():
        letter = get_column_letter(_COLUMN_OF[name])
        validation = DataValidation(
            type="list",
            formula1=f"={formulas[list_key]}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Giá trị không hợp lệ",
            error="Chọn một giá trị trong danh sách.",
        )
        validation.add(f"{letter}{FIRST_ROW}:{letter}{last_row}")
        ws.add_data_validation(validation)


def write_d02_workbook(form: D02TS) -> bytes:
    """`form` as a workbook in the layout of `read_d02_workbook` (round trip is lossless).

    Raises DeclarationError (DECL-CHAR) for text a workbook cannot carry.
    """
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
            kind = _HEADER_KINDS[name][0]
            _put(ws, 2, col + 1, *_cell_value(name, kind, value))
    for col, (name, heading) in enumerate(COLUMNS, start=1):
        _put(ws, 3, col, _heading(name, heading))
        _put(ws, 4, col, _element(name))
        head = ws.cell(row=3, column=col)
        head.font = _BOLD
        head.fill = _HEAD_FILL
        head.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        ws.cell(row=4, column=col).font = Font(italic=True, color="808080")
        ws.column_dimensions[get_column_letter(col)].width = _width(name)
    ws.row_dimensions[3].height = 45
    for offset, row in enumerate(form.rows):
        sheet_row = FIRST_ROW + offset
        for col, (value, number_format) in enumerate(_row_cells(row), start=1):
            if value is not None:
                _put(ws, sheet_row, col, value, number_format)
    ws.freeze_panes = f"C{FIRST_ROW}"
    formulas = _lists(wb)
    last_row = max(FIRST_ROW + VALIDATION_ROWS - 1, FIRST_ROW + len(form.rows) - 1)
    _validations(ws, formulas, last_row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def d02_template() -> bytes:
    """The blank import template: header rows, headings, drop-down lists, no data."""
    return write_d02_workbook(D02TS(D02Header()))


# --- the committed examples (docs/examples/) -----------------------------------------------


def example_workbooks() -> dict[str, bytes]:
    """docs/examples/D02-TS.xlsx (from docs/examples/D02-TS.xml) and the blank template."""
    from ebhxh.declarations.xmlcodec import decode

    form, _ = decode((EXAMPLES / "D02-TS.xml").read_bytes(), expect=FORM)
    assert isinstance(form, D02TS)  # noqa: S101
    return {"D02-TS.xlsx": write_d02_workbook(form), "D02-TS-template.xlsx": d02_template()}


def write_examples(directory: Path = EXAMPLES) -> list[Path]:
    written = []
    for name, data in example_workbooks().items():
        path = directory / name
        path.write_bytes(data)
        written.append(path)
    return written


def sheet_values(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's cell values (for comparing workbooks by content, not bytes)."""
    wb = _open(data, data_only=False)
    try:
        return {
            ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets
        }
    finally:
        wb.close()


if __name__ == "__main__":
    for path in write_examples():
        print(path)  # noqa: T201
