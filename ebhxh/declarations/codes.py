"""The stable finding codes of the form codecs, with their severity and Vietnamese/English messages.

Codes are part of the public contract (the API returns them, payroll software matches on them):
never reuse or rename one. docs/declarations.md lists them all (a test keeps it so).
Messages never repeat the offending value: declarations carry personal data (vss-domain.md §0.3).
"""

from __future__ import annotations

from typing import Any, Final

from ebhxh.declarations.findings import DeclarationError, Finding, Location, Severity

CODES: Final[dict[str, tuple[Severity, str, str]]] = {
    # --- the file cannot be read at all (decode raises DeclarationError) ---
    "DECL-EMPTY": ("error", "Tệp rỗng.", "The file is empty."),
    "DECL-TOO-LARGE": (
        "error",
        "Tệp vượt quá dung lượng cho phép.",
        "The file is larger than the allowed size.",
    ),
    "DECL-ENCODING": (
        "error",
        "Tệp phải được mã hoá UTF-8.",
        "The file must be encoded in UTF-8.",
    ),
    "DECL-XML-MALFORMED": (
        "error",
        "Tệp không phải là XML hợp lệ.",
        "The file is not well-formed XML.",
    ),
    "DECL-XML-DOCTYPE": (
        "error",
        "Tệp XML có khai báo DOCTYPE/ENTITY, không được chấp nhận.",
        "DOCTYPE and entity declarations are not accepted.",
    ),
    "DECL-ROOT": (
        "error",
        "Phần tử gốc không phải là tờ khai được hỗ trợ hoặc không đúng tờ khai mong đợi.",
        "The root element is not a supported form, or not the expected one.",
    ),
    "DECL-FORM": (
        "error",
        "Mã tờ khai không được hỗ trợ.",
        "Unknown form code.",
    ),
    # --- structure and values (decode returns them next to the form) ---
    "DECL-MISSING": (
        "error",
        "Thiếu thông tin bắt buộc.",
        "A required element is missing or empty.",
    ),
    "DECL-DUPLICATE": (
        "error",
        "Phần tử xuất hiện nhiều lần; chỉ lấy lần đầu.",
        "The element appears more than once; the first one is used.",
    ),
    "DECL-UNKNOWN": (
        "warning",
        "Phần tử không thuộc lược đồ của tờ khai, bị bỏ qua.",
        "An element that is not part of the form's schema was ignored.",
    ),
    "DECL-STRUCTURE": (
        "error",
        "Cấu trúc phần tử không đúng.",
        "The element does not have the expected structure.",
    ),
    "DECL-DATE": (
        "error",
        "Ngày không hợp lệ (định dạng dd/mm/yyyy).",
        "Not a valid date (format dd/mm/yyyy).",
    ),
    "DECL-MONTH": (
        "error",
        "Tháng không hợp lệ (định dạng MM/YYYY).",
        "Not a valid month (format MM/YYYY).",
    ),
    "DECL-NUMBER": (
        "error",
        "Không phải là số hợp lệ (dấu chấm thập phân, không có dấu phân cách hàng nghìn).",
        "Not a valid number (decimal point '.', no thousand separators).",
    ),
    "DECL-CODE": (
        "error",
        "Giá trị không thuộc danh mục cho phép.",
        "The value is not one of the allowed codes.",
    ),
    "DECL-CHAR": (
        "error",
        "Giá trị có ký tự không được phép trong XML.",
        "The value contains characters that XML cannot carry.",
    ),
    # --- XSD validation ---
    "DECL-SCHEMA": (
        "error",
        "Không đúng lược đồ XSD của tờ khai.",
        "Does not conform to the form's XSD schema.",
    ),
    "DECL-TRUNCATED": (
        "warning",
        "Quá nhiều lỗi; các lỗi tiếp theo không được liệt kê.",
        "Too many errors; the rest are not listed.",
    ),
    # --- the envelope BHXHDienTu.xml ---
    "DECL-BASE64": (
        "error",
        "Nội dung tệp đính kèm không phải base64 hợp lệ.",
        "The embedded file is not valid base64.",
    ),
    "DECL-LENGTH": (
        "error",
        "Độ dài tệp (DoDaiFile) không khớp với nội dung base64.",
        "DoDaiFile does not match the length of the base64 content.",
    ),
    "DECL-COUNT": (
        "error",
        "Số lượng tệp (SoLuongFile) không khớp với số tệp trong hồ sơ.",
        "SoLuongFile does not match the number of files in the dossier.",
    ),
    "DECL-FILENAME": (
        "warning",
        "Tên tệp không khớp với mã tờ khai hoặc loại tệp.",
        "The file name does not match the form code or the file type.",
    ),
}


def finding(
    code: str, detail_vi: str | None = None, detail_en: str | None = None, **where: Any
) -> Finding:
    """The Finding of `code` at `where` (Location fields), its message completed by the details."""
    severity, vi, en = CODES[code]
    if detail_vi:
        vi = f"{vi} {detail_vi}"
    if detail_en:
        en = f"{en} {detail_en}"
    return Finding(code, severity, vi, en, Location(**where))


def fail(
    code: str, detail_vi: str | None = None, detail_en: str | None = None, **where: Any
) -> DeclarationError:
    """A DeclarationError for a file-level problem (to `raise`)."""
    return DeclarationError(finding(code, detail_vi, detail_en, **where))


# --- the Excel codec (excel.py; appended) ---
CODES.update(
    {
        "DECL-XLSX-NOT-WORKBOOK": (
            "error",
            "Tệp không phải là bảng tính Excel (.xlsx) đọc được.",
            "The file is not a readable Excel workbook (.xlsx).",
        ),
        "DECL-XLSX-SHEET": (
            "error",
            "Bảng tính thiếu trang dữ liệu theo mẫu.",
            "The workbook lacks the template's data sheet.",
        ),
        "DECL-XLSX-FORMULA": (
            "error",
            "Ô chứa công thức không có giá trị đã tính; công thức không được tính lại.",
            "The cell holds a formula without a cached value; formulas are never evaluated.",
        ),
        "DECL-XLSX-ERROR": (
            "error",
            "Ô chứa giá trị lỗi của Excel (như #N/A, #VALUE!).",
            "The cell holds an Excel error value (such as #N/A or #VALUE!).",
        ),
        "DECL-XLSX-LINK": (
            "error",
            "Không gắn được với đúng một người tham gia của tờ khai.",
            "Cannot be linked to exactly one participant of the form.",
        ),
    }
)
