"""02/TB-TS: the typed receipt, its XML layout, the round trip and the XSD (pure Python, no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ebhxh.notices import tbts
from ebhxh.notices.tbts import Channel, NoticeError, Receipt, ReceiptItem
from ebhxh.notices.testing import (
    DOSSIER_NUMBER,
    ENVELOPE_SHA256,
    PROCEDURE_NAME,
    TRACKING_ID,
    UNIT_NAME,
    receipt,
    specimen_receipt,
)

ROOT_CHILDREN = [
    "CQBHXH",
    "Email",
    "ThongTinHoSo",
    "ThongTinDonVi",
    "ThongTinTiepNhan",
    "CKy_CQBHXH",
]
DOSSIER_CHILDREN = ["SoHoSo", "NgayLap", "TenQuyTrinh", "ToKhais"]
FORM_CHILDREN = ["MaToKhai", "MoTaToKhai", "TenFile", "SoLuong"]
UNIT_CHILDREN = ["TenDonVi", "MaDonVi", "DienThoai"]
RECEPTION_CHILDREN = [
    "MaCQBHXH",
    "MaThuTuc",
    "KyKeKhai",
    "ThoiDiemNhan",
    "NgayHenTra",
    "MaTraCuu",
    "SHA256HoSo",
    "KenhNop",
    "BanMau",
]


def tags(node) -> list[str]:
    return [child.tag for child in node]


# --- layout ---------------------------------------------------------------------------------------


def test_it_writes_the_published_names_the_extension_block_and_the_seal_slot_last():
    data = tbts.encode(receipt())

    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<BaoHiemDienTu>')
    root = etree.fromstring(data)
    assert tags(root) == ROOT_CHILDREN
    assert tags(root.find("ThongTinHoSo")) == DOSSIER_CHILDREN
    assert [tags(row) for row in root.iterfind("ThongTinHoSo/ToKhais/FileToKhai")] == [
        FORM_CHILDREN,
        FORM_CHILDREN,
    ]
    assert tags(root.find("ThongTinDonVi")) == UNIT_CHILDREN
    assert tags(root.find("ThongTinTiepNhan")) == RECEPTION_CHILDREN
    slot = root.find("CKy_CQBHXH")
    assert len(slot) == 0 and not (slot.text or "").strip()
    assert tbts.SEAL_CONTAINER == tbts.CONTAINER == "BaoHiemDienTu/CKy_CQBHXH"


def test_it_writes_utf8_vietnamese_and_the_values_in_their_formats():
    data = tbts.encode(receipt())

    assert UNIT_NAME.encode() in data  # UTF-8, not character references
    root = etree.fromstring(data)
    assert root.findtext("CQBHXH") == "Bảo hiểm xã hội Cơ sở Bình Thạnh"
    assert root.findtext("Email") == "ketoan@saomai.example.vn"
    assert root.findtext("ThongTinHoSo/SoHoSo") == DOSSIER_NUMBER
    assert root.findtext("ThongTinHoSo/NgayLap") == "23/11/2026"
    assert root.findtext("ThongTinHoSo/TenQuyTrinh") == PROCEDURE_NAME
    first, second = root.iterfind("ThongTinHoSo/ToKhais/FileToKhai")
    assert [first.findtext(tag) for tag in FORM_CHILDREN] == [
        "D02-TS",
        "Báo cáo tình hình sử dụng lao động và danh sách người tham gia BHXH, BHYT",
        "D02-TS-595.xml",
        "1",
    ]
    assert second.findtext("SoLuong") == "3"
    assert [root.findtext(f"ThongTinDonVi/{tag}") for tag in UNIT_CHILDREN] == [
        UNIT_NAME,
        "TA0001A",
        "028 3899 1234",
    ]
    assert [root.findtext(f"ThongTinTiepNhan/{tag}") for tag in RECEPTION_CHILDREN] == [
        "07906",
        "600",
        "11/2026",
        "23/11/2026 09:15:30",  # Vietnam time
        "30/11/2026",
        TRACKING_ID,
        ENVELOPE_SHA256,
        "web",
        "0",
    ]


def test_a_specimen_has_no_number_and_says_so():
    root = etree.fromstring(tbts.encode(specimen_receipt()))

    assert root.findtext("ThongTinHoSo/SoHoSo") == ""
    assert root.findtext("ThongTinTiepNhan/BanMau") == "1"
    assert root.findtext("ThongTinTiepNhan/KenhNop") == "api"


def test_empty_optional_fields_are_empty_elements():
    data = tbts.encode(
        receipt(
            unit_code=None, unit_phone=None, unit_email=None, period=None, appointment_date=None
        )
    )
    root = etree.fromstring(data)

    for path in [
        "Email",
        "ThongTinDonVi/MaDonVi",
        "ThongTinDonVi/DienThoai",
        "ThongTinTiepNhan/KyKeKhai",
        "ThongTinTiepNhan/NgayHenTra",
    ]:
        assert root.find(path) is not None, path
        assert root.findtext(path) == "", path
    assert b"<MaDonVi/>" in data


def test_the_receipt_date_is_the_vietnam_date_of_the_receipt_time():
    # 18:30 UTC on the 23rd is 01:30 on the 24th in Vietnam.
    root = etree.fromstring(
        tbts.encode(receipt(received_at=dt.datetime(2026, 11, 23, 18, 30, tzinfo=dt.UTC)))
    )

    assert root.findtext("ThongTinHoSo/NgayLap") == "24/11/2026"
    assert root.findtext("ThongTinTiepNhan/ThoiDiemNhan") == "24/11/2026 01:30:00"


# --- round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        receipt(),
        specimen_receipt(),
        specimen_receipt(appointment_date=None),
        receipt(unit_code=None, unit_phone="", unit_email=" ", period=None, channel=Channel.API),
        receipt(forms=(ReceiptItem(code="CT-DK", description="", file_name="", quantity=12),)),
        receipt(unit_name="Hợp tác xã Nông nghiệp Ấp Bắc & <Đồng Tháp> ]]> \"'"),
    ],
    ids=["numbered", "specimen", "specimen-no-date", "optional-empty", "bare-form", "markup"],
)
def test_it_round_trips(value):
    data = tbts.encode(value)

    assert tbts.schema_errors(data) == []
    assert tbts.decode(data) == value
    assert tbts.encode(tbts.decode(data)) == data


def test_the_time_reads_back_as_the_same_instant_in_vietnam_time():
    decoded = tbts.decode(tbts.encode(receipt()))

    assert decoded.received_at == dt.datetime(2026, 11, 23, 2, 15, 30, tzinfo=dt.UTC)
    assert decoded.received_at.utcoffset() == dt.timedelta(hours=7)
    assert decoded.channel is Channel.WEB
    assert isinstance(decoded.forms, tuple)


def test_it_reads_a_utf8_bom_and_the_sealed_slot():
    data = tbts.encode(receipt())
    signed_slot = data.replace(
        b"<CKy_CQBHXH/>",
        b'<CKy_CQBHXH><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></CKy_CQBHXH>',
    )

    assert tbts.decode(b"\xef\xbb\xbf" + data) == receipt()
    assert tbts.decode(signed_slot) == receipt()


# Text a unit or a catalogue may hold: Vietnamese letters with diacritics, the characters XML
# escapes, whitespace, and any other printable Unicode XML 1.0 can carry.
_VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyÀÁẢÃẠẰẮẲẴẶẦẤẨẪẬĐÈÉẺẼẸỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌỒỐỔỖỘỜỚỞỠỢÙÚỦŨỤỪỨỬỮỰỲÝỶỸỴ"
)
_CHARACTERS = st.one_of(
    st.sampled_from(_VIETNAMESE),
    st.sampled_from("<>&\"'];= \t\r\n\u00a0"),
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn")),
)
TEXT = st.text(_CHARACTERS, max_size=40)
REQUIRED_TEXT = TEXT.filter(lambda text: bool(text.strip()))
OPTIONAL_TEXT = st.one_of(st.none(), REQUIRED_TEXT)
ITEMS = st.builds(
    ReceiptItem,
    code=REQUIRED_TEXT,
    description=TEXT,
    file_name=TEXT,
    quantity=st.integers(min_value=1, max_value=999_999_999),
)
INSTANTS = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),
    max_value=dt.datetime(2099, 12, 31),
    timezones=st.sampled_from([dt.UTC, tbts.VIETNAM_TIME, dt.timezone(dt.timedelta(hours=-5))]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    agency_name=REQUIRED_TEXT,
    unit_name=REQUIRED_TEXT,
    unit_phone=OPTIONAL_TEXT,
    unit_email=OPTIONAL_TEXT,
    procedure_code=REQUIRED_TEXT,
    procedure_name=REQUIRED_TEXT,
    received_at=INSTANTS,
    appointment_date=st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))),
    tracking_id=st.from_regex(r"\A[0-9A-Za-z][0-9A-Za-z._-]{0,63}\Z"),
    envelope_sha256=st.text(string.hexdigits, min_size=64, max_size=64),
    forms=st.lists(ITEMS, min_size=1, max_size=4).map(tuple),
    specimen=st.booleans(),
)
def test_any_receipt_round_trips_and_satisfies_the_xsd(specimen, **values):
    value = (specimen_receipt if specimen else receipt)(**values)

    data = tbts.encode(value)

    assert tbts.schema_errors(data) == []
    decoded = tbts.decode(data)
    assert decoded == value
    assert decoded.received_at == values["received_at"].replace(microsecond=0)


# --- XSD and decode ---------------------------------------------------------------------------


def _edit(data: bytes, path: str, text: str | None) -> bytes:
    root = etree.fromstring(data)
    node = root.find(path)
    if text is None:
        node.getparent().remove(node)
    else:
        node.text = text
    return etree.tostring(root, encoding="UTF-8")


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("CQBHXH", "  "),
        ("ThongTinHoSo/SoHoSo", "12/2026/07906"),
        ("ThongTinHoSo/NgayLap", "2026-11-23"),
        ("ThongTinHoSo/ToKhais", None),
        ("ThongTinHoSo/ToKhais/FileToKhai/SoLuong", "0"),
        ("ThongTinHoSo/ToKhais/FileToKhai/SoLuong", " 1"),
        ("ThongTinHoSo/ToKhais/FileToKhai/MaToKhai", ""),
        ("ThongTinDonVi/MaDonVi", "TA01"),
        ("ThongTinTiepNhan/MaCQBHXH", "7906"),
        ("ThongTinTiepNhan/KyKeKhai", "13/2026"),
        ("ThongTinTiepNhan/ThoiDiemNhan", "2026-11-23T09:15:30+07:00"),
        ("ThongTinTiepNhan/NgayHenTra", "30/13/2026"),
        ("ThongTinTiepNhan/MaTraCuu", "a b"),
        ("ThongTinTiepNhan/SHA256HoSo", ENVELOPE_SHA256.upper()),
        ("ThongTinTiepNhan/KenhNop", "email"),
        ("ThongTinTiepNhan/BanMau", "true"),
        ("ThongTinTiepNhan", None),
        ("CKy_CQBHXH", "a signature is an element, not text"),
    ],
)
def test_the_xsd_and_decode_refuse_a_broken_receipt(path, text):
    data = _edit(tbts.encode(receipt()), path, text)

    assert tbts.schema_errors(data)
    with pytest.raises(NoticeError, match="not a valid 02/TB-TS"):
        tbts.decode(data)


def test_a_receipt_without_forms_is_refused():
    root = etree.fromstring(tbts.encode(receipt()))
    forms = root.find("ThongTinHoSo/ToKhais")
    for row in list(forms):
        forms.remove(row)
    data = etree.tostring(root, encoding="UTF-8")

    assert any("FileToKhai" in error for error in tbts.schema_errors(data))
    with pytest.raises(NoticeError, match="not a valid 02/TB-TS"):
        tbts.decode(data)


def test_the_xsd_refuses_an_unknown_element():
    data = tbts.encode(receipt()).replace(b"<DienThoai>", b"<Fax>0</Fax><DienThoai>")

    assert any("Fax" in error for error in tbts.schema_errors(data))


@pytest.mark.parametrize(
    ("path", "text", "message"),
    [
        ("ThongTinHoSo/NgayLap", "22/11/2026", "NgayLap is not the date of ThoiDiemNhan"),
        ("ThongTinTiepNhan/ThoiDiemNhan", "31/02/2026 09:15:30", "day is out of range"),
        ("ThongTinTiepNhan/BanMau", "1", "a specimen has no dossier number"),
        ("ThongTinHoSo/SoHoSo", "", "only a specimen has none"),
        ("ThongTinHoSo/SoHoSo", "00000/2026/07906", "NNNNN/YYYY/AAAAA"),
    ],
)
def test_what_the_xsd_cannot_say_the_decoder_refuses(path, text, message):
    data = _edit(tbts.encode(receipt()), path, text)

    assert tbts.schema_errors(data) == []
    with pytest.raises(NoticeError, match=message):
        tbts.decode(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<BaoHiemDienTu>",
        b'<?xml version="1.0"?><!DOCTYPE BaoHiemDienTu [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<BaoHiemDienTu>&x;</BaoHiemDienTu>",
        b"<!DOCTYPE BaoHiemDienTu><BaoHiemDienTu/>",
    ],
    ids=["empty", "malformed", "external-entity", "bare-doctype"],
)
def test_it_refuses_what_is_not_safe_xml(data):
    with pytest.raises(NoticeError, match="not readable as XML"):
        tbts.decode(data)


def test_it_refuses_an_oversized_document():
    with pytest.raises(NoticeError, match="at most"):
        tbts.decode(b" " * (tbts.MAX_BYTES + 1))


def test_a_01_tb_gd_notice_is_not_a_receipt():
    from ebhxh.notices import tbgd
    from ebhxh.notices.testing import accepted_notice

    with pytest.raises(NoticeError, match="not a valid 02/TB-TS"):
        tbts.decode(tbgd.encode(accepted_notice()))


# --- the model's rules ------------------------------------------------------------------------


def test_the_model_normalises_what_it_is_given():
    value = receipt(
        unit_code="",
        unit_phone="  ",
        period="",
        channel="api",
        envelope_sha256=ENVELOPE_SHA256.upper(),
        forms=list(receipt().forms),
        received_at=dt.datetime(2026, 11, 23, 2, 15, 30, 999_999, tzinfo=dt.UTC),
    )

    assert (value.unit_code, value.unit_phone, value.period) == (None, None, None)
    assert value.channel is Channel.API
    assert value.envelope_sha256 == ENVELOPE_SHA256
    assert isinstance(value.forms, tuple)
    assert value.received_at == dt.datetime(2026, 11, 23, 2, 15, 30, tzinfo=dt.UTC)
    assert value.quantity == 4
    assert specimen_receipt().dossier_number is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"unit_name": " "}, "unit_name"),
        ({"agency_name": ""}, "agency_name"),
        ({"procedure_name": "\t"}, "procedure_name"),
        ({"procedure_code": ""}, "procedure_code"),
        ({"agency_code": "7906"}, "MaCQBHXH"),
        ({"agency_code": "０７９０６"}, "MaCQBHXH"),  # full-width digits
        ({"unit_code": "ta0001a"}, "MaDonVi"),
        ({"period": "2026-11"}, "KyKeKhai"),
        ({"dossier_number": None}, "only a specimen has none"),
        ({"dossier_number": "3706/2026/07906"}, "NNNNN/YYYY/AAAAA"),
        ({"dossier_number": " 00012/2026/07906"}, "NNNNN/YYYY/AAAAA"),
        ({"specimen": True}, "a specimen has no dossier number"),
        ({"specimen": 1}, "True or False"),
        ({"received_at": dt.datetime(2026, 11, 23, 9, 15)}, "timezone-aware"),
        ({"received_at": dt.date(2026, 11, 23)}, "timezone-aware"),
        ({"appointment_date": dt.datetime(2026, 11, 30, tzinfo=dt.UTC)}, "NgayHenTra"),
        ({"appointment_date": dt.date(999, 1, 1)}, "NgayHenTra"),
        ({"tracking_id": ""}, "tracking_id"),
        ({"tracking_id": "a b"}, "MaTraCuu"),
        ({"envelope_sha256": "ab" * 31}, "SHA256HoSo"),
        ({"channel": "email"}, "KenhNop"),
        ({"forms": ()}, "at least one form"),
        ({"forms": ({"code": "D02-TS"},)}, "ReceiptItem"),
        ({"unit_name": "Công ty\x00"}, "XML cannot carry"),
    ],
)
def test_it_refuses_a_receipt_that_breaks_the_rules(overrides, message):
    with pytest.raises(NoticeError, match=message):
        receipt(**overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"code": " "}, "MaToKhai"),
        ({"quantity": 0}, "SoLuong"),
        ({"quantity": True}, "SoLuong"),
        ({"quantity": 1.0}, "SoLuong"),
        ({"quantity": 10**9}, "SoLuong"),
        ({"description": "\x0b"}, "XML cannot carry"),
        ({"file_name": None}, "file_name"),
    ],
)
def test_a_form_row_has_its_rules(overrides, message):
    with pytest.raises(NoticeError, match=message):
        ReceiptItem(**{"code": "D02-TS", **overrides})


def test_the_receipt_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        receipt().unit_name = "Khác"  # type: ignore[misc]
    assert isinstance(receipt(), Receipt)
