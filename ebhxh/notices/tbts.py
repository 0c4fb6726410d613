"""Notice 02/TB-TS, "PHIẾU GIAO NHẬN HỒ SƠ" (the dossier receipt, QĐ 528): the typed receipt and
its XML codec.

Pure Python (no Django). The published form (vss-domain.md §4.4, newer family, root
`BaoHiemDienTu`) shows only some fields; those keep their names and are tagged [C] below. What a
receipt of ebhxh also has to say (the time of receipt, the appointment date, the tracking id, the
SHA-256 of the exact bytes received, the channel, the specimen flag, the procedure code, the
period, the agency code, each form's code, file and quantity) is ebhxh's extension, tagged [I]:
names in the style of the family (diacritic-free CamelCase), reused from the envelope
BHXHDienTu.xml (§4.2) where it has one. The order of the elements and the formats are [I] too.

    <?xml version="1.0" encoding="UTF-8"?>
    <BaoHiemDienTu>
      <CQBHXH>            [C] the receiving agency; ebhxh writes its name ([I] reading)
      <Email>             [C] the unit's e-mail, empty when none
      <ThongTinHoSo>      [C]
        <SoHoSo>          [C] NNNNN/YYYY/AAAAA (§4.5); empty in a specimen
        <NgayLap>         [C] date of the receipt, dd/mm/yyyy as the envelope's NgayLap ([I]):
                              the Vietnam date of ThoiDiemNhan
        <TenQuyTrinh>     [C] the procedure's name ("Loại hồ sơ")
        <ToKhais>         [C]
          <FileToKhai>    [C] one per received form, at least one
            <MaToKhai>    [I] form code (envelope name, §4.2), e.g. D02-TS
            <MoTaToKhai>  [C] description, may be empty
            <TenFile>     [I] file name in the envelope (envelope name), may be empty
            <SoLuong>     [I] quantity, a positive integer
      <ThongTinDonVi>     [C]
        <TenDonVi>        [C]
        <MaDonVi>         [C] empty before the unit has a code
        <DienThoai>       [C] empty when none
      <ThongTinTiepNhan>  [I] ebhxh's extension: the reception
        <MaCQBHXH>        [I] agency code, 5 digits (the envelope's CoQuanQuanLy)
        <MaThuTuc>        [I] procedure code (envelope name), e.g. 600
        <KyKeKhai>        [I] MM/yyyy (envelope name); empty when none
        <ThoiDiemNhan>    [I] time of receipt, dd/mm/yyyy hh:mm:ss in Vietnam time (as 01/TB-GD's
                              NGAY_GDICH), to the second
        <NgayHenTra>      [I] "Ngày hẹn trả kết quả", dd/mm/yyyy; empty when none
        <MaTraCuu>        [I] the tracking id (e.g. a UUID)
        <SHA256HoSo>      [I] hex SHA-256 of the exact envelope bytes received
        <KenhNop>         [I] web | api
        <BanMau>          [I] 1 for a specimen (test mode, no legal value), else 0
      <CKy_CQBHXH/>       [I] the agency seal (ds:Signature): seal(xml, container=SEAL_CONTAINER)
    </BaoHiemDienTu>

The seal's node is named like 01/TB-GD's (`BHXH/CKy_CQBHXH`): the same agency key, the same name
in every notice; `signatures.profile.CONTAINERS` maps the root `BaoHiemDienTu` to it too, so
`ebhxh verify` finds it without `--container`.

Every element is always written, empty when it has no value; an empty optional element reads
back as None.

    data = encode(receipt)                 # bytes, UTF-8 with an XML declaration
    receipt = decode(data)                 # NoticeError if it is not a valid 02/TB-TS
    errors = schema_errors(data)           # against schemas/02-TB-TS.xsd

`decode` does not check the seal. For a sealed receipt, verify it first
(`signatures.services.verify_document(data, container=SEAL_CONTAINER)`) and decode only what was
verified (`decode(verified.content)`).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from lxml import etree

from ebhxh.lib.identifiers import check_agency_code, check_dossier_number
from ebhxh.notices import xmlbase
from ebhxh.notices.xmlbase import VIETNAM_TIME, Element, NoticeError

FORM_CODE: Final = "02/TB-TS"
TITLE: Final = "PHIẾU GIAO NHẬN HỒ SƠ"
ROOT: Final = "BaoHiemDienTu"
# The agency seal's node: a child of the root, last ([I], see the module docstring).
SIGNATURE_SLOT: Final = "CKy_CQBHXH"
SEAL_CONTAINER: Final = f"{ROOT}/{SIGNATURE_SLOT}"
CONTAINER: Final = SEAL_CONTAINER  # as tbgd.CONTAINER
SCHEMA_PATH: Final = Path(__file__).resolve().parent / "schemas" / "02-TB-TS.xsd"
MAX_BYTES: Final = 1024 * 1024  # a receipt is a few kilobytes, sealed included

DATE_FORMAT: Final = xmlbase.DATE_FORMAT
TIME_FORMAT: Final = xmlbase.TIME_FORMAT

_PERIOD = re.compile(r"(0[1-9]|1[0-2])/[0-9]{4}")
_UNIT_CODE = re.compile(r"[A-Z0-9]{7}")
_TRACKING_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_QUANTITY = re.compile(r"[1-9][0-9]{0,8}")


class Channel(enum.StrEnum):
    """KenhNop: how the dossier came in."""

    WEB = "web"
    API = "api"


@dataclass(frozen=True, kw_only=True)
class ReceiptItem:
    """One received form: a row of the receipt's table (ToKhais/FileToKhai)."""

    code: str  # MaToKhai [I]: the form code, e.g. "D02-TS"
    description: str = ""  # MoTaToKhai [C]: may be empty (the PDF then shows the code)
    file_name: str = ""  # TenFile [I]: the file's name in the envelope
    quantity: int = 1  # SoLuong [I]

    def __post_init__(self) -> None:
        xmlbase.check_text(self, frozenset())
        for name in ("code", "description", "file_name"):
            if not isinstance(getattr(self, name), str):
                raise NoticeError(f"form {name} must be text")
        if not self.code.strip():
            raise NoticeError("form code (MaToKhai) is required")
        quantity = self.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise NoticeError("form quantity (SoLuong) must be an integer")
        if not _QUANTITY.fullmatch(str(quantity)):
            raise NoticeError(f"form quantity (SoLuong) must be 1..999999999, got {quantity}")


@dataclass(frozen=True, kw_only=True)
class Receipt:
    """One 02/TB-TS receipt. Field → element: see `ELEMENTS` and the module docstring."""

    # the agency
    agency_code: str  # ThongTinTiepNhan/MaCQBHXH [I]: 5 digits
    agency_name: str  # CQBHXH [C]
    # the unit
    unit_name: str  # ThongTinDonVi/TenDonVi [C]
    unit_code: str | None  # ThongTinDonVi/MaDonVi [C]: None before the unit has a code
    unit_phone: str | None = None  # ThongTinDonVi/DienThoai [C]
    unit_email: str | None = None  # Email [C]
    # the dossier
    dossier_number: str | None  # ThongTinHoSo/SoHoSo [C]: None only for a specimen
    procedure_code: str  # ThongTinTiepNhan/MaThuTuc [I]
    procedure_name: str  # ThongTinHoSo/TenQuyTrinh [C]
    period: str | None = None  # ThongTinTiepNhan/KyKeKhai [I]: MM/YYYY
    received_at: dt.datetime  # ThoiDiemNhan [I] (and NgayLap [C]): aware, kept to the second
    appointment_date: dt.date | None  # NgayHenTra [I]
    tracking_id: str  # MaTraCuu [I]
    envelope_sha256: str  # SHA256HoSo [I]: hex of the exact bytes received
    channel: str  # KenhNop [I]: "web" | "api"; read back as a Channel
    forms: tuple[ReceiptItem, ...]  # ThongTinHoSo/ToKhais [C]: at least one
    specimen: bool = False  # BanMau [I]: test mode, no dossier number, no legal value

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        xmlbase.check_text(self, _OPTIONAL)
        for name in _REQUIRED_TEXT:
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise NoticeError(f"{name} ({ELEMENTS[name]}) is required")
        for name in _OPTIONAL:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise NoticeError(f"{name} ({ELEMENTS[name]}) must be text or None")
        if not check_agency_code(self.agency_code).ok or not self.agency_code.isascii():
            raise NoticeError("agency_code (MaCQBHXH) must be 5 digits")
        if self.unit_code is not None and not _UNIT_CODE.fullmatch(self.unit_code):
            raise NoticeError("unit_code (MaDonVi) must be 7 characters A-Z/0-9")
        if self.period is not None and not _PERIOD.fullmatch(self.period):
            raise NoticeError("period (KyKeKhai) must be MM/YYYY")
        if not isinstance(self.specimen, bool):
            raise NoticeError("specimen (BanMau) must be True or False")
        if self.specimen and self.dossier_number is not None:
            raise NoticeError("a specimen has no dossier number (SoHoSo)")
        if not self.specimen:
            number = self.dossier_number
            if number is None:
                raise NoticeError("dossier_number (SoHoSo) is required (only a specimen has none)")
            result = check_dossier_number(number)
            if not result.ok or result.value != number or not number.isascii():
                raise NoticeError("dossier_number (SoHoSo) must be NNNNN/YYYY/AAAAA")
        put("received_at", xmlbase.check_instant(self.received_at, "received_at"))
        if self.appointment_date is not None:
            xmlbase.check_day(self.appointment_date, "appointment_date (NgayHenTra)")
        if not _TRACKING_ID.fullmatch(self.tracking_id):
            raise NoticeError("tracking_id (MaTraCuu) must be 1-64 characters A-Z, a-z, 0-9, . _ -")
        if not _SHA256.fullmatch(self.envelope_sha256.lower()):
            raise NoticeError("envelope_sha256 (SHA256HoSo) must be 64 hex digits")
        put("envelope_sha256", self.envelope_sha256.lower())
        try:
            put("channel", Channel(self.channel))
        except ValueError:
            raise NoticeError(
                f"channel (KenhNop) must be web or api, got {self.channel!r}"
            ) from None
        forms = tuple(self.forms)
        if not forms:
            raise NoticeError("a receipt lists at least one form (ToKhais/FileToKhai)")
        if not all(isinstance(item, ReceiptItem) for item in forms):
            raise NoticeError("forms must be ReceiptItem")
        put("forms", forms)

    @property
    def received_local(self) -> dt.datetime:
        """`received_at` in Vietnam time (what the document shows)."""
        return self.received_at.astimezone(VIETNAM_TIME)

    @property
    def quantity(self) -> int:
        """The number of documents received (the sum of the rows' quantities)."""
        return sum(item.quantity for item in self.forms)


# Field → element path under the root, in document order within each group.
ELEMENTS: Final[dict[str, str]] = {
    "agency_name": "CQBHXH",
    "unit_email": "Email",
    "dossier_number": "ThongTinHoSo/SoHoSo",
    "received_at": "ThongTinTiepNhan/ThoiDiemNhan",  # and ThongTinHoSo/NgayLap
    "procedure_name": "ThongTinHoSo/TenQuyTrinh",
    "forms": "ThongTinHoSo/ToKhais",
    "unit_name": "ThongTinDonVi/TenDonVi",
    "unit_code": "ThongTinDonVi/MaDonVi",
    "unit_phone": "ThongTinDonVi/DienThoai",
    "agency_code": "ThongTinTiepNhan/MaCQBHXH",
    "procedure_code": "ThongTinTiepNhan/MaThuTuc",
    "period": "ThongTinTiepNhan/KyKeKhai",
    "appointment_date": "ThongTinTiepNhan/NgayHenTra",
    "tracking_id": "ThongTinTiepNhan/MaTraCuu",
    "envelope_sha256": "ThongTinTiepNhan/SHA256HoSo",
    "channel": "ThongTinTiepNhan/KenhNop",
    "specimen": "ThongTinTiepNhan/BanMau",
}
ITEM_ELEMENTS: Final[dict[str, str]] = {
    "code": "MaToKhai",
    "description": "MoTaToKhai",
    "file_name": "TenFile",
    "quantity": "SoLuong",
}
# The children of the extension block, in order.
RECEPTION_ELEMENTS: Final[dict[str, str]] = {
    "agency_code": "MaCQBHXH",
    "procedure_code": "MaThuTuc",
    "period": "KyKeKhai",
    "received_at": "ThoiDiemNhan",
    "appointment_date": "NgayHenTra",
    "tracking_id": "MaTraCuu",
    "envelope_sha256": "SHA256HoSo",
    "channel": "KenhNop",
    "specimen": "BanMau",
}
_OPTIONAL: Final = frozenset({"unit_code", "unit_phone", "unit_email", "period", "dossier_number"})
_REQUIRED_TEXT: Final = (
    "agency_code",
    "agency_name",
    "unit_name",
    "procedure_code",
    "procedure_name",
    "tracking_id",
    "envelope_sha256",
)


# --- writing ------------------------------------------------------------------------------------


def _text(receipt: Receipt, name: str) -> str:
    value = getattr(receipt, name)
    if value is None:
        return ""
    if name == "received_at":
        return str(receipt.received_local.strftime(TIME_FORMAT))
    if name == "appointment_date":
        return str(value.strftime(DATE_FORMAT))
    if name == "specimen":
        return "1" if value else "0"
    return str(value)


def _leaf(parent: Element, tag: str, text: str) -> None:
    etree.SubElement(parent, tag).text = text or None  # empty: <MaDonVi/>


def encode(receipt: Receipt) -> bytes:
    """The receipt as UTF-8 XML with an empty seal slot, indented, ready for `seal()`."""
    root = etree.Element(ROOT)
    _leaf(root, "CQBHXH", _text(receipt, "agency_name"))
    _leaf(root, "Email", _text(receipt, "unit_email"))
    dossier = etree.SubElement(root, "ThongTinHoSo")
    _leaf(dossier, "SoHoSo", _text(receipt, "dossier_number"))
    _leaf(dossier, "NgayLap", receipt.received_local.strftime(DATE_FORMAT))
    _leaf(dossier, "TenQuyTrinh", receipt.procedure_name)
    forms = etree.SubElement(dossier, "ToKhais")
    for item in receipt.forms:
        row = etree.SubElement(forms, "FileToKhai")
        for name, tag in ITEM_ELEMENTS.items():
            _leaf(row, tag, str(getattr(item, name)))
    unit = etree.SubElement(root, "ThongTinDonVi")
    for name in ("unit_name", "unit_code", "unit_phone"):
        _leaf(unit, ELEMENTS[name].split("/")[1], _text(receipt, name))
    reception = etree.SubElement(root, "ThongTinTiepNhan")
    for name, tag in RECEPTION_ELEMENTS.items():
        _leaf(reception, tag, _text(receipt, name))
    etree.SubElement(root, SIGNATURE_SLOT)
    return xmlbase.serialize(root)


# --- reading ------------------------------------------------------------------------------------


def _root(data: bytes | bytearray | memoryview) -> Element:
    return xmlbase.parse(data, form_code=FORM_CODE, max_bytes=MAX_BYTES)


def schema_errors(data: bytes | Element) -> list[str]:
    """Where the document departs from schemas/02-TB-TS.xsd ("line N: message"); [] when valid."""
    root = _root(data) if isinstance(data, bytes | bytearray | memoryview) else data
    return xmlbase.schema_errors(xmlbase.load_schema(SCHEMA_PATH), root)


def decode(data: bytes) -> Receipt:
    """The receipt in `data` (sealed or not; the seal is not checked); NoticeError if invalid."""
    root = _root(data)
    errors = schema_errors(root)
    if errors:
        raise NoticeError("not a valid 02/TB-TS receipt: " + "; ".join(errors[:5]))
    values: dict[str, Any] = {}
    for name, path in ELEMENTS.items():
        if name != "forms":
            values[name] = root.findtext(path) or ""
    values["forms"] = tuple(
        ReceiptItem(
            code=row.findtext("MaToKhai") or "",
            description=row.findtext("MoTaToKhai") or "",
            file_name=row.findtext("TenFile") or "",
            quantity=int(row.findtext("SoLuong")),
        )
        for row in root.iterfind("ThongTinHoSo/ToKhais/FileToKhai")
    )
    try:
        received = xmlbase.read_time(values["received_at"], "ThoiDiemNhan")
        values["received_at"] = received
        if (
            xmlbase.read_date(root.findtext("ThongTinHoSo/NgayLap") or "", "NgayLap")
            != received.date()
        ):
            raise ValueError("NgayLap is not the date of ThoiDiemNhan")
        appointment = values["appointment_date"]
        values["appointment_date"] = (
            xmlbase.read_date(appointment, "NgayHenTra") if appointment else None
        )
        values["specimen"] = values["specimen"] == "1"
    except ValueError as exc:
        raise NoticeError(f"not a valid 02/TB-TS receipt: {exc}") from None
    return Receipt(**values)
