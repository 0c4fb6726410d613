"""01/TB-GD: the typed notice, its XML layout, the round trip and the XSD (pure Python, no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from lxml import etree

from ebhxh.notices import tbgd
from ebhxh.notices.tbgd import NoticeError, RegistrationConfirmation, Result
from ebhxh.notices.testing import UNIT_NAME, accepted_notice, refused_notice

UNIT_FIELDS = ["DIADIEM", "NGAY_THONGBAO", "TEN_DVI", "TEN_COQUAN", "MA_DVI", "MST"]
TRANSACTION_FIELDS = [
    "SO_HSO",
    "TEN_GDICH",
    "MALOAI_HSO",
    "NGAY_GDICH",
    "KY_KKHAI",
    "MA_GDICH",
    "MA_KQUA",
    "KQUA",
    "MA_LOI",
    "MOTA_LOI",
]


def tags(node) -> list[str]:
    return [child.tag for child in node]


# --- layout ---------------------------------------------------------------------------------------


def test_it_writes_the_layout_of_the_xslt_with_the_seal_slot_last():
    data = tbgd.encode(accepted_notice())

    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<BHXH>')
    root = etree.fromstring(data)
    assert tags(root) == ["XACNHAN_GDICH", "CKy_CQBHXH"]
    assert tags(root.find("XACNHAN_GDICH")) == ["TTDVI", "TTGDICH"]
    assert tags(root.find("XACNHAN_GDICH/TTDVI")) == UNIT_FIELDS
    assert tags(root.find("XACNHAN_GDICH/TTGDICH")) == TRANSACTION_FIELDS
    slot = root.find("CKy_CQBHXH")
    assert len(slot) == 0 and not (slot.text or "").strip()
    assert tbgd.CONTAINER == "BHXH/CKy_CQBHXH"


def test_it_writes_utf8_vietnamese_and_the_values_in_their_formats():
    data = tbgd.encode(accepted_notice(period="11/2026"))

    assert UNIT_NAME.encode() in data  # UTF-8, not character references
    root = etree.fromstring(data)
    unit = root.find("XACNHAN_GDICH/TTDVI")
    transaction = root.find("XACNHAN_GDICH/TTGDICH")
    assert unit.findtext("NGAY_THONGBAO") == "2026-11-23"
    assert unit.findtext("MA_DVI") == "TA0001A"
    assert unit.findtext("MST") == "0310000017"
    assert transaction.findtext("NGAY_GDICH") == "23/11/2026 09:15:30"  # Vietnam time
    assert transaction.findtext("KY_KKHAI") == "11/2026"
    assert transaction.findtext("MALOAI_HSO") == "01/ĐK-GĐ"
    assert (transaction.findtext("MA_KQUA"), transaction.findtext("KQUA")) == ("1", "Chấp nhận")
    assert transaction.findtext("MA_LOI") == ""
    assert transaction.findtext("MOTA_LOI") == ""


def test_a_refused_notice_carries_its_error():
    root = etree.fromstring(tbgd.encode(refused_notice()))
    transaction = root.find("XACNHAN_GDICH/TTGDICH")

    assert transaction.findtext("MA_KQUA") == "2"
    assert transaction.findtext("KQUA") == "Từ chối"
    assert transaction.findtext("MA_LOI") == "DK-CERT-EXPIRED"
    assert transaction.findtext("MOTA_LOI").startswith("Chứng thư số của đơn vị đã hết hạn")


# --- round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "notice",
    [
        accepted_notice(),
        accepted_notice(unit_code=None, period="01/2027", tax_code="0310000017-001"),
        accepted_notice(result_text="Chấp nhận đăng ký giao dịch điện tử"),
        refused_notice(),
        refused_notice(unit_name="Hợp tác xã Nông nghiệp Ấp Bắc & <Đồng Tháp>"),
    ],
    ids=["accepted", "no-unit-code", "own-result-text", "refused", "markup-in-a-name"],
)
def test_it_round_trips(notice):
    data = tbgd.encode(notice)

    assert tbgd.decode(data) == notice
    assert tbgd.encode(tbgd.decode(data)) == data


def test_the_time_reads_back_as_the_same_instant_in_vietnam_time():
    decoded = tbgd.decode(tbgd.encode(accepted_notice()))

    assert decoded.transaction_time == dt.datetime(2026, 11, 23, 2, 15, 30, tzinfo=dt.UTC)
    assert decoded.transaction_time.utcoffset() == dt.timedelta(hours=7)


def test_it_reads_a_utf8_bom_and_the_sealed_slot():
    data = tbgd.encode(accepted_notice())
    signed_slot = data.replace(
        b"<CKy_CQBHXH/>",
        b'<CKy_CQBHXH><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></CKy_CQBHXH>',
    )

    assert tbgd.decode(b"\xef\xbb\xbf" + data) == accepted_notice()
    assert tbgd.decode(signed_slot) == accepted_notice()


# --- XSD --------------------------------------------------------------------------------------


@pytest.mark.parametrize("notice", [accepted_notice(), refused_notice(unit_code=None)])
def test_encoded_notices_validate_against_the_xsd(notice):
    assert tbgd.schema_errors(tbgd.encode(notice)) == []


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
        ("XACNHAN_GDICH/TTGDICH/MA_KQUA", "3"),
        ("XACNHAN_GDICH/TTGDICH/NGAY_GDICH", "2026-11-23 09:15:30"),
        ("XACNHAN_GDICH/TTDVI/NGAY_THONGBAO", "23/11/2026"),
        ("XACNHAN_GDICH/TTDVI/MST", "031000001"),
        ("XACNHAN_GDICH/TTDVI/MA_DVI", "TA01"),
        ("XACNHAN_GDICH/TTGDICH/KY_KKHAI", "13/2026"),
        ("XACNHAN_GDICH/TTDVI/TEN_DVI", "   "),
        ("XACNHAN_GDICH/TTGDICH/MA_GDICH", None),
        ("CKy_CQBHXH", "a signature is an element, not text"),
    ],
)
def test_the_xsd_and_decode_refuse_a_broken_notice(path, text):
    data = _edit(tbgd.encode(accepted_notice()), path, text)

    assert tbgd.schema_errors(data)
    with pytest.raises(NoticeError, match="not a valid 01/TB-GD"):
        tbgd.decode(data)


def test_the_xsd_refuses_an_unknown_element():
    data = tbgd.encode(accepted_notice()).replace(b"<MST>", b"<EMAIL>x@example.vn</EMAIL><MST>")

    assert any("EMAIL" in error for error in tbgd.schema_errors(data))


def test_a_refusal_without_its_error_does_not_decode():
    data = _edit(tbgd.encode(refused_notice()), "XACNHAN_GDICH/TTGDICH/MA_LOI", "")

    assert tbgd.schema_errors(data) == []  # the XSD cannot say it; the model does
    with pytest.raises(NoticeError, match="MA_LOI and MOTA_LOI"):
        tbgd.decode(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<BHXH>",
        b'<?xml version="1.0"?><!DOCTYPE BHXH [<!ENTITY x SYSTEM "file:///etc/passwd">]><BHXH>&x;</BHXH>',
    ],
    ids=["empty", "malformed", "doctype"],
)
def test_it_refuses_what_is_not_safe_xml(data):
    with pytest.raises(NoticeError, match="not readable as XML"):
        tbgd.decode(data)


# --- the model's rules ------------------------------------------------------------------------


def test_the_result_text_defaults_from_the_result_code():
    assert accepted_notice().result_text == "Chấp nhận"
    assert refused_notice().result_text == "Từ chối"
    assert accepted_notice(result="1").result is Result.ACCEPTED
    assert accepted_notice().accepted and not refused_notice().accepted


def test_blank_optional_fields_are_none():
    notice = accepted_notice(unit_code="", period="  ")

    assert (notice.unit_code, notice.period) == (None, None)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"unit_name": " "}, "unit_name"),
        ({"tax_code": "0310 000 017"}, "MST"),
        ({"unit_code": "ta0001a"}, "MA_DVI"),
        ({"period": "2026-11"}, "KY_KKHAI"),
        ({"result": "3"}, "MA_KQUA"),
        ({"error_code": "E1", "error_description": "x"}, "accepted"),
        ({"transaction_time": dt.datetime(2026, 11, 23, 9, 15)}, "timezone-aware"),  # noqa: DTZ001
        ({"notice_date": dt.datetime(2026, 11, 23, tzinfo=dt.UTC)}, "notice_date"),
        ({"place": "Hà Nội\x00"}, "XML cannot carry"),
    ],
)
def test_it_refuses_a_notice_that_breaks_the_rules(overrides, message):
    with pytest.raises(NoticeError, match=message):
        accepted_notice(**overrides)


def test_a_refusal_needs_its_error():
    with pytest.raises(NoticeError, match="MA_LOI and MOTA_LOI"):
        refused_notice(error_description=None)


def test_the_notice_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        accepted_notice().unit_name = "Khác"  # type: ignore[misc]
    assert isinstance(accepted_notice(), RegistrationConfirmation)
