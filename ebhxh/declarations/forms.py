"""Form models: D02-TS, TK1-TS, TK3-TS, D01-TS, D03-TS and D05-TS as frozen dataclasses.

Pure Python (no Django). Attribute names are English; each field's metadata carries what the
codecs, the XSD and the documentation need:

* ``xml``: the element name in ebhxh's own form schema (vss-domain.md §12.3; the real VSS
  schema is not public, so these names are ebhxh's and may be adapted behind the codec);
* ``label_vi`` / ``label_en``: the label on the paper template;
* ``col`` (D02-LT and D01-TS column number) or ``indicator`` (TK1-TS/TK3-TS "[NN]");
* ``portal``: the portal's JSON field name (vss-domain.md §3.3, §3.5 [C]) when one is known,
  with ``portal_confidence`` ("C" confirmed, "I" composed from a confirmed pattern);
* ``required``, ``choices`` (closed code lists), ``max_length`` (portal or template limits);
* ``inferred``: the field itself is an inference ([I]), not taken from a source.

Every leaf field is optional in Python (``None``) even when the form requires it: a decoder
returns a row whose bad value is None next to a Finding, so all problems are reported at once.
``required`` is enforced by the decoder (DECL-MISSING) and by the XSD.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Literal

# --- value types ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month, written MM/YYYY on the forms (tuThang, denThang, kyKeKhai)."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1 <= self.month <= 12 and 1 <= self.year <= 9999):
            raise ValueError(f"not a month: {self.month:02d}/{self.year:04d}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """`"07/2026"` -> Month(2026, 7); ValueError for anything else."""
        match = _MONTH.fullmatch(text)
        if not match:
            raise ValueError("expected MM/YYYY")
        return cls(int(match[2]), int(match[1]))

    @classmethod
    def of(cls, day: dt.date) -> Month:
        return cls(day.year, day.month)

    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    def __str__(self) -> str:
        return f"{self.month:02d}/{self.year:04d}"


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A birth date known to the day, the month or only the year (TK1-TS [03]).

    Written dd/mm/yyyy, mm/yyyy or yyyy; `kind` is the portal's "Loại ngày sinh" (`Ccns`):
    0 full date, 1 month and year, 2 year only.
    """

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.day is not None and self.month is None:
            raise ValueError("a day needs a month")
        if self.day is not None and self.month is not None:
            dt.date(self.year, self.month, self.day)  # raises ValueError when impossible
        elif self.month is not None and not 1 <= self.month <= 12:
            raise ValueError("month out of range")
        if not 1 <= self.year <= 9999:
            raise ValueError("year out of range")

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        match = _PARTIAL_DATE.fullmatch(text)
        if not match:
            raise ValueError("expected dd/mm/yyyy, mm/yyyy or yyyy")
        day, month, year = match[1], match[2], match[3]
        return cls(int(year), int(month) if month else None, int(day) if day else None)

    @classmethod
    def of(cls, day: dt.date) -> PartialDate:
        return cls(day.year, day.month, day.day)

    @property
    def kind(self) -> Literal[0, 1, 2]:
        if self.day is not None:
            return 0
        return 1 if self.month is not None else 2

    def as_date(self) -> dt.date | None:
        if self.day is None or self.month is None:
            return None
        return dt.date(self.year, self.month, self.day)

    def __str__(self) -> str:
        if self.day is not None:
            return f"{self.day:02d}/{self.month:02d}/{self.year:04d}"
        if self.month is not None:
            return f"{self.month:02d}/{self.year:04d}"
        return f"{self.year:04d}"


_MONTH = re.compile(r"(0[1-9]|1[0-2])/([0-9]{4})")
_PARTIAL_DATE = re.compile(r"(?:(?:([0-9]{2})/)?([0-9]{2})/)?([0-9]{4})")

SalaryBasis = Literal["coefficient", "amount"]


def salary_basis(value: Decimal) -> SalaryBasis:
    """Coefficient or amount, by the portal's rule for tienLuong (vss-domain.md §3.5 [C]).

    The portal treats a value ≤ 100 written without a decimal point as a coefficient (hệ số,
    state pay-scale units: the allowance columns 13–15 apply) and anything else as an amount
    in VND. "Without a decimal point" is read on the Decimal as written: Decimal("5") is a
    coefficient, Decimal("2.34") is not. That is the portal's rule as reverse-engineered
    (SRC-FINIZI `setValidateTienLuongD02`), not a statement that 2.34 VND is a sensible salary.
    """
    exponent = value.as_tuple().exponent
    written_without_point = isinstance(exponent, int) and exponent >= 0
    return "coefficient" if value <= 100 and written_without_point else "amount"


# --- field metadata -------------------------------------------------------------------------

# Codes of the closed lists the schema fixes. Gender codes differ between portal sources
# (vss-domain.md §6.4): ebhxh's schema uses 1 = nam (male), 0 = nữ (female) on every form [I];
# the adapter to a real VSS schema maps them.
GENDER = ("0", "1")
YES_NO = ("0", "1")
REGION = ("01", "02", "03", "04")  # minimum-wage regions I–IV (portal API 087 [C])
D02_KIND = ("1", "2")  # loai: 1 = tăng (increase), 2 = giảm (decrease) [S]
D03_LIST_KIND = ("TANG", "GIAM")  # D03-TS variants [S]


def _field(
    xml: str,
    label_vi: str,
    label_en: str,
    *,
    portal: str | None = None,
    portal_confidence: str = "C",
    col: int | None = None,
    indicator: str | None = None,
    required: bool = False,
    choices: tuple[str, ...] | None = None,
    max_length: int | None = None,
    inferred: bool = False,
    item: str | None = None,
    note: str | None = None,
) -> Any:
    metadata: dict[str, Any] = {"xml": xml, "label_vi": label_vi, "label_en": label_en}
    optional = {
        "portal": portal,
        "portal_confidence": portal_confidence if portal else None,
        "col": col,
        "indicator": indicator,
        "choices": choices,
        "max_length": max_length,
        "item": item,
        "note": note,
    }
    metadata.update({k: v for k, v in optional.items() if v is not None})
    metadata["required"] = required
    metadata["inferred"] = inferred
    if item is not None:  # a repeated child element: an immutable tuple, empty by default
        return field(default=(), metadata=metadata)
    return field(default=None, metadata=metadata)


# --- headers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitHeader:
    """The unit block at the top of D02-TS, D01-TS, D03-TS and D05-TS (vss-domain.md §3.5)."""

    unit_name: str | None = _field(
        "TenDonVi", "Tên đơn vị", "Unit name", portal="tenDonVi", required=True
    )
    unit_code: str | None = _field(
        "MaDonVi", "Mã đơn vị", "Unit code", portal="maDonVi", required=True, max_length=7
    )
    tax_code: str | None = _field("MaSoThue", "Mã số thuế", "Tax code", max_length=14)
    address: str | None = _field("DiaChi", "Địa chỉ", "Address")
    phone: str | None = _field("DienThoai", "Điện thoại", "Phone")
    email: str | None = _field("Email", "Email", "E-mail")
    agency_code: str | None = _field(
        "MaCoQuan", "Mã cơ quan BHXH", "Agency code", portal="maCoQuan", max_length=5
    )
    procedure_code: str | None = _field(
        "MaThuTuc", "Mã thủ tục", "Procedure code", portal="maThuTuc"
    )
    period: Month | None = _field(
        "KyKeKhai",
        "Kỳ kê khai",
        "Declaration period",
        portal="kyKeKhai",
        required=True,
        note="portal writes MMYYYY, the form MM/YYYY",
    )
    batch: int | None = _field("Dot", "Đợt", "Batch number within the period", portal="dot")
    document_number: str | None = _field("So", "Số", "Document number")
    place: str | None = _field("NoiLap", "Địa danh", "Place (of the date line)")
    date: dt.date | None = _field("NgayLap", "Ngày lập", "Date")
    preparer: str | None = _field("NguoiLap", "Người lập biểu", "Prepared by", inferred=True)
    representative: str | None = _field(
        "NguoiDaiDien", "Đại diện đơn vị", "Unit representative (signer)"
    )


@dataclass(frozen=True, slots=True)
class D02Header(UnitHeader):
    """D02-LT header (QĐ 1040/2020): the unit block."""


@dataclass(frozen=True, slots=True)
class D01Header(UnitHeader):
    """D01-TS header: the unit block."""


@dataclass(frozen=True, slots=True)
class D03Header(UnitHeader):
    """D03-TS header: the unit block and the variant of the list (tăng or giảm)."""

    list_kind: str | None = _field(
        "LoaiDanhSach",
        "Loại danh sách (tăng/giảm)",
        "List variant (increase/decrease)",
        choices=D03_LIST_KIND,
    )


@dataclass(frozen=True, slots=True)
class D05Header(UnitHeader):
    """D05-TS header: the unit (or collection agent) block."""


@dataclass(frozen=True, slots=True)
class TK1Header:
    """Who submits the TK1-TS rows: a unit (procedure 600) or nobody (an individual's own TK1)."""

    unit_name: str | None = _field("TenDonVi", "Tên đơn vị", "Unit name", portal="tenDonVi")
    unit_code: str | None = _field(
        "MaDonVi", "Mã đơn vị", "Unit code", portal="maDonVi", max_length=7
    )
    tax_code: str | None = _field("MaSoThue", "Mã số thuế", "Tax code", max_length=14)
    agency_code: str | None = _field(
        "MaCoQuan", "Mã cơ quan BHXH", "Agency code", portal="maCoQuan", max_length=5
    )
    procedure_code: str | None = _field(
        "MaThuTuc", "Mã thủ tục", "Procedure code", portal="maThuTuc"
    )
    period: Month | None = _field("KyKeKhai", "Kỳ kê khai", "Declaration period", portal="kyKeKhai")
    batch: int | None = _field("Dot", "Đợt", "Batch number within the period", portal="dot")
    place: str | None = _field("NoiLap", "Địa danh", "Place (of the date line)")
    date: dt.date | None = _field("NgayLap", "Ngày lập", "Date")


@dataclass(frozen=True, slots=True)
class TK3Header:
    """TK3-TS, the unit's own declaration: indicators [01]–[13] (vss-domain.md §3.4 [S])."""

    unit_name: str | None = _field(
        "TenDonVi", "Tên đơn vị", "Unit name", indicator="01", required=True
    )
    unit_code: str | None = _field(
        "MaDonVi",
        "Mã đơn vị",
        "Unit code (blank for a new unit)",
        indicator="02",
        max_length=7,
    )
    tax_code: str | None = _field(
        "MaSoThue", "Mã số thuế", "Tax code", indicator="03", max_length=14
    )
    registered_address: str | None = _field(
        "DiaChiDangKy", "Địa chỉ đăng ký kinh doanh", "Registered address", indicator="04"
    )
    unit_type: str | None = _field(
        "LoaiHinhDonVi", "Loại hình đơn vị", "Type of unit", indicator="05"
    )
    main_business: str | None = _field(
        "NganhNgheKinhDoanh", "Ngành nghề kinh doanh chính", "Main business", indicator="06"
    )
    contact_address: str | None = _field(
        "DiaChiLienHe", "Địa chỉ liên hệ/giao dịch", "Contact address", indicator="07"
    )
    phone: str | None = _field("DienThoai", "Điện thoại", "Phone", indicator="08")
    email: str | None = _field("Email", "Email", "E-mail", indicator="09")
    license_number: str | None = _field(
        "SoGiayPhep",
        "Số giấy đăng ký kinh doanh / quyết định thành lập",
        "Business registration or establishment decision number",
        indicator="10.1",
    )
    license_issuer: str | None = _field("NoiCapGiayPhep", "Nơi cấp", "Issued by", indicator="10.2")
    license_date: dt.date | None = _field(
        "NgayCapGiayPhep", "Ngày cấp", "Issued on", indicator="10", inferred=True
    )
    payment_method: str | None = _field(
        "PhuongThucDong",
        "Phương thức đóng",
        "Payment frequency (monthly, quarterly, 6-monthly)",
        indicator="11",
    )
    change_content: str | None = _field(
        "NoiDungThayDoi", "Nội dung thay đổi, yêu cầu", "Changes requested", indicator="12"
    )
    attachments: str | None = _field(
        "HoSoKemTheo", "Hồ sơ kèm theo", "Attached documents", indicator="13"
    )
    agency_code: str | None = _field(
        "MaCoQuan", "Mã cơ quan BHXH", "Agency code", portal="maCoQuan", max_length=5
    )
    procedure_code: str | None = _field(
        "MaThuTuc", "Mã thủ tục", "Procedure code", portal="maThuTuc"
    )
    place: str | None = _field("NoiLap", "Địa danh", "Place (of the date line)")
    date: dt.date | None = _field("NgayLap", "Ngày lập", "Date")
    representative: str | None = _field(
        "NguoiDaiDien", "Đại diện đơn vị", "Unit representative (signer)"
    )


# --- D02-TS rows ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class D02Row:
    """One participant row of D02-LT (portal id D02-TS): the 27 columns and the portal fields."""

    stt: int | None = _field("Stt", "STT", "Row number", col=1, portal="stt")
    pa: str | None = _field(
        "PhuongAn",
        "Phương án",
        "Change type (PA catalogue, API 082)",
        portal="pa",
        required=True,
        max_length=100,
    )
    kind: str | None = _field(
        "Loai",
        "Loại (tăng/giảm)",
        "1 = increase, 2 = decrease",
        portal="loai",
        choices=D02_KIND,
    )
    full_name: str | None = _field(
        "HoTen", "Họ và tên", "Full name", col=2, portal="Hoten", required=True, max_length=100
    )
    bhxh_code: str | None = _field(
        "MaSoBhxh", "Mã số BHXH", "Social insurance number", col=3, portal="Masobhxh", max_length=10
    )
    birth_date: PartialDate | None = _field(
        "NgaySinh", "Ngày sinh", "Date of birth", col=4, portal="Ngaysinh", required=True
    )
    gender: str | None = _field(
        "GioiTinh",
        "Giới tính",
        "Gender (1 male, 0 female)",
        col=5,
        portal="Gioitinh",
        choices=GENDER,
    )
    personal_id: str | None = _field(
        "SoDinhDanh", "Số CCCD/CMND/Hộ chiếu", "Personal ID / passport", col=6, portal="Cmnd"
    )
    position: str | None = _field(
        "ChucVu",
        "Cấp bậc, chức vụ, chức danh nghề, điều kiện",
        "Rank, position, occupation, conditions",
        col=7,
        portal="chucVu",
        required=True,
        max_length=500,
    )
    workplace: str | None = _field(
        "NoiLamViec", "Nơi làm việc", "Workplace", col=7, portal="noiLamViec"
    )
    department: str | None = _field(
        "MaPhongBan", "Phòng ban", "Department code", portal="Maphongban"
    )
    manager_from: dt.date | None = _field(
        "VtvlNqlTuNgay",
        "Vị trí việc làm: nhà quản lý, từ ngày",
        "Job position: manager, from",
        col=8,
        portal="VtvlNqlTungay",
        portal_confidence="I",
    )
    manager_to: dt.date | None = _field(
        "VtvlNqlDenNgay",
        "Vị trí việc làm: nhà quản lý, đến ngày",
        "Job position: manager, to",
        col=8,
        portal="VtvlNqlDenngay",
        portal_confidence="I",
    )
    senior_specialist_from: dt.date | None = _field(
        "VtvlCmktbcTuNgay",
        "Vị trí việc làm: chuyên môn kỹ thuật bậc cao, từ ngày",
        "Job position: high-level specialist, from",
        col=9,
        portal="VtvlCmktbcTungay",
        portal_confidence="I",
    )
    senior_specialist_to: dt.date | None = _field(
        "VtvlCmktbcDenNgay",
        "Vị trí việc làm: chuyên môn kỹ thuật bậc cao, đến ngày",
        "Job position: high-level specialist, to",
        col=9,
        portal="VtvlCmktbcDenngay",
        portal_confidence="I",
    )
    mid_specialist_from: dt.date | None = _field(
        "VtvlCmktbtTuNgay",
        "Vị trí việc làm: chuyên môn kỹ thuật bậc trung, từ ngày",
        "Job position: mid-level specialist, from",
        col=10,
        portal="VtvlCmktbtTungay",
        portal_confidence="I",
    )
    mid_specialist_to: dt.date | None = _field(
        "VtvlCmktbtDenNgay",
        "Vị trí việc làm: chuyên môn kỹ thuật bậc trung, đến ngày",
        "Job position: mid-level specialist, to",
        col=10,
        portal="VtvlCmktbtDenngay",
        portal_confidence="I",
    )
    other_position_from: dt.date | None = _field(
        "VtvlKhacTuNgay",
        "Vị trí việc làm: khác, từ ngày",
        "Job position: other, from",
        col=11,
        portal="VtvlKhacTungay",
        portal_confidence="I",
    )
    other_position_to: dt.date | None = _field(
        "VtvlKhacDenNgay",
        "Vị trí việc làm: khác, đến ngày",
        "Job position: other, to",
        col=11,
        portal="VtvlKhacDenngay",
        portal_confidence="I",
    )
    salary: Decimal | None = _field(
        "TienLuong",
        "Tiền lương: hệ số hoặc mức lương",
        "Salary: coefficient or amount (see salary_basis)",
        col=12,
        portal="tienLuong",
        required=True,
    )
    allowance_position: Decimal | None = _field(
        "PhuCapChucVu", "Phụ cấp chức vụ", "Position allowance", col=13, portal="phuCapCV"
    )
    allowance_seniority_excess: Decimal | None = _field(
        "PhuCapTnvk",
        "Phụ cấp thâm niên vượt khung (%)",
        "Above-scale seniority allowance (%)",
        col=14,
        portal="phuCapTNVK",
    )
    allowance_seniority_profession: Decimal | None = _field(
        "PhuCapTnNghe",
        "Phụ cấp thâm niên nghề (%)",
        "Professional seniority allowance (%)",
        col=15,
        portal="phuCapTNNghe",
    )
    allowance_salary: Decimal | None = _field(
        "PhuCapLuong", "Phụ cấp lương", "Salary allowance", col=16, portal="phuCapLuong"
    )
    allowance_other: Decimal | None = _field(
        "PhuCapBoSung",
        "Các khoản bổ sung",
        "Other additional payments",
        col=17,
        portal="phuCapBoSung",
    )
    hazardous_from: dt.date | None = _field(
        "NndhTuNgay",
        "Ngành/nghề nặng nhọc, độc hại: ngày bắt đầu",
        "Arduous/hazardous occupation: from",
        col=18,
        portal="NndhTungay",
    )
    hazardous_to: dt.date | None = _field(
        "NndhDenNgay",
        "Ngành/nghề nặng nhọc, độc hại: ngày kết thúc",
        "Arduous/hazardous occupation: to",
        col=19,
        portal="NndhDenngay",
    )
    contract_indefinite_from: dt.date | None = _field(
        "HdldTuNgay",
        "HĐLĐ không xác định thời hạn: ngày bắt đầu",
        "Indefinite-term contract: from",
        col=20,
        portal="HdldTungay",
    )
    contract_fixed_from: dt.date | None = _field(
        "HdldXdthTuNgay",
        "HĐLĐ xác định thời hạn: ngày bắt đầu",
        "Fixed-term contract: from",
        col=21,
        portal="HdldXdthTungay",
    )
    contract_fixed_to: dt.date | None = _field(
        "HdldXdthDenNgay",
        "HĐLĐ xác định thời hạn: ngày kết thúc",
        "Fixed-term contract: to",
        col=22,
        portal="HdldXdthDenngay",
    )
    contract_other_from: dt.date | None = _field(
        "HdldKhacTuNgay",
        "HĐ khác (thử việc…): ngày bắt đầu",
        "Other contract (probation…): from",
        col=23,
        portal="HdldKhacTungay",
    )
    contract_other_to: dt.date | None = _field(
        "HdldKhacDenNgay",
        "HĐ khác (thử việc…): ngày kết thúc",
        "Other contract (probation…): to",
        col=24,
        portal="HdldKhacDenngay",
    )
    from_month: Month | None = _field(
        "TuThang",
        "Thời điểm đơn vị bắt đầu đóng BHXH",
        "First month of contributions",
        col=25,
        portal="tuThang",
        required=True,
    )
    to_month: Month | None = _field(
        "DenThang",
        "Thời điểm đơn vị kết thúc đóng BHXH",
        "Last month of contributions",
        col=26,
        portal="denThang",
    )
    note: str | None = _field(
        "GhiChu",
        "Ghi chú",
        "Note (contract/decision number and date)",
        col=27,
        portal="ghiChu",
        max_length=500,
    )
    contribution_rate: Decimal | None = _field(
        "TyLeDong", "Tỷ lệ đóng (%)", "Contribution rate (%)", portal="tyLeDong"
    )
    benefit_level: str | None = _field(
        "MucHuong", "Mức hưởng BHYT", "Health-insurance benefit level", portal="mucHuong"
    )
    charge_interest: bool | None = _field(
        "TinhLai", "Tính lãi", "Charge late-payment interest", portal="tinhLai"
    )
    has_book: bool | None = _field(
        "DaCoSo", "Đã có sổ BHXH", "Already has a social-insurance book", portal="daCoSo"
    )
    residence_region: str | None = _field(
        "MaVungSS", "Mã vùng sinh sống", "Residence region code", portal="maVungSS"
    )
    wage_region: str | None = _field(
        "MaVungLtt",
        "Vùng lương tối thiểu",
        "Minimum-wage region (01–04)",
        portal="maVungLTT",
        choices=REGION,
    )
    book_cover_sheets: int | None = _field(
        "SoToBia", "Số tờ bìa sổ BHXH", "Book cover sheets", portal="soToBiaSoBhxh"
    )
    book_loose_sheets: int | None = _field(
        "SoToRoi", "Số tờ rời sổ BHXH", "Book loose sheets", portal="soToRoiSoBhxh"
    )
    health_card_number: str | None = _field(
        "SoTheBhyt", "Số thẻ BHYT", "Health-insurance card number", portal="soTheBHYT"
    )
    deceased: bool | None = _field(
        "CoGiamChet", "Giảm do chết", "Decrease because of death", portal="Cogiamchet"
    )
    death_date: dt.date | None = _field("NgayChet", "Ngày chết", "Date of death", portal="Ngaychet")
    portal_employee_id: str | None = _field(
        "Nldid", "Mã người lao động trên cổng", "Portal employee id", portal="Nldid"
    )
    portal_ref_id: str | None = _field(
        "Refid", "Mã tham chiếu trên cổng", "Portal reference id", portal="Refid"
    )

    @property
    def salary_basis(self) -> SalaryBasis | None:
        return None if self.salary is None else salary_basis(self.salary)


# --- TK1-TS rows ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TK1Adjustment:
    """TK1-TS [14.1]–[14.5]: the corrected values of a participant's identity."""

    full_name: str | None = _field(
        "HoTen", "Họ và tên (điều chỉnh)", "Corrected full name", indicator="14.1"
    )
    gender: str | None = _field(
        "GioiTinh", "Giới tính (điều chỉnh)", "Corrected gender", indicator="14.2", choices=GENDER
    )
    birth_date: PartialDate | None = _field(
        "NgaySinh", "Ngày sinh (điều chỉnh)", "Corrected date of birth", indicator="14.3"
    )
    birth_registration_place: str | None = _field(
        "NoiDangKyKhaiSinh",
        "Nơi đăng ký khai sinh (điều chỉnh)",
        "Corrected place of birth registration",
        indicator="14.4",
    )
    personal_id: str | None = _field(
        "SoDinhDanh",
        "Số CCCD/ĐDCN/Hộ chiếu (điều chỉnh)",
        "Corrected personal ID / passport",
        indicator="14.5",
    )


@dataclass(frozen=True, slots=True)
class HouseholdMember:
    """One member in "Phụ lục thành viên hộ gia đình" (vss-domain.md §3.3 [S, SRC-ODOO-D02])."""

    stt: int | None = _field("Stt", "STT", "Row number")
    full_name: str | None = _field("HoTen", "Họ và tên", "Full name", required=True)
    bhxh_code: str | None = _field(
        "MaSoBhxh", "Mã số BHXH", "Social insurance number", max_length=10
    )
    birth_date: PartialDate | None = _field(
        "NgaySinh", "Ngày sinh (loại ngày sinh theo độ chính xác)", "Date of birth"
    )
    gender: str | None = _field("GioiTinh", "Giới tính", "Gender", choices=GENDER)
    nationality: str | None = _field("QuocTich", "Quốc tịch", "Nationality")
    ethnicity: str | None = _field("DanToc", "Dân tộc", "Ethnic group")
    personal_id: str | None = _field("SoDinhDanh", "Số CCCD/ĐDCN/Hộ chiếu", "Personal ID")
    birth_province: str | None = _field(
        "MaTinhKhaiSinh", "Tỉnh nơi khai sinh", "Province of birth registration"
    )
    birth_commune: str | None = _field(
        "MaXaKhaiSinh", "Xã nơi khai sinh", "Commune of birth registration"
    )
    address: str | None = _field("DiaChi", "Địa chỉ", "Address")
    relationship: str | None = _field(
        "MoiQuanHe", "Mối quan hệ với chủ hộ", "Relationship to the head of household (code)"
    )


@dataclass(frozen=True, slots=True)
class HouseholdAppendix:
    """TK1-TS appendix "Phụ lục thành viên hộ gia đình": the household and its members."""

    household_code: str | None = _field(
        "MaHoGiaDinh", "Mã hộ gia đình", "Household code", portal="maHo_GiaDinh"
    )
    head_name: str | None = _field("HoTenChuHo", "Họ tên chủ hộ", "Head of household")
    head_personal_id: str | None = _field(
        "SoDinhDanhChuHo", "Số CCCD/ĐDCN chủ hộ", "Personal ID of the head of household"
    )
    head_phone: str | None = _field("DienThoaiChuHo", "Điện thoại chủ hộ", "Phone of the head")
    head_address: str | None = _field("DiaChiChuHo", "Địa chỉ chủ hộ", "Address of the head")
    head_commune: str | None = _field("MaXaChuHo", "Xã (chủ hộ)", "Commune code of the head")
    head_province: str | None = _field("MaTinhChuHo", "Tỉnh (chủ hộ)", "Province code of the head")
    residence_kind: str | None = _field(
        "LoaiCuTru",
        "Thường trú/tạm trú",
        "Permanent or temporary residence",
        inferred=True,
    )
    members: tuple[HouseholdMember, ...] = _field(
        "ThanhVien",
        "Thành viên hộ gia đình",
        "Household members",
        portal="thongTinHoGiaDinh",
        portal_confidence="I",
        item="ThanhVien",
    )


@dataclass(frozen=True, slots=True)
class TK1Row:
    """One participant's TK1-TS: indicators [01]–[19] (vss-domain.md §3.3), portal API 090 names."""

    stt: int | None = _field("Stt", "STT", "Row number", portal="stt")
    full_name: str | None = _field(
        "HoTen",
        "Họ và tên (chữ in hoa)",
        "Full name (upper case)",
        indicator="01",
        portal="Hoten",
        required=True,
        max_length=100,
    )
    gender: str | None = _field(
        "GioiTinh", "Giới tính", "Gender", indicator="02", portal="Gioitinh", choices=GENDER
    )
    birth_date: PartialDate | None = _field(
        "NgaySinh",
        "Ngày sinh",
        "Date of birth (its precision is the portal's Ccns)",
        indicator="03",
        portal="Ngaysinh",
        required=True,
    )
    nationality: str | None = _field(
        "QuocTich", "Quốc tịch", "Nationality", indicator="04", portal="quocTich"
    )
    ethnicity: str | None = _field(
        "DanToc", "Dân tộc", "Ethnic group", indicator="05", portal="danToc"
    )
    personal_id: str | None = _field(
        "SoDinhDanh",
        "Số CCCD/ĐDCN/Hộ chiếu",
        "Personal ID / passport",
        indicator="06",
        portal="cmnd",
    )
    phone: str | None = _field(
        "DienThoai", "Điện thoại", "Phone", indicator="07", portal="dienThoai_LH"
    )
    email: str | None = _field("Email", "Email", "E-mail", indicator="08", portal="email_LH")
    birth_registration_place: str | None = _field(
        "NoiCapGiayKhaiSinh",
        "Nơi cấp giấy khai sinh",
        "Place of birth registration (text)",
        indicator="09",
        portal="noiCapGKS",
    )
    birth_commune: str | None = _field(
        "MaXaKhaiSinh",
        "Nơi đăng ký khai sinh: xã",
        "Birth registration: commune code",
        indicator="09.1",
        portal="maXa_KS",
    )
    birth_district: str | None = _field(
        "MaHuyenKhaiSinh",
        "Nơi đăng ký khai sinh: huyện",
        "Birth registration: district code (now empty)",
        indicator="09.2",
        portal="maHuyen_KS",
    )
    birth_province: str | None = _field(
        "MaTinhKhaiSinh",
        "Nơi đăng ký khai sinh: tỉnh",
        "Birth registration: province code",
        indicator="09.3",
        portal="maTinh_KS",
    )
    child_under_six: bool | None = _field(
        "TreEmDuoi6Tuoi", "Trẻ em dưới 6 tuổi", "Child under 6", portal="ThTreEmDuoi6"
    )
    guardian_name: str | None = _field(
        "HoTenChaMeGiamHo",
        "Họ tên cha/mẹ/người giám hộ",
        "Parent or guardian (child under 6)",
        indicator="10",
        portal="ten_ChaMe_GiamHo",
    )
    address_text: str | None = _field(
        "DiaChiNhanKetQua",
        "Địa chỉ nhận kết quả",
        "Address for results (full text)",
        indicator="11",
        portal="diaChi_NN",
        portal_confidence="I",
    )
    address_street: str | None = _field(
        "DiaChiChiTiet",
        "Số nhà, đường phố, thôn xóm",
        "House number, street, hamlet",
        indicator="11.1",
        portal="diaChi_NNChiTiet",
        portal_confidence="I",
    )
    address_commune: str | None = _field(
        "MaXaDiaChi",
        "Xã",
        "Commune code",
        indicator="11.2",
        portal="maXa_NN",
        portal_confidence="I",
    )
    address_district: str | None = _field(
        "MaHuyenDiaChi",
        "Huyện",
        "District code (now empty)",
        indicator="11.3",
        portal="maHuyen_NN",
        portal_confidence="I",
    )
    address_province: str | None = _field(
        "MaTinhDiaChi",
        "Tỉnh",
        "Province code",
        indicator="11.4",
        portal="maTinh_NN",
        portal_confidence="I",
    )
    household_declared: bool | None = _field(
        "KeKhaiPhuLucHoGiaDinh",
        "Kê khai Phụ lục thành viên hộ gia đình",
        "Household appendix declared",
        indicator="12",
    )
    bhxh_code: str | None = _field(
        "MaSoBhxh",
        "Mã số BHXH",
        "Social insurance number",
        indicator="13",
        portal="Masobhxh",
        max_length=10,
    )
    adjustment: TK1Adjustment | None = _field(
        "DieuChinh", "Điều chỉnh thông tin [14]", "Identity corrections [14]", indicator="14"
    )
    contribution_amount: Decimal | None = _field(
        "MucTienDong",
        "Mức tiền đóng",
        "Contribution amount (voluntary schemes)",
        indicator="15",
        portal="Muctien",
    )
    contribution_level: str | None = _field(
        "MucDong",
        "Mức đóng",
        "Contribution level",
        indicator="15",
        portal="mucDong",
        inferred=True,
    )
    payment_method: str | None = _field(
        "PhuongThucDong", "Phương thức đóng", "Payment method", indicator="16", portal="Phuongthuc"
    )
    hospital_province: str | None = _field(
        "MaTinhBenhVien",
        "Nơi đăng ký KCB ban đầu: tỉnh",
        "Initial health-care registration: province",
        indicator="17",
        portal="Matinhbenhvien",
    )
    hospital_code: str | None = _field(
        "MaBenhVien",
        "Nơi đăng ký KCB ban đầu: mã bệnh viện",
        "Initial health-care registration: hospital code",
        indicator="17",
        portal="Mabenhvien",
    )
    hospital_name: str | None = _field(
        "NoiDangKyKcb",
        "Nơi đăng ký KCB ban đầu",
        "Initial health-care registration (name)",
        indicator="17",
        portal="Noidkkcb",
        note="the portal also sends noiDKKhamBenh",
    )
    change_content: str | None = _field(
        "NoiDungThayDoi",
        "Nội dung thay đổi, yêu cầu khác",
        "Changes and other requests",
        indicator="18",
        portal="noiDung_ThayDoi",
        max_length=1000,
    )
    attachments: str | None = _field(
        "HoSoKemTheo",
        "Hồ sơ kèm theo",
        "Attached documents",
        indicator="19",
        portal="hoSoKemTheo",
        max_length=1000,
    )
    receive_electronic: bool | None = _field(
        "NhanBanDienTu",
        "Nhận bản điện tử",
        "Receive the electronic result",
        portal="Nhan_BanDientu",
    )
    receive_paper: bool | None = _field(
        "NhanBanGiay", "Nhận bản giấy", "Receive the paper result", portal="Nhan_Bangiay"
    )
    paper_address: str | None = _field(
        "DiaChiNhanBanGiay",
        "Địa chỉ nhận bản giấy",
        "Address for the paper result",
        portal="DiachiNhanBangiay",
    )
    paper_commune: str | None = _field(
        "MaXaNhanBanGiay", "Xã nhận bản giấy", "Paper result: commune", portal="Xa_NhanBangiay"
    )
    paper_district: str | None = _field(
        "MaHuyenNhanBanGiay",
        "Huyện nhận bản giấy",
        "Paper result: district",
        portal="Huyen_NhanBangiay",
    )
    paper_province: str | None = _field(
        "MaTinhNhanBanGiay",
        "Tỉnh nhận bản giấy",
        "Paper result: province",
        portal="Tinh_NhanBangiay",
    )
    receipt_method: str | None = _field(
        "HinhThucNhan",
        "Hình thức nhận kết quả",
        "How the result is received",
        portal="hinhThucNhan",
    )
    receive_at: str | None = _field(
        "DangKyNhanTai",
        "Đăng ký nhận tại",
        "Where the result is collected",
        portal="dangKyNhanTai",
        inferred=True,
    )
    household: HouseholdAppendix | None = _field(
        "PhuLucHoGiaDinh",
        "Phụ lục thành viên hộ gia đình",
        "Household appendix",
        indicator="12",
    )
    portal_employee_id: str | None = _field(
        "Nldid", "Mã người lao động trên cổng", "Portal employee id", portal="Nldid"
    )
    portal_ref_id: str | None = _field(
        "Refid", "Mã tham chiếu trên cổng", "Portal reference id", portal="Refid"
    )


# --- D01-TS rows ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class D01Row:
    """One line of D01-TS "Bảng kê thông tin" (QĐ 595/2017; vss-domain.md §3.6 [S])."""

    stt: int | None = _field("Stt", "STT", "Row number", col=1)
    full_name: str | None = _field(
        "HoTen", "Họ và tên", "Full name", col=2, required=True, max_length=100
    )
    bhxh_code: str | None = _field(
        "MaSoBhxh", "Mã số BHXH", "Social insurance number", col=3, max_length=10
    )
    document_type: str | None = _field(
        "TenLoaiVanBan",
        "Tên, loại văn bản",
        "Document name and type",
        col=4,
        required=True,
        max_length=100,
    )
    document_number: str | None = _field(
        "SoHieuVanBan", "Số hiệu văn bản", "Document number", col=5, max_length=50
    )
    issued_on: dt.date | None = _field("NgayBanHanh", "Ngày ban hành", "Issued on", col=6)
    effective_on: dt.date | None = _field(
        "NgayHieuLuc", "Ngày văn bản có hiệu lực", "Effective from", col=7
    )
    issuer: str | None = _field(
        "CoQuanBanHanh", "Cơ quan ban hành", "Issuing body", col=8, max_length=255
    )
    summary: str | None = _field(
        "TrichYeu", "Trích yếu văn bản", "Summary of the document", col=9, max_length=500
    )
    content_excerpt: str | None = _field(
        "NoiDungThamDinh",
        "Trích lược nội dung cần thẩm định",
        "Excerpt of what is to be checked",
        col=10,
        max_length=1000,
    )


# --- D03-TS and D05-TS rows (inferred models) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class D03Row:
    """One person in D03-TS (health insurance only). The column list is not sourced: inferred
    from the domain's identity, card and PA fields (vss-domain.md §3.2, §3.5)."""

    stt: int | None = _field("Stt", "STT", "Row number", inferred=True)
    full_name: str | None = _field(
        "HoTen", "Họ và tên", "Full name", required=True, max_length=100, inferred=True
    )
    bhxh_code: str | None = _field(
        "MaSoBhxh", "Mã số BHXH", "Social insurance number", max_length=10, inferred=True
    )
    birth_date: PartialDate | None = _field(
        "NgaySinh", "Ngày sinh", "Date of birth", required=True, inferred=True
    )
    gender: str | None = _field("GioiTinh", "Giới tính", "Gender", choices=GENDER, inferred=True)
    personal_id: str | None = _field(
        "SoDinhDanh", "Số CCCD/ĐDCN/Hộ chiếu", "Personal ID", inferred=True
    )
    household_code: str | None = _field(
        "MaHoGiaDinh", "Mã hộ gia đình", "Household code", inferred=True
    )
    address: str | None = _field("DiaChi", "Địa chỉ", "Address", inferred=True)
    pa: str | None = _field(
        "PhuongAn", "Phương án", "Change type", required=True, max_length=100, inferred=True
    )
    beneficiary_group: str | None = _field(
        "MaDoiTuong", "Mã đối tượng", "Beneficiary group code (HS, SV, …)", inferred=True
    )
    benefit_level: str | None = _field(
        "MucHuong", "Mức hưởng BHYT", "Health-insurance benefit level (1–5)", inferred=True
    )
    hospital_province: str | None = _field(
        "MaTinhBenhVien", "Tỉnh đăng ký KCB", "Health-care registration: province", inferred=True
    )
    hospital_code: str | None = _field(
        "MaBenhVien",
        "Mã bệnh viện đăng ký KCB",
        "Health-care registration: hospital",
        inferred=True,
    )
    health_card_number: str | None = _field(
        "SoTheBhyt", "Số thẻ BHYT", "Health-insurance card number", inferred=True
    )
    card_valid_from: dt.date | None = _field(
        "HanTheTuNgay", "Hạn thẻ từ ngày", "Card valid from", inferred=True
    )
    card_valid_to: dt.date | None = _field(
        "HanTheDenNgay", "Hạn thẻ đến ngày", "Card valid to", inferred=True
    )
    from_month: Month | None = _field(
        "TuThang", "Từ tháng", "From month", required=True, inferred=True
    )
    months: int | None = _field("SoThang", "Số tháng", "Number of months", inferred=True)
    amount: Decimal | None = _field("SoTien", "Số tiền", "Amount", inferred=True)
    note: str | None = _field("GhiChu", "Ghi chú", "Note", max_length=500, inferred=True)


@dataclass(frozen=True, slots=True)
class D05Row:
    """One person in D05-TS (voluntary social insurance). The column list is not sourced:
    inferred from TK1-TS [15]/[16] and the voluntary PA catalogue (vss-domain.md §3.3, §3.5)."""

    stt: int | None = _field("Stt", "STT", "Row number", inferred=True)
    full_name: str | None = _field(
        "HoTen", "Họ và tên", "Full name", required=True, max_length=100, inferred=True
    )
    bhxh_code: str | None = _field(
        "MaSoBhxh", "Mã số BHXH", "Social insurance number", max_length=10, inferred=True
    )
    birth_date: PartialDate | None = _field(
        "NgaySinh", "Ngày sinh", "Date of birth", required=True, inferred=True
    )
    gender: str | None = _field("GioiTinh", "Giới tính", "Gender", choices=GENDER, inferred=True)
    personal_id: str | None = _field(
        "SoDinhDanh", "Số CCCD/ĐDCN/Hộ chiếu", "Personal ID", inferred=True
    )
    phone: str | None = _field("DienThoai", "Điện thoại", "Phone", inferred=True)
    address: str | None = _field("DiaChi", "Địa chỉ", "Address", inferred=True)
    pa: str | None = _field(
        "PhuongAn",
        "Phương án (danh mục tự nguyện, API 101)",
        "Change type (voluntary catalogue, API 101)",
        required=True,
        max_length=100,
        inferred=True,
    )
    income: Decimal | None = _field(
        "MucThuNhap",
        "Mức thu nhập làm căn cứ đóng",
        "Income chosen as the contribution base",
        inferred=True,
    )
    payment_method: str | None = _field(
        "PhuongThucDong", "Phương thức đóng", "Payment method", inferred=True
    )
    from_month: Month | None = _field(
        "TuThang", "Từ tháng", "From month", required=True, inferred=True
    )
    months: int | None = _field("SoThang", "Số tháng", "Number of months", inferred=True)
    amount: Decimal | None = _field("SoTien", "Số tiền đóng", "Amount paid", inferred=True)
    state_support: Decimal | None = _field(
        "HoTroNsnn", "Ngân sách nhà nước hỗ trợ", "State budget support", inferred=True
    )
    note: str | None = _field("GhiChu", "Ghi chú", "Note", max_length=500, inferred=True)


# --- the forms ------------------------------------------------------------------------------


def _tuple(value: Any) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else tuple(value)


@dataclass(frozen=True, slots=True)
class D02TS:
    code: ClassVar[str] = "D02-TS"
    header: D02Header
    rows: Sequence[D02Row] = ()  # stored as a tuple

    def __post_init__(self) -> None:  # accept any iterable of rows, store a tuple
        object.__setattr__(self, "rows", _tuple(self.rows))


@dataclass(frozen=True, slots=True)
class TK1TS:
    code: ClassVar[str] = "TK1-TS"
    header: TK1Header
    rows: Sequence[TK1Row] = ()  # stored as a tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", _tuple(self.rows))


@dataclass(frozen=True, slots=True)
class TK3TS:
    code: ClassVar[str] = "TK3-TS"
    header: TK3Header
    rows: tuple[()] = ()  # a unit declaration has no rows; kept for a uniform interface


@dataclass(frozen=True, slots=True)
class D01TS:
    code: ClassVar[str] = "D01-TS"
    header: D01Header
    rows: Sequence[D01Row] = ()  # stored as a tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", _tuple(self.rows))


@dataclass(frozen=True, slots=True)
class D03TS:
    code: ClassVar[str] = "D03-TS"
    header: D03Header
    rows: Sequence[D03Row] = ()  # stored as a tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", _tuple(self.rows))


@dataclass(frozen=True, slots=True)
class D05TS:
    code: ClassVar[str] = "D05-TS"
    header: D05Header
    rows: Sequence[D05Row] = ()  # stored as a tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", _tuple(self.rows))


Form = D02TS | TK1TS | TK3TS | D01TS | D03TS | D05TS


@dataclass(frozen=True, slots=True)
class FormSpec:
    """How a form is laid out in ebhxh's schema, and where its signature goes."""

    code: str
    title_vi: str
    title_en: str
    form_class: type[Any]
    header_class: type[Any]
    header_element: str
    row_class: type[Any] | None
    list_element: str | None
    row_element: str | None
    xsd: str  # file name under ebhxh/declarations/schemas/
    container: str  # signature container, root first (vss-domain.md §4.2)
    version: str  # version of ebhxh's schema for this form
    legal_basis: str  # the template the schema follows


SCHEMA_VERSION = "1.0"

FORMS: dict[str, FormSpec] = {
    spec.code: spec
    for spec in (
        FormSpec(
            "D02-TS",
            "Danh sách lao động tham gia BHXH, BHYT, BHTN, BHTNLĐ-BNN",
            "Participant list (D02-LT)",
            D02TS,
            D02Header,
            "ThongTinDonVi",
            D02Row,
            "DanhSach",
            "NguoiLaoDong",
            "D02-TS.xsd",
            "D02-TS/Cky",
            SCHEMA_VERSION,
            "Mẫu D02-LT ban hành kèm theo Quyết định 1040/QĐ-BHXH ngày 18/8/2020",
        ),
        FormSpec(
            "TK1-TS",
            "Tờ khai tham gia, điều chỉnh thông tin BHXH, BHYT",
            "Participant declaration",
            TK1TS,
            TK1Header,
            "ThongTinDonVi",
            TK1Row,
            "DanhSach",
            "NguoiThamGia",
            "TK1-TS.xsd",
            "TK1-TS/Cky",
            SCHEMA_VERSION,
            "Mẫu TK1-TS theo Quyết định 490/QĐ-BHXH năm 2023 (sửa đổi Quyết định 505/QĐ-BHXH)",
        ),
        FormSpec(
            "TK3-TS",
            "Tờ khai đơn vị tham gia, điều chỉnh thông tin BHXH, BHYT",
            "Unit declaration",
            TK3TS,
            TK3Header,
            "ThongTinDonVi",
            None,
            None,
            None,
            "TK3-TS.xsd",
            "TK3-TS/Cky",
            SCHEMA_VERSION,
            "Mẫu TK3-TS theo Quyết định 505/QĐ-BHXH năm 2020 và Quyết định 490/QĐ-BHXH năm 2023",
        ),
        FormSpec(
            "D01-TS",
            "Bảng kê thông tin",
            "Supporting-document list",
            D01TS,
            D01Header,
            "ThongTinDonVi",
            D01Row,
            "DanhSach",
            "VanBan",
            "D01-TS.xsd",
            "D01-TS/Cky",
            SCHEMA_VERSION,
            "Mẫu D01-TS ban hành kèm theo Quyết định 595/QĐ-BHXH ngày 14/4/2017",
        ),
        FormSpec(
            "D03-TS",
            "Danh sách người chỉ tham gia BHYT",
            "Health-insurance-only participant list",
            D03TS,
            D03Header,
            "ThongTinDonVi",
            D03Row,
            "DanhSach",
            "NguoiThamGia",
            "D03-TS.xsd",
            "D03-TS/Cky",
            SCHEMA_VERSION,
            "Mẫu D03-TS theo Quyết định 595/QĐ-BHXH năm 2017 (cột suy luận, chưa đối chiếu mẫu gốc)",
        ),
        FormSpec(
            "D05-TS",
            "Danh sách người tham gia BHXH tự nguyện",
            "Voluntary social-insurance participant list",
            D05TS,
            D05Header,
            "ThongTinDonVi",
            D05Row,
            "DanhSach",
            "NguoiThamGia",
            "D05-TS.xsd",
            "D05-TS/Cky",
            SCHEMA_VERSION,
            "Mẫu D05-TS theo Quyết định 595/QĐ-BHXH năm 2017 (cột suy luận, chưa đối chiếu mẫu gốc)",
        ),
    )
}


def form_spec(code: str) -> FormSpec:
    """The FormSpec of `code`; KeyError for a form ebhxh has no schema for."""
    return FORMS[code]
