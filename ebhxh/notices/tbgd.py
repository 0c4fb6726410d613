"""Notice 01/TB-GD, "Xác nhận đơn vị giao dịch BHXH điện tử trên hệ thống Cổng thông tin BHXH Việt
Nam": the typed notice and its XML codec.

Pure Python (no Django). The element names and their grouping are those of the rendering XSLT of
the old I-VAN message family (vss-domain.md §4.4, [C]); the rest of the layout is ebhxh's reading
([I], see docs/notices.md):

    <?xml version="1.0" encoding="UTF-8"?>
    <BHXH>
      <XACNHAN_GDICH>
        <TTDVI>      DIADIEM, NGAY_THONGBAO, TEN_DVI, TEN_COQUAN, MA_DVI, MST
        <TTGDICH>    SO_HSO, TEN_GDICH, MALOAI_HSO, NGAY_GDICH, KY_KKHAI, MA_GDICH,
                     MA_KQUA, KQUA, MA_LOI, MOTA_LOI
      </XACNHAN_GDICH>
      <CKy_CQBHXH/>  the agency seal (ds:Signature) goes here: seal(xml, container=CONTAINER)
    </BHXH>

Every element is always written, empty when it has no value (MA_DVI before the unit has a code,
MA_LOI/MOTA_LOI of an accepted transaction); an empty element reads back as None.

    data = encode(notice)                  # bytes, UTF-8 with an XML declaration
    notice = decode(data)                  # NoticeError if it is not a valid 01/TB-GD
    errors = schema_errors(data)           # against schemas/01-TB-GD.xsd

`decode` does not check the seal. For a sealed notice, verify it first
(`signatures.services.verify_document(data, container=CONTAINER)`) and decode only what was
verified (`decode(verified.content)`).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final

from lxml import etree

from ebhxh.notices import xmlbase

# NoticeError and VIETNAM_TIME are shared by every notice (xmlbase); tbgd.NoticeError is the same class.
from ebhxh.notices.xmlbase import VIETNAM_TIME, Element, NoticeError

FORM_CODE: Final = "01/TB-GD"
ROOT: Final = "BHXH"
BODY: Final = "XACNHAN_GDICH"
# Where the agency seal goes. Not confirmed by a sample ([I]): the XSLT kit only shows that the
# notice is signed ("Chữ ký số cơ quan BHXH xác nhận"). A child of the root, last, named like the
# unit's `Hoso/CKy_Dvi` (vss-domain.md §4.2). `BHXH` is also the root of unit-signed forms of the
# same family (04/ĐK-IVAN), so the container is passed explicitly rather than registered in
# `signatures.profile.CONTAINERS` by root name.
SIGNATURE_SLOT: Final = "CKy_CQBHXH"
CONTAINER: Final = f"{ROOT}/{SIGNATURE_SLOT}"
SCHEMA_PATH: Final = Path(__file__).resolve().parent / "schemas" / "01-TB-GD.xsd"
MAX_BYTES: Final = 1024 * 1024  # a notice is a few kilobytes, sealed included

# NGAY_THONGBAO: the XSLT reads a yyyy-mm-dd prefix ([C]); ebhxh writes the date only.
# NGAY_GDICH: written as in the receipt notice of the same family, dd/mm/yyyy hh:mm:ss ([I]).
TRANSACTION_TIME_FORMAT: Final = "%d/%m/%Y %H:%M:%S"

_PERIOD = re.compile(r"(0[1-9]|1[0-2])/[0-9]{4}")
_TAX_CODE = re.compile(r"[0-9]{10}(-[0-9]{3})?")
_UNIT_CODE = re.compile(r"[A-Z0-9]{7}")
_TRANSACTION_TIME = re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}")


class Result(enum.StrEnum):
    """MA_KQUA. "1" accepted, "2" refused with MA_LOI/MOTA_LOI: ebhxh's reading of the XSLT ([I])."""

    ACCEPTED = "1"
    REFUSED = "2"


# KQUA when the caller gives no text: the document's own (Vietnamese) wording, not a UI string.
RESULT_TEXT: Final[dict[Result, str]] = {
    Result.ACCEPTED: "Chấp nhận",
    Result.REFUSED: "Từ chối",
}


@dataclass(frozen=True, kw_only=True)
class RegistrationConfirmation:
    """One 01/TB-GD notice. Field → element: see `ELEMENTS`."""

    # TTDVI: the unit and the agency
    place: str  # DIADIEM: where the notice is issued ("Thành phố Hồ Chí Minh")
    notice_date: dt.date  # NGAY_THONGBAO
    unit_name: str  # TEN_DVI
    agency_name: str  # TEN_COQUAN: the issuing agency ("Bảo hiểm xã hội Cơ sở Bình Thạnh")
    unit_code: str | None  # MA_DVI: None before the agency has issued one
    tax_code: str  # MST: NNNNNNNNNN or NNNNNNNNNN-NNN
    # TTGDICH: the transaction and its result
    dossier_number: str  # SO_HSO
    transaction_name: str  # TEN_GDICH
    dossier_type: str  # MALOAI_HSO: the form code of the request, e.g. "01/ĐK-GĐ" ([I])
    transaction_time: dt.datetime  # NGAY_GDICH: timezone-aware; written in Vietnam time
    period: str | None = None  # KY_KKHAI: MM/YYYY, usually empty for a registration ([I])
    transaction_code: str  # MA_GDICH
    result: Result  # MA_KQUA
    result_text: str = ""  # KQUA: RESULT_TEXT[result] when left empty
    error_code: str | None = None  # MA_LOI: only when refused
    error_description: str | None = None  # MOTA_LOI: only when refused

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, str):
                if xmlbase.NOT_XML.search(value):
                    raise NoticeError(f"{spec.name}: a character XML cannot carry")
                if spec.name in _OPTIONAL and not value.strip():
                    put(spec.name, None)
        for name in _REQUIRED_TEXT:
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise NoticeError(f"{name} ({ELEMENTS[name]}) is required")
        if not isinstance(self.notice_date, dt.date) or isinstance(self.notice_date, dt.datetime):
            raise NoticeError("notice_date must be a date")
        when = self.transaction_time
        if not isinstance(when, dt.datetime) or when.utcoffset() is None:
            raise NoticeError("transaction_time must be a timezone-aware datetime")
        if not _TAX_CODE.fullmatch(self.tax_code):
            raise NoticeError("tax_code (MST) must be NNNNNNNNNN or NNNNNNNNNN-NNN")
        if self.unit_code is not None and not _UNIT_CODE.fullmatch(self.unit_code):
            raise NoticeError("unit_code (MA_DVI) must be 7 characters A-Z/0-9")
        if self.period is not None and not _PERIOD.fullmatch(self.period):
            raise NoticeError("period (KY_KKHAI) must be MM/YYYY")
        try:
            result = Result(self.result)
        except ValueError:
            raise NoticeError(f"result (MA_KQUA) must be 1 or 2, got {self.result!r}") from None
        put("result", result)
        if not self.result_text.strip():
            put("result_text", RESULT_TEXT[result])
        if result is Result.ACCEPTED and (self.error_code or self.error_description):
            raise NoticeError("an accepted transaction has no MA_LOI/MOTA_LOI")
        if result is Result.REFUSED and not (self.error_code and self.error_description):
            raise NoticeError("a refused transaction needs MA_LOI and MOTA_LOI")

    @property
    def accepted(self) -> bool:
        return self.result is Result.ACCEPTED


# Field → element, in document order within each group.
UNIT_ELEMENTS: Final[dict[str, str]] = {
    "place": "DIADIEM",
    "notice_date": "NGAY_THONGBAO",
    "unit_name": "TEN_DVI",
    "agency_name": "TEN_COQUAN",
    "unit_code": "MA_DVI",
    "tax_code": "MST",
}
TRANSACTION_ELEMENTS: Final[dict[str, str]] = {
    "dossier_number": "SO_HSO",
    "transaction_name": "TEN_GDICH",
    "dossier_type": "MALOAI_HSO",
    "transaction_time": "NGAY_GDICH",
    "period": "KY_KKHAI",
    "transaction_code": "MA_GDICH",
    "result": "MA_KQUA",
    "result_text": "KQUA",
    "error_code": "MA_LOI",
    "error_description": "MOTA_LOI",
}
ELEMENTS: Final[dict[str, str]] = {**UNIT_ELEMENTS, **TRANSACTION_ELEMENTS}
_OPTIONAL: Final = frozenset({"unit_code", "period", "error_code", "error_description"})
_REQUIRED_TEXT: Final = (
    "place",
    "unit_name",
    "agency_name",
    "tax_code",
    "dossier_number",
    "transaction_name",
    "dossier_type",
    "transaction_code",
)


# --- writing ------------------------------------------------------------------------------------


def _text(notice: RegistrationConfirmation, name: str) -> str:
    value = getattr(notice, name)
    if value is None:
        return ""
    if name == "notice_date":
        return str(value.isoformat())
    if name == "transaction_time":
        return str(value.astimezone(VIETNAM_TIME).strftime(TRANSACTION_TIME_FORMAT))
    return str(value)


def encode(notice: RegistrationConfirmation) -> bytes:
    """The notice as UTF-8 XML with an empty seal slot, indented, ready for `seal()`."""
    root = etree.Element(ROOT)
    body = etree.SubElement(root, BODY)
    for group, elements in (("TTDVI", UNIT_ELEMENTS), ("TTGDICH", TRANSACTION_ELEMENTS)):
        node = etree.SubElement(body, group)
        for name, tag in elements.items():
            etree.SubElement(node, tag).text = _text(notice, name) or None  # <MA_LOI/>
    etree.SubElement(root, SIGNATURE_SLOT)
    return xmlbase.serialize(root)


# --- reading ------------------------------------------------------------------------------------


def _root(data: bytes | bytearray | memoryview) -> Element:
    return xmlbase.parse(data, form_code=FORM_CODE, max_bytes=MAX_BYTES)


def schema_errors(data: bytes | Element) -> list[str]:
    """Where the document departs from schemas/01-TB-GD.xsd ("line N: message"); [] when valid."""
    root = _root(data) if isinstance(data, bytes | bytearray | memoryview) else data
    return xmlbase.schema_errors(xmlbase.load_schema(SCHEMA_PATH), root)


def decode(data: bytes) -> RegistrationConfirmation:
    """The notice in `data` (sealed or not; the seal is not checked); NoticeError if invalid."""
    root = _root(data)
    errors = schema_errors(root)
    if errors:
        raise NoticeError("not a valid 01/TB-GD notice: " + "; ".join(errors[:5]))
    values: dict[str, Any] = {}
    for group, elements in (("TTDVI", UNIT_ELEMENTS), ("TTGDICH", TRANSACTION_ELEMENTS)):
        node = root.find(f"{BODY}/{group}")
        for name, tag in elements.items():
            values[name] = node.findtext(tag) or ""
    try:
        values["notice_date"] = dt.date.fromisoformat(values["notice_date"])
        if not _TRANSACTION_TIME.fullmatch(values["transaction_time"]):
            raise ValueError("NGAY_GDICH must be dd/mm/yyyy hh:mm:ss")
        values["transaction_time"] = dt.datetime.strptime(  # noqa: DTZ007  zone set just below
            values["transaction_time"], TRANSACTION_TIME_FORMAT
        ).replace(tzinfo=VIETNAM_TIME)
    except ValueError as exc:
        raise NoticeError(f"not a valid 01/TB-GD notice: {exc}") from None
    return RegistrationConfirmation(**values)
