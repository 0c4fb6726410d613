"""The envelope BHXHDienTu.xml: round trip, its checks (count, length, base64, names), signing."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from ebhxh.declarations.envelope import (
    Envelope,
    EnvelopeFile,
    EnvelopeUnit,
    Ivan,
    build_envelope,
    decode_envelope,
    encode_envelope,
    split_template_suffix,
)
from ebhxh.declarations.findings import DeclarationError
from ebhxh.declarations.forms import Month
from ebhxh.declarations.tests.test_forms import sample
from ebhxh.declarations.xmlcodec import decode, encode, validate_schema
from ebhxh.signatures import xmldsig
from ebhxh.signatures.profile import Policy
from ebhxh.signatures.signers import KeySigner
from ebhxh.signatures.testing.pki import TestPKI

UNIT = EnvelopeUnit(
    name="Công ty TNHH Thử Nghiệm",
    code="TN0001A",
    tax_code="0310000017",
    signer="Nguyễn Văn Giám Đốc",
    phone="0281234567",
    agency_code="07906",
)
PDF = b"%PDF-1.4 synthetic attachment\n%%EOF\n"


def envelope(**changes) -> Envelope:
    value = Envelope(
        unit=UNIT,
        procedure_code="600",
        template_suffix="595",
        period=Month(2026, 7),
        date=dt.date(2026, 7, 5),
        procedure_name="Báo tăng, báo giảm",
        iso_process="1",
        ivan=Ivan("00040", "I-VAN thử nghiệm"),
        files=(
            EnvelopeFile("D02-TS", "D02-TS-595.xml", encode(sample("D02-TS")), "D02", ".xml"),
            EnvelopeFile("CT-DK", "HopDong.pdf", PDF, "Chứng từ đi kèm", ".pdf"),
        ),
    )
    return dataclasses.replace(value, **changes)


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def test_envelope_round_trips_and_validates():
    data = encode_envelope(envelope())
    decoded, findings = decode_envelope(data)
    assert findings == []
    assert decoded == envelope()
    assert validate_schema(data, "BHXHDienTu") == []
    root = etree.fromstring(data)
    assert [c.tag for c in root] == ["NoiDung", "CKy_Dvi"]
    assert root.findtext("NoiDung/ThongTinHoSo/MaThuTuc") == "600-595"
    assert root.findtext("NoiDung/ThongTinHoSo/SoLuongFile") == "2"
    first = root.find("NoiDung/ThongTinHoSo/ToKhais/FileToKhai")
    assert int(first.findtext("DoDaiFile")) == len(first.findtext("NoiDungFile"))


def test_build_envelope_fills_descriptions_types_and_procedure_name():
    data = build_envelope(
        UNIT,
        "600",
        Month(2026, 7),
        [("D02-TS", "D02-TS-595.xml", b"<D02-TS/>"), ("CT-DK", "HopDong.pdf", PDF)],
        date=dt.date(2026, 7, 5),
    )
    decoded, findings = decode_envelope(data)
    assert findings == []
    assert decoded.procedure_name.startswith("Báo tăng, báo giảm")
    assert decoded.procedure_code == "600" and decoded.template_suffix is None
    assert [(f.form_code, f.file_type, f.content) for f in decoded.files] == [
        ("D02-TS", ".xml", b"<D02-TS/>"),
        ("CT-DK", ".pdf", PDF),
    ]
    assert decoded.files[0].description.startswith("Danh sách lao động")
    assert decoded.files[0].template_suffix == "595"
    assert decoded.files[1].template_suffix is None


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("600-595", ("600", "595")),
        ("630a-166", ("630a", "166")),
        ("TK1-TS-959", ("TK1-TS", "959")),
        ("D02-TS", ("D02-TS", None)),
        ("600", ("600", None)),
        ("-595", ("-595", None)),
    ],
)
def test_template_suffixes_are_stripped(name, split):
    assert split_template_suffix(name) == split


def _replace(data: bytes, old: bytes, new: bytes, count: int = 1) -> bytes:
    assert old in data
    return data.replace(old, new, count)


def test_broken_base64_is_a_finding_and_the_content_none():
    data = encode_envelope(envelope())
    text = etree.fromstring(data).findtext("NoiDung/ThongTinHoSo/ToKhais/FileToKhai/NoiDungFile")
    broken = _replace(data, text[:8].encode(), b"!!$$%%^^")
    decoded, findings = decode_envelope(broken)
    assert codes(findings) == ["DECL-BASE64"]
    location = findings[0].location
    assert (location.form, location.row, location.field) == ("BHXHDienTu", 1, "files[1].content")
    assert decoded.files[0].content is None
    assert decoded.files[1].content == PDF


@pytest.mark.parametrize("bad", [b"abc", b"ab=c", b"a\xc3\xa9bc", b"===="])
def test_every_kind_of_bad_base64_is_caught(bad):
    data = build_envelope(UNIT, "600", None, [("CT-DK", "a.pdf", b"x")])
    data = _replace(
        data, b"<DoDaiFile>4</DoDaiFile>", f"<DoDaiFile>{len(bad.decode())}</DoDaiFile>".encode()
    )
    data = _replace(
        data, b"<NoiDungFile>eA==</NoiDungFile>", b"<NoiDungFile>" + bad + b"</NoiDungFile>"
    )
    _decoded, findings = decode_envelope(data)
    assert codes(findings) == ["DECL-BASE64"]


def test_length_mismatch():
    data = encode_envelope(envelope())
    length = etree.fromstring(data).findtext("NoiDung/ThongTinHoSo/ToKhais/FileToKhai/DoDaiFile")
    data = _replace(
        data, f"<DoDaiFile>{length}<".encode(), f"<DoDaiFile>{int(length) + 4}<".encode()
    )
    decoded, findings = decode_envelope(data)
    assert codes(findings) == ["DECL-LENGTH"]
    assert findings[0].location.field == "files[1].length"
    assert decoded.files[0].content is not None


def test_count_mismatch():
    data = _replace(encode_envelope(envelope()), b"<SoLuongFile>2<", b"<SoLuongFile>3<")
    _decoded, findings = decode_envelope(data)
    assert codes(findings) == ["DECL-COUNT"]
    assert "3" in findings[0].message_en and "2" in findings[0].message_en


def test_base64_with_line_breaks_is_accepted():
    content = bytes(range(256)) * 4
    encoded = base64.encodebytes(content)  # 76-character lines
    data = build_envelope(UNIT, "600", None, [("CT-DK", "a.bin", content)])
    compact = base64.b64encode(content)
    data = _replace(data, compact, encoded)
    decoded, findings = decode_envelope(data)
    assert findings == [] and decoded.files[0].content == content


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        (b"<KyKeKhai>07/2026</KyKeKhai>", b"<KyKeKhai>2026-07</KyKeKhai>", "DECL-MONTH"),
        (b"<NgayLap>05/07/2026</NgayLap>", b"<NgayLap>5/7/2026</NgayLap>", "DECL-DATE"),
        (b"<SoLuongFile>2</SoLuongFile>", b"<SoLuongFile>hai</SoLuongFile>", "DECL-NUMBER"),
        (
            b"<SoLuongFile>2</SoLuongFile>",
            b"<SoLuongFile>" + b"9" * 5000 + b"</SoLuongFile>",
            "DECL-NUMBER",
        ),
        (b"<MaThuTuc>600-595</MaThuTuc>", b"<MaThuTuc/>", "DECL-MISSING"),
        (b"<MaSoBHXH>TN0001A</MaSoBHXH>", b"", "DECL-MISSING"),
        (
            b"<TenFile>D02-TS-595.xml</TenFile>",
            b"<TenFile>TK1-TS-595.xml</TenFile>",
            "DECL-FILENAME",
        ),
        (b"<LoaiFile>.pdf</LoaiFile>", b"<LoaiFile>.docx</LoaiFile>", "DECL-FILENAME"),
        (b"<TenDoiTuong>", b"<TenDoiTuong><b/>", "DECL-STRUCTURE"),
        (b"<MaIVAN>00040</MaIVAN>", b"<MaIVAN>1</MaIVAN><MaIVAN>2</MaIVAN>", "DECL-DUPLICATE"),
    ],
)
def test_value_problems_are_findings(old, new, code):
    _decoded, findings = decode_envelope(_replace(encode_envelope(envelope()), old, new))
    assert codes(findings) == [code]


def test_missing_structure_is_reported():
    decoded, findings = decode_envelope(b"<Hoso><CKy_Dvi/></Hoso>")
    assert codes(findings) == ["DECL-MISSING"]
    assert decoded.files == () and decoded.procedure_code is None
    _decoded, findings = decode_envelope(b"<Hoso><NoiDung/></Hoso>")
    assert codes(findings) == ["DECL-MISSING", "DECL-MISSING"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "DECL-EMPTY"),
        (b"<Hoso>", "DECL-XML-MALFORMED"),
        (b"<D02-TS/>", "DECL-ROOT"),
        (b'<!DOCTYPE Hoso [<!ENTITY x "y">]><Hoso/>', "DECL-XML-DOCTYPE"),
        ("<Hoso>Công ty</Hoso>".encode("cp1258"), "DECL-ENCODING"),
    ],
)
def test_unreadable_envelopes_raise_declaration_error(data, code):
    with pytest.raises(DeclarationError) as raised:
        decode_envelope(data)
    assert raised.value.finding.code == code


def test_a_bom_and_the_size_limit():
    data = encode_envelope(envelope())
    assert decode_envelope(b"\xef\xbb\xbf" + data)[0] == envelope()
    with pytest.raises(DeclarationError) as raised:
        decode_envelope(data, max_bytes=100)
    assert raised.value.finding.code == "DECL-TOO-LARGE"


def test_a_signed_envelope_of_signed_forms():
    pki = TestPKI(name="ebhxh envelope")
    unit = pki.issue(UNIT.name, tax_code=UNIT.tax_code)
    signer = KeySigner(unit.key, unit.certificate, unit.chain)
    when = dt.datetime(2026, 7, 5, 9, 30, tzinfo=dt.UTC)
    d02 = xmldsig.sign(encode(sample("D02-TS")), signer, signing_time=when)
    tk1 = xmldsig.sign(encode(sample("TK1-TS")), signer, signing_time=when)
    data = build_envelope(
        UNIT,
        "600",
        Month(2026, 7),
        [("D02-TS", "D02-TS-595.xml", d02), ("TK1-TS", "TK1-TS-595.xml", tk1)],
    )
    signed = xmldsig.sign(data, signer, signing_time=when)
    policy = Policy(require_signing_time=True)
    verified = xmldsig.verify(signed, policy=policy)
    assert verified.signing_time == when
    assert validate_schema(signed, "BHXHDienTu") == []
    decoded, findings = decode_envelope(signed)
    assert findings == []
    for item, code in zip(decoded.files, ["D02-TS", "TK1-TS"], strict=True):
        assert item.form_code == code
        xmldsig.verify(item.content, policy=policy)
        form, form_findings = decode(item.content, expect=code)
        assert (form, form_findings) == (sample(code), [])


# --- fuzzing --------------------------------------------------------------------------------

_VALID = encode_envelope(envelope())


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=1500) | st.sampled_from([_VALID]), st.data())
def test_random_and_mutated_envelopes_give_only_findings(data, draw):
    data = bytearray(data)
    for _ in range(draw.draw(st.integers(0, 4))):
        at = draw.draw(st.integers(0, len(data)))
        if draw.draw(st.booleans()):
            del data[at : at + draw.draw(st.integers(1, 60))]
        else:
            data[at:at] = draw.draw(
                st.sampled_from([b"<", b"</NoiDungFile>", b"=", b"!", b"\xff", b"<FileToKhai>"])
                | st.binary(max_size=6)
            )
    try:
        _envelope, findings = decode_envelope(bytes(data))
    except DeclarationError as exc:
        assert exc.finding.code.startswith("DECL-")
    else:
        assert all(f.code.startswith("DECL-") for f in findings)
    assert all(f.code.startswith("DECL-") for f in validate_schema(bytes(data), "BHXHDienTu"))
