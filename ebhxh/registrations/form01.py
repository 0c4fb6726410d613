"""The registration declaration 01/ĐK-GĐ as XML (pure Python + lxml, no Django).

No copy of the 01/ĐK-GĐ template has been located (vss-domain.md §2.3). The layout follows the
confirmed first-registration message of an I-VAN client ("HosoDKLanDau", §2.2 [C]): a ``<Hoso>``
whose ``<NoiDung>`` carries the unit's details, with attachments in ``ToKhais/FileToKhai`` and
the unit's signature in ``Hoso/CKy_Dvi`` (the container the signature profile already uses for
``Hoso`` documents). Elements marked [I] below are this project's reading: the kind of
registration, the procedures, the certificate block (named after 04/ĐK-IVAN's ``TTCKY``), the
stop date and reason (named after 06/NG-IVAN's), the head of unit and the unit code.

The signature covers the whole ``<Hoso>``, attachments included, so the business-registration
document of a first-time unit is signed together with the declaration.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Final

from lxml import etree

FORM_CODE: Final = "01/ĐK-GĐ"
ROOT: Final = "Hoso"
CONTAINER: Final = "Hoso/CKy_Dvi"
SIGNATURE_SLOT: Final = "CKy_Dvi"

# LoaiDangKy [I]
KIND_CODES: Final = {
    "first": "1",  # lần đầu, chưa có mã đơn vị
    "existing": "2",  # đơn vị đã có mã
    "reregistration": "3",  # đăng ký lại từ hệ thống cũ (CV 614/CV-CNTT)
    "change": "4",  # điều chỉnh thông tin
    "stop": "5",  # ngừng giao dịch điện tử
}
# PTNhanKetQua [C for the element, I for the codes]
DELIVERY_CODES: Final = {"electronic": "1", "post": "2", "desk": "3"}


@dataclass(frozen=True)
class Certificate:
    serial: str
    subject: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    der: bytes = b""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    description: str = "Giấy chứng nhận đăng ký doanh nghiệp"
    form_code: str = "CT-DK"


@dataclass(frozen=True)
class Declaration:
    kind: str
    unit_name: str
    tax_code: str
    agency_code: str
    agency_name: str
    email: str
    phone: str
    registered_address: str
    contact_address: str = ""
    unit_code: str = ""
    head_name: str = ""
    contact_person: str = ""
    contact_phone: str = ""
    procedures: tuple[str, ...] = ()
    delivery: str = "electronic"
    ivan_code: str = ""  # the I-VAN that may file dossiers for the unit; "" = none
    ivan_name: str = ""
    uses_signature: bool = True
    certificate: Certificate | None = None
    stop_date: dt.date | None = None
    stop_reason: str = ""
    reference: str = ""
    made_on: dt.date = field(default_factory=dt.date.today)
    attachments: tuple[Attachment, ...] = ()


def _date(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


def _add(parent: Any, tag: str, text: str | None) -> Any:
    node = etree.SubElement(parent, tag)
    if text:
        node.text = text
    return node


def encode(declaration: Declaration) -> bytes:
    """The unsigned declaration (UTF-8, with an empty ``CKy_Dvi`` for the unit's signature)."""
    d = declaration
    root = etree.Element(ROOT)
    body = etree.SubElement(root, "NoiDung")
    _add(body, "MaToKhai", FORM_CODE)
    _add(body, "SoThamChieu", d.reference)
    _add(body, "LoaiDangKy", KIND_CODES[d.kind])
    _add(body, "TenCoQuan", d.agency_name)
    _add(body, "MaCoQuan", d.agency_code)
    _add(body, "LoaiDoiTuong", "1")
    _add(body, "TenDoiTuong", d.unit_name)
    _add(body, "MaSoBHXH", d.unit_code)
    _add(body, "MaSoThue", d.tax_code)
    _add(body, "ThuTruong", d.head_name)
    _add(body, "DienThoai", d.phone)
    _add(body, "Email", d.email)
    _add(body, "NguoiLienHe", d.contact_person)
    _add(body, "DiaChi", d.registered_address)
    _add(body, "DiaChiLienHe", d.contact_address)
    _add(body, "DienThoaiLienHe", d.contact_phone)
    _add(body, "NgayLap", _date(d.made_on))
    _add(body, "NgayDangKy", _date(d.made_on))
    _add(body, "PTNhanKetQua", DELIVERY_CODES[d.delivery])
    if d.ivan_code:
        ivan = etree.SubElement(body, "ThongTinIVAN")
        _add(ivan, "MaIVAN", d.ivan_code)
        _add(ivan, "TenIVAN", d.ivan_name)
    procedures = etree.SubElement(body, "ThuTucs")
    for code in d.procedures:
        _add(procedures, "MaThuTuc", code)
    _add(body, "SuDungChuKySo", "1" if d.uses_signature else "0")
    if d.certificate is not None:
        c = d.certificate
        block = etree.SubElement(body, "TTCKY")
        _add(block, "SERIAL", c.serial)
        _add(block, "SUBJECT", c.subject)
        _add(block, "ISSUER", c.issuer)
        _add(block, "BEGIN", c.not_before.strftime("%d/%m/%Y %H:%M:%S"))
        _add(block, "END", c.not_after.strftime("%d/%m/%Y %H:%M:%S"))
        if c.der:
            _add(block, "NoiDung", base64.b64encode(c.der).decode("ascii"))
    if d.kind == "stop":
        _add(body, "NgayNgung", _date(d.stop_date) if d.stop_date else "")
        _add(body, "LyDoNgung", d.stop_reason)
    files = etree.SubElement(body, "ToKhais")
    for a in d.attachments:
        item = etree.SubElement(files, "FileToKhai")
        encoded = base64.b64encode(a.content).decode("ascii")
        _add(item, "MaToKhai", a.form_code)
        _add(item, "MoTaToKhai", a.description)
        _add(item, "TenFile", a.filename)
        _add(
            item,
            "LoaiFile",
            "." + a.filename.rsplit(".", 1)[-1].lower() if "." in a.filename else "",
        )
        _add(item, "DoDaiFile", str(len(encoded)))
        _add(item, "NoiDungFile", encoded)
    etree.SubElement(root, SIGNATURE_SLOT)
    out: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)
    return out


def signed_content(root: Any) -> bytes:
    """The canonical ``NoiDung`` of a declaration tree: what a signature must cover for the
    server to accept it as the declaration it built (compared byte for byte)."""
    body = root.find("NoiDung") if root is not None else None
    if body is None:
        return b""
    out: bytes = etree.tostring(body, method="c14n", exclusive=False, with_comments=False)
    return out


def content_of(xml: bytes) -> bytes:
    """`signed_content` of serialised XML built by `encode` (trusted: our own bytes)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return signed_content(etree.fromstring(xml, parser))
