"""Notice 03/TB-TS, "THÔNG BÁO V/v giải quyết hồ sơ tham gia BHXH, BHYT và trả kết quả" (the
result of a dossier, QĐ 528): the typed notice and its XML codec.

Pure Python (no Django). The rendering XSLT of the old I-VAN message family (vss-domain.md §4.4)
gives the root, the two groups and their fields; those keep their names and are tagged [C]
below. What a result of ebhxh also has to say (the outcome as a code, the accepted and the
refused rows with reasons and guidance, the result documents bound by their SHA-256, the
procedure, the appointment date, the time of return, the tracking id, the agency code, a note)
is ebhxh's extension block `TTKQUA`, tagged [I]: upper-case abbreviated names in the style of
the family (TTDVI, TTGDICH, CTIET_GDICH), its row element `ROW_CTIET` and `STT` reused from the
automatic receipt notice of the same family. The order of the elements and the formats are [I].

    <?xml version="1.0" encoding="UTF-8"?>
    <BHXH>                    [C] root of the old family, as 01/TB-GD
      <XACNHAN_GDICH>         [C]
        <TTDVI>               [C]
          <TEN_DVI>           [C] the unit's name
          <MA_DVI>            [C] the unit's code ("Số định danh"); empty when it has none yet
          <TEN_COQUAN>        [C] the issuing agency's name
          <DiaDiem>           [C] place of issue (this spelling, unlike 01/TB-GD's DIADIEM)
          <NGAY_THONGBAO>     [C] the notice's date, yyyy-mm-dd as in 01/TB-GD ([I])
        <TTGDICH>             [C]
          <SO_HSO>            [C] the dossier number NNNNN/YYYY/AAAAA (§4.5)
          <GIO_NHAN>          [C] "Nhận hồi: hh giờ mm phút": hh:mm:ss ([I]), Vietnam time
          <NGAY_NHAN>         [C] the date of receipt, dd/mm/yyyy ([I]), Vietnam time
          <NGAY_TRA>          [C] "Trả kết quả ngày": the result date, dd/mm/yyyy ([I])
          <KQUA>              [C] "Kết quả xử lý hồ sơ": the result in words
          <CTIET_GDICH>       [C]
            <DTHOAI_HTRO>     [C] the agency's support phone; empty when none
        <TTKQUA>              [I] ebhxh's extension: the result in detail
          <MAU_SO>            [I] always "03/TB-TS": 01/TB-GD has the same root and body
          <MA_CQBHXH>         [I] agency code, 5 digits
          <MA_THUTUC>         [I] procedure code (the envelope's MaThuTuc), e.g. 600
          <TEN_THUTUC>        [I] the procedure's name
          <NGAY_HENTRA>       [I] the appointment date of the receipt 02/TB-TS; empty when none
          <THOIDIEM_TRA>      [I] time of return, dd/mm/yyyy hh:mm:ss Vietnam time; may be empty
          <MA_TRACUU>         [I] the tracking id
          <MA_KQUA>           [I] 1 accepted, 2 refused (as 01/TB-GD's MA_KQUA), 3 partly
                                  accepted, 4 supplement requested ("hồ sơ chưa đúng, chưa đủ")
          <DS_CHAPNHAN>       [I] part 1, the accepted rows: ROW_CTIET*, maybe none
          <DS_TUCHOI>         [I] part 2, the rows not accepted: ROW_CTIET*, maybe none
            <ROW_CTIET>       [C] name (the receipt notice's row)
              <STT>           [C] name; a positive integer, increasing within the list
              <DOI_TUONG>     [I] the subject: a participant (name, mã số BHXH) or a form/row
              <NOI_DUNG>      [I] what was asked or decided
              <LY_DO>         [I] why not accepted: required in DS_TUCHOI, empty in DS_CHAPNHAN
              <HUONG_DAN>     [I] guidance (required in DS_TUCHOI of a supplement request)
          <DS_TEP_KQUA>       [I] the result documents (they travel separately; the notice
            <TEP_KQUA>            binds their bytes): TEN_TEP, LOAI_TEP (media type),
                                  SHA256 (hex), KICH_THUOC (bytes)
          <GHI_CHU>           [I] a free note; empty when none
      </XACNHAN_GDICH>
      <CKy_CQBHXH/>           [I] the agency seal (ds:Signature): seal(xml, container=SEAL_CONTAINER)
    </BHXH>

The seal's node is 01/TB-GD's (`BHXH/CKy_CQBHXH`, `tbgd.CONTAINER`). `BHXH` is also the root of
unit-signed files of the family, so `signatures.profile.CONTAINERS` does not map it: pass the
container explicitly to sign and to verify.

Every element is always written, empty when it has no value; an empty optional element reads
back as None, an empty list as ().

    data = encode(notice)                  # bytes, UTF-8 with an XML declaration
    notice = decode(data)                  # NoticeError if it is not a valid 03/TB-TS
    errors = schema_errors(data)           # against schemas/03-TB-TS.xsd

`decode` does not check the seal. For a sealed notice, verify it first
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
from ebhxh.notices.xmlbase import DATE_FORMAT, TIME_FORMAT, VIETNAM_TIME, Element, NoticeError

FORM_CODE: Final = "03/TB-TS"
TITLE: Final = "THÔNG BÁO"
SUBJECT: Final = "V/v giải quyết hồ sơ tham gia BHXH, BHYT và trả kết quả"
ROOT: Final = "BHXH"
BODY: Final = "XACNHAN_GDICH"
EXTENSION: Final = "TTKQUA"
# The agency seal's node, as 01/TB-GD's ([I], see the module docstring).
SIGNATURE_SLOT: Final = "CKy_CQBHXH"
SEAL_CONTAINER: Final = f"{ROOT}/{SIGNATURE_SLOT}"
CONTAINER: Final = SEAL_CONTAINER  # as tbgd.CONTAINER
SCHEMA_PATH: Final = Path(__file__).resolve().parent / "schemas" / "03-TB-TS.xsd"
MAX_BYTES: Final = 1024 * 1024  # a few hundred rows and documents, sealed included

HOUR_FORMAT: Final = "%H:%M:%S"  # GIO_NHAN

_UNIT_CODE = re.compile(r"[A-Z0-9]{7}")
_TRACKING_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_HOUR = re.compile(r"[0-9]{2}:[0-9]{2}:[0-9]{2}")
# type/subtype (RFC 6838 restricted names), lower case; no parameters.
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_POSITIVE = re.compile(r"[1-9][0-9]{0,11}")
MAX_DOCUMENT_BYTES: Final = 10**12 - 1  # KICH_THUOC has at most 12 digits


class Outcome(enum.StrEnum):
    """MA_KQUA [I]: 1 and 2 as 01/TB-GD's MA_KQUA."""

    ACCEPTED = "1"  # every row accepted; part 2 empty
    REFUSED = "2"  # nothing accepted; part 2 says why
    PARTLY_ACCEPTED = "3"  # some rows accepted (part 1), some not (part 2)
    SUPPLEMENT_REQUESTED = "4"  # returned: "hồ sơ chưa đúng, chưa đủ", guidance on every row


# KQUA when the caller gives no text: the document's own (Vietnamese) wording, not a UI string.
OUTCOME_TEXT: Final[dict[Outcome, str]] = {
    Outcome.ACCEPTED: "Chấp nhận",
    Outcome.REFUSED: "Từ chối",
    Outcome.PARTLY_ACCEPTED: "Chấp nhận một phần",
    Outcome.SUPPLEMENT_REQUESTED: "Hồ sơ chưa đúng, chưa đủ; đề nghị bổ sung",
}


@dataclass(frozen=True, kw_only=True)
class ResultItem:
    """One row of part 1 (accepted) or part 2 (not accepted) of the notice (ROW_CTIET)."""

    stt: int  # STT: the row's number in its list
    subject: str  # DOI_TUONG: "Nguyễn Văn An, mã số BHXH 7912345678", "D02-TS, dòng 3"
    description: str  # NOI_DUNG: what was asked or decided
    reason: str | None = None  # LY_DO: why not accepted (part 2 only)
    guidance: str | None = None  # HUONG_DAN: what to do (how to supplement, how to collect)

    def __post_init__(self) -> None:
        xmlbase.check_text(self, frozenset({"reason", "guidance"}))
        stt = self.stt
        if isinstance(stt, bool) or not isinstance(stt, int) or not 1 <= stt <= 999_999_999:
            raise NoticeError(f"row STT must be an integer 1..999999999, got {stt!r}")
        for name, tag in (("subject", "DOI_TUONG"), ("description", "NOI_DUNG")):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise NoticeError(f"row {name} ({tag}) is required")
        for name, tag in (("reason", "LY_DO"), ("guidance", "HUONG_DAN")):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise NoticeError(f"row {name} ({tag}) must be text or None")


@dataclass(frozen=True, kw_only=True)
class ResultDocument:
    """A result document the notice binds (TEP_KQUA): the file itself travels separately."""

    name: str  # TEN_TEP: "Danh sach the BHYT 00012-2026.pdf"
    media_type: str  # LOAI_TEP: "application/pdf"
    sha256: str  # SHA256: hex of the file's exact bytes (upper case is lowered)
    size: int  # KICH_THUOC: in bytes

    def __post_init__(self) -> None:
        xmlbase.check_text(self, frozenset())
        if not isinstance(self.name, str) or not self.name.strip():
            raise NoticeError("document name (TEN_TEP) is required")
        if not isinstance(self.media_type, str) or not _MEDIA_TYPE.fullmatch(
            self.media_type.lower()
        ):
            raise NoticeError(f"document media type (LOAI_TEP) must be type/subtype: {self.name}")
        object.__setattr__(self, "media_type", self.media_type.lower())
        if not isinstance(self.sha256, str) or not _SHA256.fullmatch(self.sha256.lower()):
            raise NoticeError(f"document SHA-256 (SHA256) must be 64 hex digits: {self.name}")
        object.__setattr__(self, "sha256", self.sha256.lower())
        size = self.size
        if (
            isinstance(size, bool)
            or not isinstance(size, int)
            or not 1 <= size <= MAX_DOCUMENT_BYTES
        ):
            raise NoticeError(f"document size (KICH_THUOC) must be 1..{MAX_DOCUMENT_BYTES} bytes")


@dataclass(frozen=True, kw_only=True)
class ResultNotice:
    """One 03/TB-TS notice. Field → element: see `ELEMENTS` and the module docstring."""

    # the agency
    agency_code: str  # TTKQUA/MA_CQBHXH [I]: 5 digits
    agency_name: str  # TTDVI/TEN_COQUAN [C]
    place: str  # TTDVI/DiaDiem [C]: "Thành phố Hồ Chí Minh"
    notice_date: dt.date | None = None  # TTDVI/NGAY_THONGBAO [C]: result_date when not given
    # the unit
    unit_name: str  # TTDVI/TEN_DVI [C]
    unit_code: str | None  # TTDVI/MA_DVI [C]: None before the unit has a code
    # the dossier
    dossier_number: str  # TTGDICH/SO_HSO [C]
    procedure_code: str  # TTKQUA/MA_THUTUC [I]
    procedure_name: str  # TTKQUA/TEN_THUTUC [I]
    received_at: dt.datetime  # TTGDICH/GIO_NHAN + NGAY_NHAN [C]: aware, kept to the second
    appointment_date: dt.date | None = None  # TTKQUA/NGAY_HENTRA [I]
    result_date: dt.date  # TTGDICH/NGAY_TRA [C]: on or after the date of receipt
    returned_at: dt.datetime | None = None  # TTKQUA/THOIDIEM_TRA [I]: on result_date
    tracking_id: str  # TTKQUA/MA_TRACUU [I]
    # the result
    outcome: str  # TTKQUA/MA_KQUA [I]: read back as an Outcome
    result_text: str = ""  # TTGDICH/KQUA [C]: OUTCOME_TEXT[outcome] when left empty
    accepted_items: tuple[ResultItem, ...] = ()  # TTKQUA/DS_CHAPNHAN [I]: part 1
    refused_items: tuple[ResultItem, ...] = ()  # TTKQUA/DS_TUCHOI [I]: part 2
    documents: tuple[ResultDocument, ...] = ()  # TTKQUA/DS_TEP_KQUA [I]
    support_phone: str | None = None  # TTGDICH/CTIET_GDICH/DTHOAI_HTRO [C]
    note: str | None = None  # TTKQUA/GHI_CHU [I]

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
        if not isinstance(self.result_text, str):
            raise NoticeError("result_text (KQUA) must be text")
        if not check_agency_code(self.agency_code).ok or not self.agency_code.isascii():
            raise NoticeError("agency_code (MA_CQBHXH) must be 5 digits")
        if self.unit_code is not None and not _UNIT_CODE.fullmatch(self.unit_code):
            raise NoticeError("unit_code (MA_DVI) must be 7 characters A-Z/0-9")
        number = self.dossier_number
        checked = check_dossier_number(number)
        if not checked.ok or checked.value != number or not number.isascii():
            raise NoticeError("dossier_number (SO_HSO) must be NNNNN/YYYY/AAAAA")
        if not _TRACKING_ID.fullmatch(self.tracking_id):
            raise NoticeError(
                "tracking_id (MA_TRACUU) must be 1-64 characters A-Z, a-z, 0-9, . _ -"
            )

        received = xmlbase.check_instant(self.received_at, "received_at")
        put("received_at", received)
        received_day = received.astimezone(VIETNAM_TIME).date()
        if self.appointment_date is not None:
            xmlbase.check_day(self.appointment_date, "appointment_date (NGAY_HENTRA)")
        result_day = xmlbase.check_day(self.result_date, "result_date (NGAY_TRA)")
        if result_day < received_day:
            raise NoticeError("result_date (NGAY_TRA) is before the dossier was received")
        if self.notice_date is None:
            put("notice_date", result_day)
        else:
            xmlbase.check_day(self.notice_date, "notice_date (NGAY_THONGBAO)")
        if self.returned_at is not None:
            returned = xmlbase.check_instant(self.returned_at, "returned_at")
            put("returned_at", returned)
            if returned.astimezone(VIETNAM_TIME).date() != result_day:
                raise NoticeError("returned_at (THOIDIEM_TRA) is not on result_date (NGAY_TRA)")
            if returned < received:
                raise NoticeError("returned_at (THOIDIEM_TRA) is before received_at")

        try:
            outcome = Outcome(self.outcome)
        except ValueError:
            raise NoticeError(
                f"outcome (MA_KQUA) must be 1, 2, 3 or 4, got {self.outcome!r}"
            ) from None
        put("outcome", outcome)
        if not self.result_text.strip():
            put("result_text", OUTCOME_TEXT[outcome])
        accepted = _rows(self.accepted_items, "accepted_items (DS_CHAPNHAN)")
        refused = _rows(self.refused_items, "refused_items (DS_TUCHOI)")
        put("accepted_items", accepted)
        put("refused_items", refused)
        _check_outcome(outcome, accepted, refused)

        documents = tuple(self.documents)
        if not all(isinstance(item, ResultDocument) for item in documents):
            raise NoticeError("documents must be ResultDocument")
        names = [document.name for document in documents]
        if len(set(names)) != len(names):
            raise NoticeError("two result documents (DS_TEP_KQUA) have the same name")
        put("documents", documents)

    @property
    def received_local(self) -> dt.datetime:
        """`received_at` in Vietnam time (what the document shows)."""
        return self.received_at.astimezone(VIETNAM_TIME)

    @property
    def returned_local(self) -> dt.datetime | None:
        """`returned_at` in Vietnam time, or None."""
        return None if self.returned_at is None else self.returned_at.astimezone(VIETNAM_TIME)


def _rows(items: Any, label: str) -> tuple[ResultItem, ...]:
    rows = tuple(items)
    if not all(isinstance(item, ResultItem) for item in rows):
        raise NoticeError(f"{label} must be ResultItem")
    numbers = [row.stt for row in rows]
    if any(later <= earlier for earlier, later in zip(numbers, numbers[1:], strict=False)):
        raise NoticeError(f"{label}: STT must increase from row to row")
    return rows


def _check_outcome(
    outcome: Outcome, accepted: tuple[ResultItem, ...], refused: tuple[ResultItem, ...]
) -> None:
    """The rows an outcome allows; every row not accepted says why."""
    if any(row.reason for row in accepted):
        raise NoticeError("an accepted row (DS_CHAPNHAN) has no reason (LY_DO)")
    if any(not row.reason for row in refused):
        raise NoticeError("a row not accepted (DS_TUCHOI) needs a reason (LY_DO)")
    if outcome is Outcome.ACCEPTED and refused:
        raise NoticeError("an accepted dossier has no row in part 2 (DS_TUCHOI)")
    if outcome is not Outcome.ACCEPTED and not refused:
        raise NoticeError(f"outcome {outcome.value} needs at least one row in part 2 (DS_TUCHOI)")
    if outcome is Outcome.PARTLY_ACCEPTED and not accepted:
        raise NoticeError("a partly accepted dossier needs rows in part 1 (DS_CHAPNHAN)")
    if outcome in (Outcome.REFUSED, Outcome.SUPPLEMENT_REQUESTED) and accepted:
        raise NoticeError(f"outcome {outcome.value} has no row in part 1 (DS_CHAPNHAN)")
    if outcome is Outcome.SUPPLEMENT_REQUESTED and any(not row.guidance for row in refused):
        raise NoticeError("a supplement request gives guidance (HUONG_DAN) on every row")


# Field → element path under BHXH/XACNHAN_GDICH, in document order within each group.
UNIT_ELEMENTS: Final[dict[str, str]] = {
    "unit_name": "TEN_DVI",
    "unit_code": "MA_DVI",
    "agency_name": "TEN_COQUAN",
    "place": "DiaDiem",
    "notice_date": "NGAY_THONGBAO",
}
TRANSACTION_ELEMENTS: Final[dict[str, str]] = {
    "dossier_number": "SO_HSO",
    # received_at: GIO_NHAN and NGAY_NHAN
    "result_date": "NGAY_TRA",
    "result_text": "KQUA",
    "support_phone": "CTIET_GDICH/DTHOAI_HTRO",
}
EXTENSION_ELEMENTS: Final[dict[str, str]] = {
    # MAU_SO first: the constant FORM_CODE
    "agency_code": "MA_CQBHXH",
    "procedure_code": "MA_THUTUC",
    "procedure_name": "TEN_THUTUC",
    "appointment_date": "NGAY_HENTRA",
    "returned_at": "THOIDIEM_TRA",
    "tracking_id": "MA_TRACUU",
    "outcome": "MA_KQUA",
    "accepted_items": "DS_CHAPNHAN",
    "refused_items": "DS_TUCHOI",
    "documents": "DS_TEP_KQUA",
    "note": "GHI_CHU",
}
ELEMENTS: Final[dict[str, str]] = {
    **{name: f"TTDVI/{tag}" for name, tag in UNIT_ELEMENTS.items()},
    **{name: f"TTGDICH/{tag}" for name, tag in TRANSACTION_ELEMENTS.items()},
    "received_at": "TTGDICH/GIO_NHAN",  # and TTGDICH/NGAY_NHAN
    **{name: f"{EXTENSION}/{tag}" for name, tag in EXTENSION_ELEMENTS.items()},
}
ITEM_ELEMENTS: Final[dict[str, str]] = {
    "stt": "STT",
    "subject": "DOI_TUONG",
    "description": "NOI_DUNG",
    "reason": "LY_DO",
    "guidance": "HUONG_DAN",
}
DOCUMENT_ELEMENTS: Final[dict[str, str]] = {
    "name": "TEN_TEP",
    "media_type": "LOAI_TEP",
    "sha256": "SHA256",
    "size": "KICH_THUOC",
}
ROW: Final = "ROW_CTIET"
DOCUMENT: Final = "TEP_KQUA"
_LISTS: Final = frozenset({"accepted_items", "refused_items", "documents"})
_OPTIONAL: Final = frozenset({"unit_code", "support_phone", "note"})
_REQUIRED_TEXT: Final = (
    "agency_code",
    "agency_name",
    "place",
    "unit_name",
    "dossier_number",
    "procedure_code",
    "procedure_name",
    "tracking_id",
)


# --- writing ------------------------------------------------------------------------------------


def _text(notice: ResultNotice, name: str) -> str:
    value = getattr(notice, name)
    if value is None:
        return ""
    if name == "notice_date":
        return str(value.isoformat())
    if name in ("result_date", "appointment_date"):
        return str(value.strftime(DATE_FORMAT))
    if name == "returned_at":
        return str(value.astimezone(VIETNAM_TIME).strftime(TIME_FORMAT))
    return str(value)


def _leaf(parent: Element, tag: str, text: str) -> None:
    etree.SubElement(parent, tag).text = text or None  # empty: <MA_DVI/>


def _write_list(parent: Element, row_tag: str, items: Any, elements: dict[str, str]) -> None:
    for item in items:
        row = etree.SubElement(parent, row_tag)
        for name, tag in elements.items():
            value = getattr(item, name)
            _leaf(row, tag, "" if value is None else str(value))


def encode(notice: ResultNotice) -> bytes:
    """The notice as UTF-8 XML with an empty seal slot, indented, ready for `seal()`."""
    root = etree.Element(ROOT)
    body = etree.SubElement(root, BODY)
    unit = etree.SubElement(body, "TTDVI")
    for name, tag in UNIT_ELEMENTS.items():
        _leaf(unit, tag, _text(notice, name))
    transaction = etree.SubElement(body, "TTGDICH")
    received = notice.received_local
    _leaf(transaction, "SO_HSO", notice.dossier_number)
    _leaf(transaction, "GIO_NHAN", received.strftime(HOUR_FORMAT))
    _leaf(transaction, "NGAY_NHAN", received.strftime(DATE_FORMAT))
    _leaf(transaction, "NGAY_TRA", _text(notice, "result_date"))
    _leaf(transaction, "KQUA", notice.result_text)
    details = etree.SubElement(transaction, "CTIET_GDICH")
    _leaf(details, "DTHOAI_HTRO", _text(notice, "support_phone"))
    extension = etree.SubElement(body, EXTENSION)
    _leaf(extension, "MAU_SO", FORM_CODE)
    for name, tag in EXTENSION_ELEMENTS.items():
        if name == "documents":
            _write_list(
                etree.SubElement(extension, tag), DOCUMENT, notice.documents, DOCUMENT_ELEMENTS
            )
        elif name in _LISTS:
            _write_list(etree.SubElement(extension, tag), ROW, getattr(notice, name), ITEM_ELEMENTS)
        else:
            _leaf(extension, tag, _text(notice, name))
    etree.SubElement(root, SIGNATURE_SLOT)
    return xmlbase.serialize(root)


# --- reading ------------------------------------------------------------------------------------


def _root(data: bytes | bytearray | memoryview) -> Element:
    return xmlbase.parse(data, form_code=FORM_CODE, max_bytes=MAX_BYTES)


def schema_errors(data: bytes | Element) -> list[str]:
    """Where the document departs from schemas/03-TB-TS.xsd ("line N: message"); [] when valid."""
    root = _root(data) if isinstance(data, bytes | bytearray | memoryview) else data
    return xmlbase.schema_errors(xmlbase.load_schema(SCHEMA_PATH), root)


def _read_rows(node: Element) -> tuple[ResultItem, ...]:
    return tuple(
        ResultItem(
            stt=int(row.findtext("STT")),
            subject=row.findtext("DOI_TUONG") or "",
            description=row.findtext("NOI_DUNG") or "",
            reason=row.findtext("LY_DO") or None,
            guidance=row.findtext("HUONG_DAN") or None,
        )
        for row in node.iterfind(ROW)
    )


def _read_documents(node: Element) -> tuple[ResultDocument, ...]:
    return tuple(
        ResultDocument(
            name=row.findtext("TEN_TEP") or "",
            media_type=row.findtext("LOAI_TEP") or "",
            sha256=row.findtext("SHA256") or "",
            size=int(row.findtext("KICH_THUOC")),
        )
        for row in node.iterfind(DOCUMENT)
    )


def decode(data: bytes) -> ResultNotice:
    """The notice in `data` (sealed or not; the seal is not checked); NoticeError if invalid."""
    root = _root(data)
    errors = schema_errors(root)
    if errors:
        raise NoticeError("not a valid 03/TB-TS notice: " + "; ".join(errors[:5]))
    body = root.find(BODY)
    values: dict[str, Any] = {
        name: body.findtext(path) or "" for name, path in ELEMENTS.items() if name not in _LISTS
    }
    extension = body.find(EXTENSION)
    values["accepted_items"] = _read_rows(extension.find("DS_CHAPNHAN"))
    values["refused_items"] = _read_rows(extension.find("DS_TUCHOI"))
    values["documents"] = _read_documents(extension.find("DS_TEP_KQUA"))
    try:
        day = body.findtext("TTGDICH/NGAY_NHAN") or ""
        values["received_at"] = xmlbase.read_time(
            f"{day} {values['received_at']}", "GIO_NHAN/NGAY_NHAN"
        )
        values["notice_date"] = dt.date.fromisoformat(values["notice_date"])
        values["result_date"] = xmlbase.read_date(values["result_date"], "NGAY_TRA")
        appointment = values["appointment_date"]
        values["appointment_date"] = (
            xmlbase.read_date(appointment, "NGAY_HENTRA") if appointment else None
        )
        returned = values["returned_at"]
        values["returned_at"] = xmlbase.read_time(returned, "THOIDIEM_TRA") if returned else None
    except ValueError as exc:
        raise NoticeError(f"not a valid 03/TB-TS notice: {exc}") from None
    try:
        return ResultNotice(**values)
    except NoticeError as exc:
        raise NoticeError(f"not a valid 03/TB-TS notice: {exc}") from None
