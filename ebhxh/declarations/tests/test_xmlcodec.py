"""XML codecs: round trips, the layout, the XSDs, and every bad input giving its code (never a traceback)."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from lxml import etree

from ebhxh.declarations.codes import CODES
from ebhxh.declarations.findings import DeclarationError
from ebhxh.declarations.forms import D02TS, FORMS, Month, PartialDate
from ebhxh.declarations.tests.test_forms import minimal_d02, minimal_d02_row, sample
from ebhxh.declarations.xmlcodec import (
    SCHEMA_DIR,
    decode,
    decode_tree,
    encode,
    render_schema,
    validate_schema,
)
from ebhxh.signatures import xmldsig
from ebhxh.signatures.profile import Policy
from ebhxh.signatures.signers import KeySigner
from ebhxh.signatures.testing.pki import TestPKI

HEADER = (
    "<ThongTinDonVi><TenDonVi>Công ty TNHH Thử Nghiệm</TenDonVi><MaDonVi>TN0001A</MaDonVi>"
    "<KyKeKhai>07/2026</KyKeKhai></ThongTinDonVi>"
)
ROW = (
    "<Stt>1</Stt><PhuongAn>TM</PhuongAn><HoTen>Lê Thị Thu</HoTen><NgaySinh>15/05/1990</NgaySinh>"
    "<ChucVu>Kế toán</ChucVu><TienLuong>6200000</TienLuong><TuThang>07/2026</TuThang>"
)


def d02(*rows: str, header: str = HEADER) -> bytes:
    body = "".join(f"<NguoiLaoDong>{row}</NguoiLaoDong>" for row in rows)
    return f"<D02-TS>{header}<DanhSach>{body}</DanhSach><Cky/></D02-TS>".encode()


def codes(findings) -> list[str]:
    return [f.code for f in findings]


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", list(FORMS))
def test_every_form_round_trips_with_every_field_and_validates(code):
    form = sample(code, rows=3)
    data = encode(form)
    decoded, findings = decode(data)
    assert findings == []
    assert decoded == form
    assert validate_schema(data, code) == []
    assert encode(decoded) == data


@pytest.mark.parametrize("code", list(FORMS))
def test_an_empty_form_round_trips(code):
    spec = FORMS[code]
    form = spec.form_class(spec.header_class())
    decoded, _findings = decode(encode(form))
    assert decoded == form


def test_layout_root_header_rows_and_empty_signature_slot_last():
    data = encode(minimal_d02(2))
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<D02-TS>')
    root = etree.fromstring(data)
    assert [child.tag for child in root] == ["ThongTinDonVi", "DanhSach", "Cky"]
    assert len(root[2]) == 0 and not (root[2].text or "").strip()
    assert [row.tag for row in root[1]] == ["NguoiLaoDong", "NguoiLaoDong"]
    first = root[1][0]
    assert first.findtext("NgaySinh") == "15/05/1990"
    assert first.findtext("TuThang") == "07/2026"
    assert first.findtext("TienLuong") == "6200000"
    assert first.find("DenThang") is None  # absent values are absent elements


def test_values_are_written_in_the_form_formats():
    row = minimal_d02_row(
        salary=Decimal("5.31E+6"),
        contribution_rate=Decimal("32.50"),
        birth_date=PartialDate(1975),
        contract_fixed_from=dt.date(2026, 1, 5),
        has_book=True,
        charge_interest=False,
    )
    data = encode(D02TS(minimal_d02().header, [row]))
    element = etree.fromstring(data).find("DanhSach/NguoiLaoDong")
    assert element.findtext("TienLuong") == "5310000"  # no exponent, no separators
    assert element.findtext("TyLeDong") == "32.50"
    assert element.findtext("NgaySinh") == "1975"
    assert element.findtext("HdldXdthTuNgay") == "05/01/2026"
    assert (element.findtext("DaCoSo"), element.findtext("TinhLai")) == ("1", "0")


def test_tk3_has_no_row_list_and_tk1_nests_adjustment_and_household():
    assert [c.tag for c in etree.fromstring(encode(sample("TK3-TS")))] == ["ThongTinDonVi", "Cky"]
    row = etree.fromstring(encode(sample("TK1-TS"))).find("DanhSach/NguoiThamGia")
    assert row.find("DieuChinh/HoTen") is not None
    assert len(row.findall("PhuLucHoGiaDinh/ThanhVien")) == 2


@pytest.mark.parametrize("code", list(FORMS))
def test_committed_xsd_is_the_one_the_models_give(code):
    committed = (SCHEMA_DIR / FORMS[code].xsd).read_bytes()
    assert committed == render_schema(code), "run: python -m ebhxh.declarations.xmlcodec"


@pytest.mark.parametrize("code", [*FORMS, "BHXHDienTu"])
def test_schemas_are_versioned_with_their_legal_basis_and_signature_slot(code):
    text = (SCHEMA_DIR / f"{code}.xsd").read_text(encoding="utf-8")
    schema = etree.fromstring(text.encode())
    assert schema.get("version") == "1.0"
    assert "Legal basis:" in text
    assert 'namespace="http://www.w3.org/2000/09/xmldsig#" processContents="lax"' in text


# --- lenient reading ------------------------------------------------------------------------


def test_decode_accepts_a_bom_crlf_comments_whitespace_and_any_order():
    row = (
        "\r\n  <TuThang> 07/2026 </TuThang><!-- c --><TienLuong>\t6200000\n</TienLuong>"
        "<HoTen>Lê Thị <!-- split -->Thu</HoTen><ChucVu>Kế toán</ChucVu><NgaySinh>15/05/1990</NgaySinh>"
        "<PhuongAn>TM</PhuongAn><Stt>1</Stt><DenThang></DenThang><GhiChu>   </GhiChu><?pi x?>"
    )
    data = b"\xef\xbb\xbf" + d02(row).replace(b"><", b">\r\n<")
    form, findings = decode(data)
    assert findings == []
    assert form == minimal_d02()
    assert form.rows[0].to_month is None and form.rows[0].note is None


def test_text_keeps_its_own_whitespace():
    name = "  Nguyễn\u00a0Văn  A\t"
    form = minimal_d02()
    form = D02TS(form.header, [minimal_d02_row(full_name=name, note="dòng 1\r\ndòng 2")])
    decoded, _ = decode(encode(form))
    assert decoded.rows[0].full_name == name
    assert decoded.rows[0].note == "dòng 1\r\ndòng 2"


def test_blank_text_is_absent_text():
    form = D02TS(minimal_d02().header, [minimal_d02_row(note=" \n ")])
    assert b"GhiChu" not in encode(form)
    assert decode(encode(form))[0].rows[0].note is None


# --- file-level problems: DeclarationError, nothing else ------------------------------------

_BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE D02-TS [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b"<D02-TS>&c;</D02-TS>"
)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "DECL-EMPTY"),
        (b" \r\n\t", "DECL-EMPTY"),
        (b"\xef\xbb\xbf\n", "DECL-EMPTY"),
        (b"<D02-TS><ThongTinDonVi></D02-TS>", "DECL-XML-MALFORMED"),
        (b"not xml at all", "DECL-XML-MALFORMED"),
        (b"<D02-TS>\xef\xbf\xbe</D02-TS>", "DECL-XML-MALFORMED"),  # U+FFFE: UTF-8 but not XML
        (b'<!DOCTYPE D02-TS SYSTEM "http://example.invalid/x.dtd"><D02-TS/>', "DECL-XML-DOCTYPE"),
        (
            b'<!DOCTYPE D02-TS [<!ENTITY x SYSTEM "file:///etc/passwd">]><D02-TS>&x;</D02-TS>',
            "DECL-XML-DOCTYPE",
        ),
        (_BILLION_LAUGHS, "DECL-XML-DOCTYPE"),
        ("<D02-TS>Lê</D02-TS>".encode("utf-16"), "DECL-ENCODING"),  # with a BOM
        ("<D02-TS>Lê</D02-TS>".encode("utf-16-le"), "DECL-ENCODING"),  # without
        ("<D02-TS><X>Lê Thu</X></D02-TS>".encode("latin-1"), "DECL-ENCODING"),
        (
            '<?xml version="1.0" encoding="windows-1258"?><D02-TS/>'.encode("cp1258"),
            "DECL-ENCODING",
        ),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><D02-TS/>', "DECL-ENCODING"),
        (b"<Hoso/>", "DECL-ROOT"),
        (b"<d02-ts/>", "DECL-ROOT"),
        (b'<D02-TS xmlns="urn:x"/>', "DECL-ROOT"),
    ],
)
def test_unreadable_files_raise_declaration_error_with_their_code(data, code):
    with pytest.raises(DeclarationError) as raised:
        decode(data)
    assert raised.value.finding.code == code
    assert raised.value.finding.severity == "error"
    assert code in CODES


def test_oversized_files_are_refused_before_parsing():
    data = d02(*[ROW] * 50)
    with pytest.raises(DeclarationError) as raised:
        decode(data, max_bytes=len(data) - 1)
    assert raised.value.finding.code == "DECL-TOO-LARGE"
    assert decode(data, max_bytes=len(data))[1] == []


def test_the_expected_form_is_enforced():
    with pytest.raises(DeclarationError) as raised:
        decode(encode(sample("TK1-TS")), expect="D02-TS")
    assert raised.value.finding.code == "DECL-ROOT"
    assert raised.value.finding.location.form == "D02-TS"


# --- value problems: findings with the place, the row kept ----------------------------------


def with_value(row: str, element: str, text: str) -> str:
    """`row` with `element` set to `text` (replaced if present, else added)."""
    if f"<{element}>" not in row:
        return f"{row}<{element}>{text}</{element}>"
    start = row.index(f"<{element}>")
    end = row.index(f"</{element}>") + len(element) + 3
    return row[:start] + f"<{element}>{text}</{element}>" + row[end:]


@pytest.mark.parametrize(
    ("element", "text", "code", "field"),
    [
        ("NgaySinh", "31/02/1990", "DECL-DATE", "birth_date"),
        ("NgaySinh", "1990-05-15", "DECL-DATE", "birth_date"),
        ("HdldTuNgay", "1/7/2026", "DECL-DATE", "contract_indefinite_from"),
        ("HdldTuNgay", "31/06/2026", "DECL-DATE", "contract_indefinite_from"),
        ("TuThang", "13/2026", "DECL-MONTH", "from_month"),
        ("DenThang", "2026-07", "DECL-MONTH", "to_month"),
        ("TienLuong", "5.310.000", "DECL-NUMBER", "salary"),
        ("TienLuong", "5,310,000", "DECL-NUMBER", "salary"),
        ("TienLuong", "1e6", "DECL-NUMBER", "salary"),
        ("TienLuong", "NaN", "DECL-NUMBER", "salary"),
        ("TienLuong", "sáu triệu", "DECL-NUMBER", "salary"),
        ("SoToBia", "-1", "DECL-NUMBER", "book_cover_sheets"),
        ("SoToBia", "1.0", "DECL-NUMBER", "book_cover_sheets"),
        ("SoToBia", "١٢", "DECL-NUMBER", "book_cover_sheets"),  # non-ASCII digits
        ("SoToBia", "9" * 5000, "DECL-NUMBER", "book_cover_sheets"),  # beyond int()'s limit
        ("DaCoSo", "true", "DECL-CODE", "has_book"),
        ("GioiTinh", "M", "DECL-CODE", "gender"),
        ("MaVungLtt", "5", "DECL-CODE", "wage_region"),
        ("GhiChu", "<b>x</b>", "DECL-STRUCTURE", "note"),
    ],
)
def test_a_bad_value_is_a_finding_at_its_row_and_field(element, text, code, field):
    bad_row = with_value(with_value(ROW, "Stt", "2"), element, text)
    form, findings = decode(d02(ROW, bad_row))
    assert codes(findings) == [code]
    location = findings[0].location
    assert (location.form, location.row, location.field) == ("D02-TS", 2, field)
    assert location.xpath == f"/D02-TS/DanhSach/NguoiLaoDong[2]/{element}"
    assert getattr(form.rows[1], field) is None  # the row is kept, the bad field is None
    assert form.rows[1].stt == 2
    assert text not in findings[0].message_vi + findings[0].message_en  # values are not echoed


def test_every_problem_of_a_file_is_reported_at_once():
    row = (
        "<PhuongAn>TM</PhuongAn><NgaySinh>32/01/1990</NgaySinh><ChucVu>x</ChucVu>"
        "<TienLuong>abc</TienLuong><TuThang>07/2026</TuThang><Lạ>?</Lạ><GhiChu>a</GhiChu><GhiChu>b</GhiChu>"
    )
    form, findings = decode(d02(ROW, row, header="<ThongTinDonVi><Dot>x</Dot></ThongTinDonVi>"))
    found = {(f.code, f.location.row, f.location.field) for f in findings}
    assert found == {
        ("DECL-NUMBER", None, "header.batch"),
        ("DECL-MISSING", None, "header.unit_name"),
        ("DECL-MISSING", None, "header.unit_code"),
        ("DECL-MISSING", None, "header.period"),
        ("DECL-DATE", 2, "birth_date"),
        ("DECL-NUMBER", 2, "salary"),
        ("DECL-UNKNOWN", 2, None),
        ("DECL-DUPLICATE", 2, "note"),
        ("DECL-MISSING", 2, "full_name"),
    }
    assert form.rows[1].note == "a"
    assert [f.severity for f in findings if f.code == "DECL-UNKNOWN"] == ["warning"]


def test_missing_structure_is_reported_not_raised():
    form, findings = decode(b"<D02-TS><Cky/></D02-TS>")
    assert codes(findings) == ["DECL-MISSING", "DECL-MISSING"]
    assert [f.location.xpath for f in findings] == ["/D02-TS/ThongTinDonVi", "/D02-TS/DanhSach"]
    assert form.rows == ()


def test_nested_records_report_their_own_paths():
    data = (
        "<TK1-TS><ThongTinDonVi/><DanhSach><NguoiThamGia><HoTen>Lò Văn A</HoTen><NgaySinh>1990</NgaySinh>"
        "<DieuChinh><NgaySinh>x</NgaySinh></DieuChinh><PhuLucHoGiaDinh>"
        "<ThanhVien><HoTen>B</HoTen></ThanhVien><ThanhVien><HoTen>C</HoTen><GioiTinh>9</GioiTinh></ThanhVien>"
        "<ThanhVien><GioiTinh>1</GioiTinh></ThanhVien></PhuLucHoGiaDinh></NguoiThamGia></DanhSach></TK1-TS>"
    ).encode()
    form, findings = decode(data)
    base = "/TK1-TS/DanhSach/NguoiThamGia[1]"
    assert [(f.code, f.location.row, f.location.field, f.location.xpath) for f in findings] == [
        ("DECL-DATE", 1, "adjustment.birth_date", f"{base}/DieuChinh/NgaySinh"),
        (
            "DECL-CODE",
            1,
            "household.members[2].gender",
            f"{base}/PhuLucHoGiaDinh/ThanhVien[2]/GioiTinh",
        ),
        (
            "DECL-MISSING",
            1,
            "household.members[3].full_name",
            f"{base}/PhuLucHoGiaDinh/ThanhVien[3]/HoTen",
        ),
    ]
    members = form.rows[0].household.members
    assert [m.full_name for m in members] == ["B", "C", None]
    schema = {f.location.field for f in validate_schema(data, "TK1-TS")}
    assert "household.members[2].gender" in schema


# --- encoding refuses what XML cannot carry -------------------------------------------------


@pytest.mark.parametrize("text", ["a\x00b", "a\x1bb", "\ud800", "a\ufffeb"])
def test_encode_refuses_characters_xml_cannot_carry(text):
    form = D02TS(minimal_d02().header, [minimal_d02_row(), minimal_d02_row(full_name=text)])
    with pytest.raises(DeclarationError) as raised:
        encode(form)
    assert raised.value.finding.code == "DECL-CHAR"
    assert raised.value.finding.location.xpath == "/D02-TS/DanhSach/NguoiLaoDong[2]/HoTen"


def test_encode_refuses_nan_and_wrong_types():
    with pytest.raises(DeclarationError) as raised:
        encode(D02TS(minimal_d02().header, [minimal_d02_row(salary=Decimal("NaN"))]))
    assert raised.value.finding.code == "DECL-NUMBER"
    with pytest.raises(TypeError):
        encode(D02TS(minimal_d02().header, [minimal_d02_row(salary="6200000")]))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        encode(D02TS(minimal_d02().header, [minimal_d02_row(from_month="07/2026")]))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        encode("D02-TS")  # type: ignore[arg-type]


# --- XSD validation -------------------------------------------------------------------------


def test_schema_findings_carry_line_row_field_and_xpath_but_not_values():
    data = d02(
        ROW,
        ROW.replace("<TienLuong>6200000</TienLuong>", "<TienLuong>5.310.000</TienLuong>")
        + "<GioiTinh>7</GioiTinh>",
    ).replace(b"><", b">\n<")
    findings = validate_schema(data, "D02-TS")
    by_field = {f.location.field: f for f in findings}
    assert set(by_field) == {"salary", "gender"}
    salary = by_field["salary"]
    assert salary.code == "DECL-SCHEMA" and salary.location.row == 2
    assert salary.location.xpath == "/D02-TS/DanhSach/NguoiLaoDong[2]/TienLuong"
    assert "Line " in salary.message_en and "Dòng " in salary.message_vi
    assert "5.310.000" not in salary.message_en and "'7'" not in by_field["gender"].message_en


def test_validate_schema_takes_a_parsed_root_and_never_raises():
    root = etree.fromstring(encode(minimal_d02()))
    assert validate_schema(root, "D02-TS") == []
    assert codes(validate_schema(root, "TK1-TS")) == ["DECL-SCHEMA"]
    assert codes(validate_schema(b"<D02-TS>", "D02-TS")) == ["DECL-XML-MALFORMED"]
    assert codes(validate_schema(b"", "D02-TS")) == ["DECL-EMPTY"]
    assert codes(validate_schema(root, "XX-TS")) == ["DECL-FORM"]


def test_validate_schema_stops_after_max_findings():
    data = d02(*[ROW.replace("<TienLuong>6200000", "<TienLuong>x")] * 20)
    findings = validate_schema(data, "D02-TS", max_findings=5)
    assert codes(findings) == ["DECL-SCHEMA"] * 5 + ["DECL-TRUNCATED"]


def test_the_xsd_accepts_what_decode_reads_without_findings():
    # Empty optional elements, any order, whitespace around values: both sides agree.
    row = "<DenThang/><TuThang> 07/2026 </TuThang>" + ROW.replace("<TuThang>07/2026</TuThang>", "")
    data = d02(row)
    assert decode(data)[1] == []
    assert validate_schema(data, "D02-TS") == []


# --- signed forms ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key_signer() -> KeySigner:
    pki = TestPKI(name="ebhxh declarations")
    unit = pki.issue("Công ty TNHH Thử Nghiệm", tax_code="0310000017")
    return KeySigner(unit.key, unit.certificate, unit.chain)


def test_a_signed_form_still_decodes_validates_and_verifies(key_signer):
    form = sample("D02-TS", rows=3)
    signed = xmldsig.sign(encode(form), key_signer)
    root = etree.fromstring(signed)
    assert root[-1].tag == "Cky" and root[-1][0].tag == f"{{{xmldsig.profile.DS_NS}}}Signature"
    decoded, findings = decode(signed, expect="D02-TS")
    assert (decoded, findings) == (form, [])
    assert validate_schema(signed, "D02-TS") == []
    verified = xmldsig.verify(signed, policy=Policy(require_signing_time=True))
    assert decode_tree(verified.root)[0] == form


@pytest.mark.parametrize("code", list(FORMS))
def test_every_form_can_be_signed_in_its_container(code, key_signer):
    signed = xmldsig.sign(encode(sample(code)), key_signer)
    assert validate_schema(signed, code) == []
    xmldsig.verify(signed)


# --- speed ----------------------------------------------------------------------------------


def test_decoding_10000_rows_is_fast():
    """The full benchmark figure is in docs/declarations.md; this guards against regressions
    of an order of magnitude (per-row XPath, re-parsing) with a bound loose enough for CI."""
    header = minimal_d02().header
    rows = [
        minimal_d02_row(
            stt=n,
            bhxh_code=f"79{n:08d}",
            personal_id=f"0791{n % 100:02d}{n:06d}",
            full_name=f"Nguyễn Văn Thử {n}",
            birth_date=PartialDate(1960 + n % 40, 1 + n % 12, 1 + n % 28),
            salary=Decimal(5_310_000 + n * 1000),
            allowance_salary=Decimal(500_000),
            contract_indefinite_from=dt.date(2020 + n % 6, 1 + n % 12, 1),
            note=f"Hợp đồng lao động số {n}/HĐLĐ",
            kind="1",
            gender=str(n % 2),
            has_book=True,
            charge_interest=False,
            wage_region="01",
            to_month=Month(2026, 12),
        )
        for n in range(1, 10_001)
    ]
    data = encode(D02TS(header, rows))
    start = time.perf_counter()
    form, findings = decode(data)
    elapsed = time.perf_counter() - start
    assert len(form.rows) == 10_000 and findings == []
    assert elapsed < 2.0, f"decoding {len(data) / 1e6:.1f} MB took {elapsed:.2f} s"
