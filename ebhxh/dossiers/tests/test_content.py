"""Attachments are judged by their content: real files of every kind, and the zip attacks."""

from __future__ import annotations

import io
import re
import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ebhxh.dossiers.content import (
    ALLOWED_KINDS,
    CODES,
    Problem,
    check_attachment,
    problem,
    sniff,
)

MAX = 10 * 1024 * 1024
DOCS = Path(__file__).resolve().parents[3] / "docs"

# --- real files -------------------------------------------------------------------------------


def make_pdf() -> bytes:
    """A minimal valid one-page PDF, cross-reference offsets computed."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def make_image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def make_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Họ tên", "Mã số BHXH"])
    sheet.append(["Nguyễn Văn A", "7900000001"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


DOCX_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="{main}"/>'
    "{extra}</Types>"
)
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>Giấy xác nhận</w:t></w:r></w:p></w:body></w:document>"
)


def make_docx(main: str = DOCX_MAIN, *, vba: bool = False) -> bytes:
    extra = (
        '<Override PartName="/word/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        if vba
        else ""
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", DOCX_CONTENT_TYPES.format(main=main, extra=extra))
        z.writestr("_rels/.rels", RELS)
        z.writestr("word/document.xml", DOCUMENT)
        if vba:
            z.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\x00" * 60)
    return buffer.getvalue()


def rewrite_zip(
    data: bytes,
    *,
    replace: dict[str, bytes] | None = None,
    add: dict[str, bytes] | None = None,
) -> bytes:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, (replace or {}).get(info.filename, source.read(info)))
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return buffer.getvalue()


def make_xlsm(*, honest_content_type: bool = True) -> bytes:
    """An xlsx turned into a macro workbook: a VBA project, and (when honest) the macro main type."""
    xlsx = make_xlsx()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        types = z.read("[Content_Types].xml").decode()
    if honest_content_type:
        types = types.replace(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        )
    return rewrite_zip(
        xlsx,
        replace={"[Content_Types].xml": types.encode()},
        add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\x00" * 200},
    )


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return {
        "pdf": make_pdf(),
        "png": make_image("PNG"),
        "jpeg": make_image("JPEG"),
        "gif": make_image("GIF"),
        "xlsx": make_xlsx(),
        "docx": make_docx(),
        "xml": '\ufeff<?xml version="1.0" encoding="UTF-8"?>\n<TK1-TS><Cky/></TK1-TS>'.encode(),
    }


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


# --- sniffing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pdf", "png", "jpeg", "xlsx", "docx", "xml"])
def test_sniff_recognises_every_allowed_kind(files: dict[str, bytes], kind: str) -> None:
    assert sniff(files[kind]) == kind
    assert kind in ALLOWED_KINDS


def test_sniff_recognises_refused_kinds(files: dict[str, bytes]) -> None:
    assert sniff(files["gif"]) == "gif"
    assert sniff(make_xlsm()) == "xlsm"
    assert sniff(make_docx(DOCM_MAIN, vba=True)) == "docm"
    assert sniff(zip_of({"a.txt": b"hello"})) == "zip"
    assert sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100) == "ole"
    assert sniff(b"MZ\x90\x00" + b"\x00" * 60) == "exe"
    assert sniff(b"just some text") is None
    assert sniff(b"<html><body>hi</body></html>") is None
    assert sniff(b"") is None


def test_sniff_goes_by_the_main_part_not_the_member_names(files: dict[str, bytes]) -> None:
    # A zip holding word/document.xml but declaring no main part is not a document.
    without_override = rewrite_zip(
        files["docx"],
        replace={
            "[Content_Types].xml": DOCX_CONTENT_TYPES.replace(
                '<Override PartName="/word/document.xml" ContentType="{main}"/>', ""
            )
            .format(extra="")
            .encode()
        },
    )
    assert sniff(without_override) == "zip"
    # The main part declared but absent from the package: not a document either.
    declared_only = zip_of(
        {"[Content_Types].xml": DOCX_CONTENT_TYPES.format(main=DOCX_MAIN, extra="").encode()}
    )
    assert sniff(declared_only) == "zip"


# --- accepted files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "declared"),
    [
        ("pdf", "Quyết định.pdf", ".pdf"),
        ("png", "anh-the.PNG", ".png"),
        ("jpeg", "scan.jpg", ".jpg"),
        ("jpeg", "scan.jpeg", "jpeg"),
        ("xlsx", "D02-TS.xlsx", ".xlsx"),
        ("docx", "Công văn.docx", None),
        ("xml", "TK1-TS-595.xml", ".xml"),
        ("pdf", "no-extension", None),
    ],
)
def test_good_attachments_have_no_problems(
    files: dict[str, bytes], kind: str, name: str, declared: str | None
) -> None:
    assert check_attachment(name, declared, files[kind], max_bytes=MAX) == []


# --- refused files ----------------------------------------------------------------------------


def test_empty_and_too_large(files: dict[str, bytes]) -> None:
    assert codes(check_attachment("a.pdf", ".pdf", b"", max_bytes=MAX)) == ["DOS-FILE-EMPTY"]
    too_large = check_attachment("a.pdf", ".pdf", files["pdf"], max_bytes=len(files["pdf"]) - 1)
    assert codes(too_large) == ["DOS-FILE-TOO-LARGE"]
    assert check_attachment("a.pdf", ".pdf", files["pdf"], max_bytes=len(files["pdf"])) == []


@pytest.mark.parametrize(
    ("kind", "name", "declared"),
    [
        ("png", "hop-dong.pdf", ".pdf"),  # both say pdf, the content is a picture
        ("png", "hop-dong.png", ".pdf"),  # LoaiFile disagrees with the content
        ("pdf", "hop-dong.pdf", ".docx"),
        ("xlsx", "bang-ke.docx", None),
        ("docx", "bang-ke.xlsx", ".xlsx"),
        ("xml", "TK1-TS.pdf", None),
        ("jpeg", "anh.png", ".png"),
    ],
)
def test_content_that_contradicts_the_name_or_type_is_a_mismatch(
    files: dict[str, bytes], kind: str, name: str, declared: str | None
) -> None:
    found = check_attachment(name, declared, files[kind], max_bytes=MAX)
    assert codes(found) == ["DOS-FILE-MISMATCH"]
    assert found[0].file == name
    assert kind in found[0].detail


@pytest.mark.parametrize(
    ("data", "name", "declared"),
    [
        (b"GIF89a" + b"\x00" * 40, "anh.gif", ".gif"),
        (b"MZ\x90\x00" + b"\x00" * 60, "setup.pdf", ".pdf"),
        (b"plain text, no magic", "ghi-chu.txt", ".txt"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "cu.doc", ".doc"),
    ],
)
def test_kinds_outside_the_list_are_refused(data: bytes, name: str, declared: str) -> None:
    assert "DOS-FILE-TYPE" in codes(check_attachment(name, declared, data, max_bytes=MAX))


def test_an_allowed_content_under_a_refused_extension_is_a_type_problem(
    files: dict[str, bytes],
) -> None:
    found = check_attachment("bao-cao.exe", ".exe", files["pdf"], max_bytes=MAX)
    assert codes(found) == ["DOS-FILE-TYPE"]
    assert ".exe" in found[0].detail


def test_a_zip_that_is_no_office_document_is_refused() -> None:
    data = zip_of({"hop-dong.pdf": b"%PDF-1.4"})
    assert codes(check_attachment("goi.zip", ".zip", data, max_bytes=MAX)) == ["DOS-FILE-TYPE"]


def test_macros_are_refused_whatever_the_name() -> None:
    for data in (
        make_xlsm(),
        make_xlsm(honest_content_type=False),  # a VBA project hidden in an "xlsx"
        make_docx(DOCM_MAIN, vba=True),
        make_docx(DOCX_MAIN, vba=True),
    ):
        found = check_attachment("bang-ke.xlsx", ".xlsx", data, max_bytes=MAX)
        assert codes(found) == ["DOS-FILE-MACRO"]


def test_a_zip_bomb_by_ratio_is_refused_from_its_metadata() -> None:
    bomb = zip_of({"[Content_Types].xml": b"<Types/>", "xl/huge.xml": b"\x00" * (20 * 1024 * 1024)})
    assert len(bomb) < 100_000  # small on the wire: only the ratio gives it away
    found = check_attachment("bomb.xlsx", ".xlsx", bomb, max_bytes=MAX)
    assert codes(found) == ["DOS-FILE-ZIP"]
    assert "ratio" in found[0].detail


def test_a_zip_bomb_by_total_size_is_refused() -> None:
    # Many members each under the ratio floor, together far more than 10 × max_bytes.
    members = {f"xl/part{i}.xml": b"\x00" * (900 * 1024) for i in range(12)}
    bomb = zip_of({"[Content_Types].xml": b"<Types/>", **members})
    found = check_attachment("many.xlsx", ".xlsx", bomb, max_bytes=1024 * 1024)
    assert codes(found) == ["DOS-FILE-ZIP"]
    assert "uncompressed" in found[0].detail
    # The same package is fine when the limit allows it (the rule is the total, not the count).
    assert "DOS-FILE-ZIP" not in codes(check_attachment("many.xlsx", None, bomb, max_bytes=MAX))


def test_sizes_that_lie_in_the_central_directory_are_caught_without_extracting(
    files: dict[str, bytes],
) -> None:
    data = bytearray(files["docx"])
    central = data.index(b"PK\x01\x02")  # the first central directory entry
    struct.pack_into("<I", data, central + 24, 0xFFFFFFF0)  # its uncompressed size: ~4 GiB
    found = check_attachment("a.docx", ".docx", bytes(data), max_bytes=MAX)
    assert codes(found) == ["DOS-FILE-ZIP"]


@pytest.mark.parametrize("name", ["../../etc/cron.d/x", "/etc/passwd", "word/../../x.xml"])
def test_path_traversal_names_are_refused(files: dict[str, bytes], name: str) -> None:
    data = rewrite_zip(files["docx"], add={name: b"x"})
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert name in z.namelist()  # the archive really carries the hostile name
    found = check_attachment("a.docx", ".docx", data, max_bytes=MAX)
    assert codes(found) == ["DOS-FILE-ZIP"]
    assert "path" in found[0].detail


def test_encrypted_members_are_refused(files: dict[str, bytes]) -> None:
    # zipfile cannot write encrypted members: set the "encrypted" bit of the general purpose
    # flags by hand, in the local header and in the central directory, as a password-protected
    # archive has it.
    data = bytearray(files["docx"])
    with zipfile.ZipFile(io.BytesIO(files["docx"])) as z:
        info = z.getinfo("word/document.xml")
    data[info.header_offset + 6] |= 0x1
    entries = [m.start() for m in re.finditer(rb"PK\x01\x02", bytes(data))]
    name = info.filename.encode()
    central = next(e for e in entries if data[e + 46 : e + 46 + len(name)] == name)
    data[central + 8] |= 0x1
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        assert z.getinfo("word/document.xml").flag_bits & 0x1  # the archive really says so
    found = check_attachment("a.docx", ".docx", bytes(data), max_bytes=MAX)
    assert codes(found) == ["DOS-FILE-ZIP"]
    assert "encrypted" in found[0].detail


def test_truncated_and_corrupt_zips_are_refused(files: dict[str, bytes]) -> None:
    xlsx = files["xlsx"]
    truncated = xlsx[: len(xlsx) // 2]
    assert codes(check_attachment("a.xlsx", ".xlsx", truncated, max_bytes=MAX)) == ["DOS-FILE-ZIP"]
    # A flipped byte inside [Content_Types].xml's compressed data: CRC or inflate error.
    corrupt = bytearray(xlsx)
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        info = z.getinfo("[Content_Types].xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    corrupt[start + 5] ^= 0xFF
    assert codes(check_attachment("a.xlsx", ".xlsx", bytes(corrupt), max_bytes=MAX)) == [
        "DOS-FILE-ZIP"
    ]


# --- codes ------------------------------------------------------------------------------------

VIETNAMESE = re.compile(r"[ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ]")


def test_every_code_has_a_vietnamese_and_an_english_message() -> None:
    assert set(CODES) == {
        "DOS-FILE-EMPTY",
        "DOS-FILE-TOO-LARGE",
        "DOS-FILE-TYPE",
        "DOS-FILE-MISMATCH",
        "DOS-FILE-MACRO",
        "DOS-FILE-ZIP",
    }
    for code, (vi, en) in CODES.items():
        assert VIETNAMESE.search(vi.lower()), code
        assert en.isascii() and en.endswith("."), code
    made = problem("DOS-FILE-EMPTY", "a.pdf")
    assert made == Problem(
        "DOS-FILE-EMPTY", "Tệp đính kèm rỗng.", "The attachment is empty.", "a.pdf"
    )
    with pytest.raises(KeyError):
        problem("DOS-FILE-NOPE", "a.pdf")


def test_the_documentation_lists_every_code() -> None:
    text = (DOCS / "attachments.md").read_text(encoding="utf-8")
    for code, (vi, en) in CODES.items():
        assert code in text, code
        assert vi in text and en in text, code


# --- fuzz -------------------------------------------------------------------------------------

_SEEDS = [make_docx(), make_xlsm(), make_pdf()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.binary(max_size=4096),
        st.binary(max_size=2048).map(lambda b: b"PK\x03\x04" + b),
        st.tuples(
            st.sampled_from(_SEEDS), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)))
        ).map(lambda t: _mutate(*t)),
        st.tuples(st.sampled_from(_SEEDS), st.integers(0, 10**6)).map(
            lambda t: t[0][: t[1] % len(t[0])]
        ),
    ),
    name=st.text(max_size=40),
    declared=st.one_of(st.none(), st.text(max_size=8)),
)
def test_check_attachment_never_raises(data: bytes, name: str, declared: str | None) -> None:
    found = check_attachment(name, declared, data, max_bytes=MAX)
    assert all(p.code in CODES for p in found)
    assert len({p.code for p in found}) == len(found)
    kind = sniff(data)
    assert kind is None or isinstance(kind, str)


def _mutate(seed: bytes, edits: list[tuple[int, int]]) -> bytes:
    data = bytearray(seed)
    for position, value in edits:
        data[position % len(data)] = value
    return bytes(data)
