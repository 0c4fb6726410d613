"""Attachments checked by their content, not by their name (docs/attachments.md).

Pure Python (no Django): intake, the offline validator and tests use it alike.

    kind = sniff(data)            # "pdf", "jpeg", "png", "xlsx", "docx", "xml", other kinds, None
    problems = check_attachment("hop-dong.pdf", ".pdf", data, max_bytes=10 * 1024 * 1024)

A dossier may carry attachments (in `BHXHDienTu.xml` each file has `TenFile`, `LoaiFile` and the
bytes). The type is decided from magic bytes and, for OOXML packages, from the zip's
`[Content_Types].xml`; the name and `LoaiFile` only have to agree with it. Zip packages are judged
from their metadata (the central directory) and one small member: nothing is extracted.

Codes are a public contract (the API returns them): never reuse or rename one.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Final

from lxml import etree

# --- codes ----------------------------------------------------------------------------------------

CODES: Final[dict[str, tuple[str, str]]] = {
    "DOS-FILE-EMPTY": ("Tệp đính kèm rỗng.", "The attachment is empty."),
    "DOS-FILE-TOO-LARGE": (
        "Tệp đính kèm vượt quá dung lượng cho phép.",
        "The attachment is larger than the allowed size.",
    ),
    "DOS-FILE-TYPE": (
        "Loại tệp đính kèm không được chấp nhận (chỉ nhận pdf, jpg, png, xlsx, docx, xml).",
        "The attachment type is not accepted (only pdf, jpg, png, xlsx, docx, xml).",
    ),
    "DOS-FILE-MISMATCH": (
        "Nội dung tệp đính kèm không đúng với loại tệp khai báo (tên tệp hoặc LoaiFile).",
        "The attachment's content does not match its declared type (file name or LoaiFile).",
    ),
    "DOS-FILE-MACRO": (
        "Tệp đính kèm có chứa macro (xlsm, docm): không được chấp nhận.",
        "The attachment contains macros (xlsm, docm): refused.",
    ),
    "DOS-FILE-ZIP": (
        "Tệp nén bên trong tệp đính kèm bị hỏng, có mật khẩu, có tỷ lệ nén bất thường hoặc đường "
        "dẫn không an toàn.",
        "The attachment's zip package is corrupt, encrypted, abnormally compressed (a zip bomb) "
        "or has unsafe paths.",
    ),
}


@dataclass(frozen=True)
class Problem:
    """One problem of one attachment. `detail` is technical (for logs and support), never
    personal data: it names types and sizes, not content."""

    code: str
    message_vi: str
    message_en: str
    file: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
            "file": self.file,
            "detail": self.detail,
        }


def problem(code: str, file: str, detail: str = "") -> Problem:
    """The Problem `code` (a key of CODES) for `file`; KeyError for an unknown code."""
    vi, en = CODES[code]
    return Problem(code, vi, en, file, detail)


# --- kinds ----------------------------------------------------------------------------------------

ALLOWED_KINDS: Final = frozenset({"pdf", "jpeg", "png", "xlsx", "docx", "xml"})
# "ooxml-macro": a package with a VBA project whose main part is neither a workbook nor a document.
MACRO_KINDS: Final = frozenset({"xlsm", "docm", "ooxml-macro"})

# Extension (file name or LoaiFile, without the dot, lower case) -> the kind it promises.
EXTENSIONS: Final[dict[str, str]] = {
    "pdf": "pdf",
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "jpe": "jpeg",
    "png": "png",
    "xlsx": "xlsx",
    "docx": "docx",
    "xml": "xml",
    "xlsm": "xlsm",
    "docm": "docm",
}

# Zip limits (docs/attachments.md). The ratio is judged per member above a floor: small XML parts
# of a normal workbook compress well, and a bomb needs size to matter.
MAX_RATIO: Final = 100
RATIO_FLOOR_BYTES: Final = 1024 * 1024
MAX_TOTAL_FACTOR: Final = 10  # total uncompressed size <= 10 × max_bytes
MAX_MEMBERS: Final = 10_000
MAX_CONTENT_TYPES_BYTES: Final = 1024 * 1024

_MAGIC: Final[tuple[tuple[bytes, str], ...]] = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
    # OLE2: legacy .doc/.xls, and also password-protected OOXML (an encrypted package is OLE2).
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"\x7fELF", "elf"),
    (b"MZ", "exe"),
)
_ZIP_MAGIC: Final = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or an empty archive
_UTF8_BOM: Final = b"\xef\xbb\xbf"
_XML_START: Final = re.compile(rb"<(\?xml[\s?]|[A-Za-z_:][-A-Za-z0-9_.:]*[\s/>])")

_CT_NS: Final = "{http://schemas.openxmlformats.org/package/2006/content-types}"
# Main part content type -> kind. Anything "macroEnabled" is a macro kind whatever its family.
_MAIN_PARTS: Final[dict[str, str]] = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": "xlsm",
    "application/vnd.ms-excel.template.macroEnabled.main+xml": "xlsm",
    "application/vnd.ms-word.document.macroEnabled.main+xml": "docm",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": "docm",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": "xltx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": "dotx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
}
_VBA_CONTENT_TYPE: Final = "application/vnd.ms-office.vbaproject"


@dataclass(frozen=True)
class _ZipVerdict:
    kind: str  # xlsx, docx, xlsm, docm, pptx, …, or "zip" for a package that is none of them
    problem: str = ""  # why it is refused as a zip (DOS-FILE-ZIP), "" when it is sound


def _extension(name: str | None) -> str | None:
    """`"a/b/Hợp đồng.PDF"` -> `"pdf"`; `".pdf"` (a LoaiFile) -> `"pdf"`; no extension -> None."""
    if not name:
        return None
    base = re.split(r"[/\\]", name.strip())[-1]
    if "." not in base:
        return None
    ext = base.rsplit(".", 1)[1].strip().lower()
    return ext or None


def _looks_like_xml(data: bytes) -> bool:
    head = data[:1024]
    if head.startswith(_UTF8_BOM):
        head = head[len(_UTF8_BOM) :]
    head = head.lstrip(b" \t\r\n")
    match = _XML_START.match(head)
    if match is None:
        return False
    # An HTML page is not a form file, whatever its first tag looks like.
    return head[1:5].lower() != b"html"


def _unsafe_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return True
    if re.match(r"[A-Za-z]:", name):
        return True
    return any(part == ".." for part in name.split("/"))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _content_types(archive: zipfile.ZipFile) -> list[tuple[str, str, str]]:
    """[("Default"|"Override", extension or part name, content type)] of `[Content_Types].xml`."""
    info = archive.getinfo("[Content_Types].xml")
    if info.file_size > MAX_CONTENT_TYPES_BYTES:
        raise ValueError("[Content_Types].xml is too large")
    with archive.open(info) as member:
        data = member.read(MAX_CONTENT_TYPES_BYTES + 1)
    if len(data) > MAX_CONTENT_TYPES_BYTES:
        raise ValueError("[Content_Types].xml is too large")
    root = etree.fromstring(data, _parser())
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ValueError("DOCTYPE in [Content_Types].xml")
    entries = []
    for node in root:
        if not isinstance(node.tag, str) or not node.tag.startswith(_CT_NS):
            continue
        local = node.tag[len(_CT_NS) :]
        if local == "Default":
            entries.append(
                ("Default", (node.get("Extension") or "").lower(), node.get("ContentType") or "")
            )
        elif local == "Override":
            entries.append(("Override", node.get("PartName") or "", node.get("ContentType") or ""))
    return entries


def _inspect_zip(data: bytes, max_bytes: int | None) -> _ZipVerdict:
    """The OOXML kind of a zip and whether it is sound, from metadata and `[Content_Types].xml`.

    `max_bytes` bounds the total uncompressed size (× MAX_TOTAL_FACTOR); None skips that check
    (sniff). A corrupt archive can raise almost anything from zipfile's depths (BadZipFile,
    EOFError, struct errors, zlib errors, UnicodeDecodeError of a name…): all of it means
    "corrupt", so it is caught as such.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS:
                return _ZipVerdict("zip", f"{len(infos)} members")
            names: set[str] = set()
            total = 0
            for info in infos:
                if info.flag_bits & 0x1:
                    return _ZipVerdict("zip", "encrypted member")
                if _unsafe_name(info.filename):
                    return _ZipVerdict("zip", "unsafe member path")
                if info.filename in names:
                    return _ZipVerdict("zip", "duplicate member name")
                names.add(info.filename)
                if info.file_size < 0 or info.compress_size < 0:
                    return _ZipVerdict("zip", "negative size")
                total += info.file_size
                if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(
                    info.compress_size, 1
                ):
                    return _ZipVerdict(
                        "zip",
                        f"compression ratio above {MAX_RATIO}:1 "
                        f"({info.file_size} / {info.compress_size} bytes)",
                    )
            if max_bytes is not None and total > MAX_TOTAL_FACTOR * max_bytes:
                return _ZipVerdict("zip", f"{total} bytes uncompressed")
            if "[Content_Types].xml" not in names:
                return _ZipVerdict("zip")
            entries = _content_types(archive)
    except Exception as exc:  # noqa: BLE001 - see the docstring: every failure here is "corrupt"
        return _ZipVerdict("zip", f"unreadable zip: {type(exc).__name__}")

    lowered = {n.lower() for n in names}
    macro = any(n.rsplit("/", 1)[-1] == "vbaproject.bin" for n in lowered) or any(
        "macroenabled" in ct.lower() or ct.lower() == _VBA_CONTENT_TYPE for _, _, ct in entries
    )
    main_kinds = [
        _MAIN_PARTS[ct]
        for where, part, ct in entries
        if where == "Override" and ct in _MAIN_PARTS and part.lstrip("/") in names
    ]
    # No main part, or two different ones: not a document ebhxh accepts.
    kind = main_kinds[0] if len(set(main_kinds)) == 1 else "zip"
    if macro:
        kind = {"xlsx": "xlsm", "docx": "docm"}.get(
            kind, kind if kind in MACRO_KINDS else "ooxml-macro"
        )
    return _ZipVerdict(kind)


def _sniff(data: bytes, max_bytes: int | None) -> tuple[str | None, str]:
    if data.startswith(_ZIP_MAGIC):
        verdict = _inspect_zip(data, max_bytes)
        return verdict.kind, verdict.problem
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] != b"IHDR":
        return None, ""  # the PNG signature without its header chunk is not a picture
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind, ""
    if _looks_like_xml(data):
        return "xml", ""
    return None, ""


def sniff(data: bytes) -> str | None:
    """The kind of `data` from its content: one of ALLOWED_KINDS, a macro kind (`xlsm`, `docm`),
    another recognised kind (`zip`, `ole`, `gif`, `exe`, …) or None. Never raises."""
    try:
        return _sniff(bytes(data), None)[0]
    except Exception:  # noqa: BLE001 - a sniffer answers "unknown", it does not fail
        return None


def check_attachment(
    name: str, declared_type: str | None, data: bytes, *, max_bytes: int
) -> list[Problem]:
    """The problems of one attachment (an empty list when it is acceptable). Never raises.

    `name` is `TenFile`, `declared_type` is `LoaiFile` (".pdf", "pdf" or None). Order: empty,
    too large (then nothing else is looked at), zip soundness, macros, type, then whether the
    name and `LoaiFile` agree with the content. Each code appears at most once.
    """
    file = name or ""
    if not data:
        return [problem("DOS-FILE-EMPTY", file)]
    if len(data) > max_bytes:
        return [problem("DOS-FILE-TOO-LARGE", file, f"{len(data)} > {max_bytes} bytes")]
    try:
        kind, zip_problem = _sniff(bytes(data), max_bytes)
    except Exception as exc:  # noqa: BLE001 - defensive: a checker reports, it does not fail
        kind, zip_problem = None, f"unreadable: {type(exc).__name__}"
    if zip_problem:
        return [problem("DOS-FILE-ZIP", file, zip_problem)]
    if kind in MACRO_KINDS:
        return [problem("DOS-FILE-MACRO", file, kind or "")]

    found: dict[str, Problem] = {}

    def add(code: str, detail: str) -> None:
        found.setdefault(code, problem(code, file, detail))

    if kind not in ALLOWED_KINDS:
        add("DOS-FILE-TYPE", f"content: {kind or 'unknown'}")
    for source, ext in (
        ("TenFile", _extension(name)),
        ("LoaiFile", _extension_of_type(declared_type)),
    ):
        if ext is None:
            continue
        promised = EXTENSIONS.get(ext)
        if promised is None or promised not in ALLOWED_KINDS:
            add("DOS-FILE-TYPE", f"{source}: .{ext}")
        elif kind in ALLOWED_KINDS and promised != kind:
            add("DOS-FILE-MISMATCH", f"{source}: .{ext}, content: {kind}")
    return list(found.values())


def _extension_of_type(declared_type: str | None) -> str | None:
    """`LoaiFile` is an extension with its dot (".pdf"); a bare "pdf" is read the same way."""
    if not declared_type or not declared_type.strip():
        return None
    text = declared_type.strip()
    return _extension(text if "." in text else f".{text}")
