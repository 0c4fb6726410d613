"""The dossier envelope `BHXHDienTu.xml` (vss-domain.md §4.1–4.2 [C, SRC-THAISON]).

Pure Python (no Django). The envelope carries the unit, the I-VAN and the procedure, and the
base64 of every (already signed) form file; the unit signs it again in `Hoso/CKy_Dvi`:

    Hoso/NoiDung/ThongTinIVAN{MaIVAN, TenIVAN}
                /ThongTinDonVi{TenDoiTuong, MaSoBHXH, LoaiDoiTuong, MaSoThue, NguoiKy,
                               DienThoai, CoQuanQuanLy}
                /ThongTinHoSo{TenThuTuc, MaThuTuc, KyKeKhai, NgayLap, SoLuongFile, QuyTrinhISO,
                              ToKhais/FileToKhai{MaToKhai, MoTaToKhai, TenFile, LoaiFile,
                                                 DoDaiFile, NoiDungFile}}
    Hoso/CKy_Dvi

    data = build_envelope(unit, "600", Month(2026, 7), [("D02-TS", "D02-TS-595.xml", signed)])
    signed_envelope = xmldsig.sign(data, signer)          # into Hoso/CKy_Dvi
    envelope, findings = decode_envelope(signed_envelope)
    for file in envelope.files: xmlcodec.decode(file.content, expect=file.form_code)

Unlike the forms, this layout is confirmed from a vendor's source, so the element names are
the real ones. `decode_envelope` returns the files' bytes undecoded: the caller decodes forms.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Final

from lxml import etree

from ebhxh.declarations.codes import fail, finding
from ebhxh.declarations.findings import Finding
from ebhxh.declarations.forms import FORMS, Month
from ebhxh.declarations.xmlcodec import MAX_BYTES, XML_DECLARATION, parse_xml

Element = Any  # lxml.etree._Element

ROOT: Final = "Hoso"
SIGNATURE_SLOT: Final = "CKy_Dvi"
FORM: Final = "BHXHDienTu"  # the name findings carry in Location.form
_FILES_XPATH: Final = "/Hoso/NoiDung/ThongTinHoSo/ToKhais/FileToKhai"

# Template suffixes in file names and procedure ids: 595 = QĐ 595/2017, 959 = QĐ 959/2015,
# 166 = QĐ 166/2019 (the stripping is [C]; what the numbers mean is [I]; vss-domain.md §4.2).
TEMPLATE_SUFFIXES: Final = ("595", "959", "166")
_SUFFIX = re.compile(r"^(?P<base>.+?)-(?P<suffix>595|959|166)$")

# Procedure names as the portal lists them (vss-domain.md §3.1 [C]); others need a name given.
PROCEDURE_NAMES: Final[dict[str, str]] = {
    "600": "Báo tăng, báo giảm, điều chỉnh đóng BHXH, BHYT, BHTN, BHTNLĐ, BNN",
    "601": "Truy đóng BHXH, BHYT, BHTN, BHTNLĐ, BNN",
    "604": "Đăng ký, thay đổi thông tin đóng BHXH, BHYT, BHTN, BHTNLĐ, BNN",
}
ATTACHMENT_FORM: Final = "CT-DK"  # chứng từ đi kèm: pdf, docx, xlsx, jpg


def split_template_suffix(name: str) -> tuple[str, str | None]:
    """`"TK1-TS-595"` -> `("TK1-TS", "595")`; `"600"` -> `("600", None)`."""
    match = _SUFFIX.match(name)
    return (match["base"], match["suffix"]) if match else (name, None)


def _split_file_name(name: str) -> tuple[str, str]:
    """`"TK1-TS-595.xml"` -> `("TK1-TS-595", ".xml")`."""
    stem, dot, extension = name.rpartition(".")
    return (stem, f".{extension}") if dot and stem else (name, "")


@dataclass(frozen=True, slots=True)
class Ivan:
    """ThongTinIVAN: the I-VAN that transmits the dossier (code from GetListIVAN)."""

    code: str | None = None  # MaIVAN
    name: str | None = None  # TenIVAN


@dataclass(frozen=True, slots=True)
class EnvelopeUnit:
    """ThongTinDonVi: the declaring unit."""

    name: str | None = None  # TenDoiTuong
    code: str | None = None  # MaSoBHXH (the unit code, mã đơn vị)
    kind: str | None = "1"  # LoaiDoiTuong: 1 = organisation
    tax_code: str | None = None  # MaSoThue
    signer: str | None = None  # NguoiKy
    phone: str | None = None  # DienThoai
    agency_code: str | None = None  # CoQuanQuanLy (5 characters, e.g. 01903)


@dataclass(frozen=True, slots=True)
class EnvelopeFile:
    """FileToKhai: one file of the dossier, its content decoded from base64 (None if broken)."""

    form_code: str | None  # MaToKhai: TK1-TS, D02-TS, D01-TS, … or CT-DK for attachments
    file_name: str | None  # TenFile, e.g. D02-TS-595.xml
    content: bytes | None  # NoiDungFile, base64 in the XML
    description: str | None = None  # MoTaToKhai
    file_type: str | None = None  # LoaiFile: the extension with its dot

    @property
    def template_suffix(self) -> str | None:
        """ "595" for `D02-TS-595.xml`."""
        if not self.file_name:
            return None
        return split_template_suffix(_split_file_name(self.file_name)[0])[1]


@dataclass(frozen=True, slots=True)
class Envelope:
    """ThongTinHoSo and the rest of BHXHDienTu.xml. `procedure_code` has its template suffix
    (`template_suffix`) stripped; SoLuongFile and DoDaiFile are derived from `files`."""

    unit: EnvelopeUnit
    procedure_code: str | None  # MaThuTuc
    period: Month | None  # KyKeKhai, MM/yyyy
    files: tuple[EnvelopeFile, ...] = ()
    procedure_name: str | None = None  # TenThuTuc
    date: dt.date | None = None  # NgayLap, dd/MM/yyyy
    iso_process: str | None = None  # QuyTrinhISO
    ivan: Ivan = field(default_factory=Ivan)
    template_suffix: str | None = None  # stripped from MaThuTuc, e.g. "595"

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", tuple(self.files))


# --- encoding -------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _sub(parent: Element, name: str, value: object = None) -> Element:
    node = etree.SubElement(parent, name)
    if value is not None:
        if isinstance(value, Month):
            node.text = str(value)
        elif isinstance(value, dt.date):
            node.text = f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
        else:
            try:
                node.text = str(value)
            except (ValueError, UnicodeError):
                raise fail("DECL-CHAR", form=FORM, xpath=node.getroottree().getpath(node)) from None
    return node


def encode_envelope(envelope: Envelope) -> bytes:
    """BHXHDienTu.xml for `envelope`, UTF-8, with an empty CKy_Dvi for the unit's signature.
    SoLuongFile and each DoDaiFile are computed from the files."""
    root = etree.Element(ROOT)
    content = _sub(root, "NoiDung")
    ivan = _sub(content, "ThongTinIVAN")
    _sub(ivan, "MaIVAN", envelope.ivan.code)
    _sub(ivan, "TenIVAN", envelope.ivan.name)
    unit = _sub(content, "ThongTinDonVi")
    for name, value in (
        ("TenDoiTuong", envelope.unit.name),
        ("MaSoBHXH", envelope.unit.code),
        ("LoaiDoiTuong", envelope.unit.kind),
        ("MaSoThue", envelope.unit.tax_code),
        ("NguoiKy", envelope.unit.signer),
        ("DienThoai", envelope.unit.phone),
        ("CoQuanQuanLy", envelope.unit.agency_code),
    ):
        _sub(unit, name, value)
    dossier = _sub(content, "ThongTinHoSo")
    procedure = envelope.procedure_code
    if procedure is not None and envelope.template_suffix:
        procedure = f"{procedure}-{envelope.template_suffix}"
    _sub(dossier, "TenThuTuc", envelope.procedure_name)
    _sub(dossier, "MaThuTuc", procedure)
    _sub(dossier, "KyKeKhai", envelope.period)
    _sub(dossier, "NgayLap", envelope.date)
    _sub(dossier, "SoLuongFile", len(envelope.files))
    _sub(dossier, "QuyTrinhISO", envelope.iso_process)
    files = _sub(dossier, "ToKhais")
    for item in envelope.files:
        encoded = _b64(item.content or b"")
        node = _sub(files, "FileToKhai")
        _sub(node, "MaToKhai", item.form_code)
        _sub(node, "MoTaToKhai", item.description)
        _sub(node, "TenFile", item.file_name)
        _sub(node, "LoaiFile", item.file_type)
        _sub(node, "DoDaiFile", len(encoded))
        _sub(node, "NoiDungFile", encoded)
    _sub(root, SIGNATURE_SLOT)
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)
    return XML_DECLARATION + body


def build_envelope(
    unit: EnvelopeUnit,
    procedure_code: str,
    period: Month | None,
    files: list[tuple[str, str, bytes]],
    *,
    procedure_name: str | None = None,
    date: dt.date | None = None,
    ivan: Ivan | None = None,
    iso_process: str | None = None,
) -> bytes:
    """BHXHDienTu.xml for already signed files given as (MaToKhai, file name, bytes).

    MoTaToKhai comes from the form catalogue, LoaiFile from the file name, TenThuTuc from
    PROCEDURE_NAMES unless given. Sign the result with `xmldsig.sign` (into Hoso/CKy_Dvi).
    """
    procedure, suffix = split_template_suffix(procedure_code)
    envelope = Envelope(
        unit=unit,
        procedure_code=procedure,
        template_suffix=suffix,
        period=period,
        date=date,
        procedure_name=procedure_name or PROCEDURE_NAMES.get(procedure),
        ivan=ivan or Ivan(),
        iso_process=iso_process,
        files=tuple(
            EnvelopeFile(
                form_code=form_code,
                file_name=name,
                content=content,
                description=(
                    FORMS[form_code].title_vi
                    if form_code in FORMS
                    else "Chứng từ đi kèm"
                    if form_code == ATTACHMENT_FORM
                    else None
                ),
                file_type=_split_file_name(name)[1] or None,
            )
            for form_code, name, content in files
        ),
    )
    return encode_envelope(envelope)


# --- decoding -------------------------------------------------------------------------------


class _Reader:
    """Reads the named children of one element; records findings with their XPath."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings

    def child(
        self, parent: Element | None, name: str, path: str, *, required: bool = False
    ) -> Element | None:
        if parent is None:
            return None
        found = [c for c in parent if c.tag == name]
        if not found:
            if required:
                self.findings.append(finding("DECL-MISSING", form=FORM, xpath=f"{path}/{name}"))
            return None
        if len(found) > 1:
            self.findings.append(finding("DECL-DUPLICATE", form=FORM, xpath=f"{path}/{name}"))
        return found[0]

    def text(
        self,
        parent: Element | None,
        name: str,
        path: str,
        *,
        required: bool = False,
        row: int | None = None,
        attr: str | None = None,
    ) -> str | None:
        node = self.child(parent, name, path)
        text = None
        if node is not None:
            if any(isinstance(c.tag, str) for c in node):
                self.findings.append(
                    finding(
                        "DECL-STRUCTURE", form=FORM, row=row, field=attr, xpath=f"{path}/{name}"
                    )
                )
                return None
            text = "".join(node.itertext())
        if text is None or not text.strip():
            if required and parent is not None:
                self.findings.append(
                    finding("DECL-MISSING", form=FORM, row=row, field=attr, xpath=f"{path}/{name}")
                )
            return None
        return text.strip()

    def number(
        self,
        parent: Element | None,
        name: str,
        path: str,
        *,
        row: int | None = None,
        attr: str | None = None,
    ) -> int | None:
        text = self.text(parent, name, path, row=row, attr=attr)
        if text is None:
            return None
        if not text.isascii() or not text.isdigit() or len(text) > 18:
            self.findings.append(
                finding(
                    "DECL-NUMBER",
                    "Cần số nguyên.",
                    "A whole number is expected.",
                    form=FORM,
                    row=row,
                    field=attr,
                    xpath=f"{path}/{name}",
                )
            )
            return None
        return int(text)


def _base64(text: str | None) -> bytes | None:
    try:
        return base64.b64decode(text or "", validate=True)
    except (binascii.Error, ValueError):
        return None


def decode_envelope(data: bytes, *, max_bytes: int = MAX_BYTES) -> tuple[Envelope, list[Finding]]:
    """The envelope in `data` and what is wrong with it; the files' bytes are not parsed.

    Checks: SoLuongFile equals the number of FileToKhai (DECL-COUNT), each DoDaiFile equals
    the length of its base64 text (DECL-LENGTH), the base64 is valid (DECL-BASE64; the
    file's content is then None), file names agree with MaToKhai and LoaiFile
    (DECL-FILENAME, a warning). Raises DeclarationError only for a file that is not a
    readable XML document with the root <Hoso>. The signature in CKy_Dvi is not looked at.
    """
    root = parse_xml(data, max_bytes=max_bytes, form=FORM)
    if root.tag != ROOT:
        name = root.tag.rsplit("}", 1)[-1] if isinstance(root.tag, str) else "?"
        raise fail(
            "DECL-ROOT",
            f"(gốc <{name}>, cần <{ROOT}>)",
            f"(root <{name}>, expected <{ROOT}>)",
            form=FORM,
            xpath=f"/{name}",
        )
    findings: list[Finding] = []
    read = _Reader(findings)
    content = read.child(root, "NoiDung", "/Hoso", required=True)
    base = "/Hoso/NoiDung"
    ivan_el = read.child(content, "ThongTinIVAN", base)
    unit_el = read.child(content, "ThongTinDonVi", base, required=content is not None)
    dossier = read.child(content, "ThongTinHoSo", base, required=content is not None)
    ivan_path, unit_path, dossier_path = (
        f"{base}/ThongTinIVAN",
        f"{base}/ThongTinDonVi",
        f"{base}/ThongTinHoSo",
    )
    ivan = Ivan(read.text(ivan_el, "MaIVAN", ivan_path), read.text(ivan_el, "TenIVAN", ivan_path))
    unit = EnvelopeUnit(
        name=read.text(unit_el, "TenDoiTuong", unit_path),
        code=read.text(unit_el, "MaSoBHXH", unit_path, required=True, attr="unit.code"),
        kind=read.text(unit_el, "LoaiDoiTuong", unit_path),
        tax_code=read.text(unit_el, "MaSoThue", unit_path),
        signer=read.text(unit_el, "NguoiKy", unit_path),
        phone=read.text(unit_el, "DienThoai", unit_path),
        agency_code=read.text(unit_el, "CoQuanQuanLy", unit_path),
    )
    raw_procedure = read.text(
        dossier, "MaThuTuc", dossier_path, required=True, attr="procedure_code"
    )
    procedure, suffix = split_template_suffix(raw_procedure) if raw_procedure else (None, None)
    period = _parsed(read, dossier, "KyKeKhai", dossier_path, "period", Month.parse, "DECL-MONTH")
    date = _parsed(read, dossier, "NgayLap", dossier_path, "date", _parse_date, "DECL-DATE")
    declared_count = read.number(dossier, "SoLuongFile", dossier_path, attr="file_count")
    files_el = read.child(dossier, "ToKhais", dossier_path, required=dossier is not None)
    files = []
    if files_el is not None:
        for number, node in enumerate((c for c in files_el if c.tag == "FileToKhai"), 1):
            files.append(_decode_file(read, node, number, findings))
    if declared_count is not None and declared_count != len(files):
        findings.append(
            finding(
                "DECL-COUNT",
                f"(khai {declared_count}, có {len(files)})",
                f"(declared {declared_count}, found {len(files)})",
                form=FORM,
                field="file_count",
                xpath=f"{dossier_path}/SoLuongFile",
            )
        )
    envelope = Envelope(
        unit=unit,
        procedure_code=procedure,
        template_suffix=suffix,
        period=period,
        date=date,
        procedure_name=read.text(dossier, "TenThuTuc", dossier_path),
        iso_process=read.text(dossier, "QuyTrinhISO", dossier_path),
        ivan=ivan,
        files=tuple(files),
    )
    return envelope, findings


def _parse_date(text: str) -> dt.date:
    match = re.fullmatch(r"([0-9]{2})/([0-9]{2})/([0-9]{4})", text)
    if not match:
        raise ValueError
    return dt.date(int(match[3]), int(match[2]), int(match[1]))


def _parsed(
    read: _Reader, parent: Element | None, name: str, path: str, attr: str, parse: Any, code: str
) -> Any:
    text = read.text(parent, name, path)
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError:
        read.findings.append(finding(code, form=FORM, field=attr, xpath=f"{path}/{name}"))
        return None


def _decode_file(
    read: _Reader, node: Element, number: int, findings: list[Finding]
) -> EnvelopeFile:
    path = f"{_FILES_XPATH}[{number}]"
    form_code = read.text(
        node, "MaToKhai", path, required=True, attr=f"files[{number}].form_code", row=number
    )
    file_name = read.text(
        node, "TenFile", path, required=True, attr=f"files[{number}].file_name", row=number
    )
    file_type = read.text(node, "LoaiFile", path, row=number)
    description = read.text(node, "MoTaToKhai", path, row=number)
    length = read.number(node, "DoDaiFile", path, attr=f"files[{number}].length", row=number)
    text = read.text(
        node, "NoiDungFile", path, required=True, attr=f"files[{number}].content", row=number
    )
    compact = "".join(text.split()) if text else ""
    content = _base64(compact) if text else None
    field_path = f"files[{number}].content"
    if text and content is None:
        findings.append(
            finding(
                "DECL-BASE64", form=FORM, row=number, field=field_path, xpath=f"{path}/NoiDungFile"
            )
        )
    if length is not None and text is not None and length != len(compact):
        findings.append(
            finding(
                "DECL-LENGTH",
                f"(khai {length}, thực tế {len(compact)})",
                f"(declared {length}, actual {len(compact)})",
                form=FORM,
                row=number,
                field=f"files[{number}].length",
                xpath=f"{path}/DoDaiFile",
            )
        )
    if file_name:
        stem, extension = _split_file_name(file_name)
        base, _suffix = split_template_suffix(stem)
        mismatched_type = file_type and extension.lower() != file_type.lower()
        mismatched_form = form_code in FORMS and base != form_code
        if mismatched_type or mismatched_form:
            findings.append(
                finding(
                    "DECL-FILENAME",
                    form=FORM,
                    row=number,
                    field=f"files[{number}].file_name",
                    xpath=f"{path}/TenFile",
                )
            )
    return EnvelopeFile(
        form_code=form_code,
        file_name=file_name,
        content=content,
        description=description,
        file_type=file_type,
    )
