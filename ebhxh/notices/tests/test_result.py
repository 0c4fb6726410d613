"""03/TB-TS: the typed result notice, its XML layout, the round trip and the XSD (pure Python, no
database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ebhxh.notices import result, tbgd, tbts
from ebhxh.notices.result import NoticeError, Outcome, ResultDocument, ResultItem, ResultNotice
from ebhxh.notices.testing import (
    DOSSIER_NUMBER,
    PROCEDURE_NAME,
    RESULT_ACCEPTED,
    RESULT_DOCUMENT_SHA256,
    RESULT_REFUSED,
    SUPPORT_PHONE,
    TRACKING_ID,
    UNIT_NAME,
    accepted_notice,
    accepted_result,
    receipt,
    result_notice,
    supplement_request,
)

ROOT_CHILDREN = ["XACNHAN_GDICH", "CKy_CQBHXH"]
BODY_CHILDREN = ["TTDVI", "TTGDICH", "TTKQUA"]
UNIT_CHILDREN = ["TEN_DVI", "MA_DVI", "TEN_COQUAN", "DiaDiem", "NGAY_THONGBAO"]
TRANSACTION_CHILDREN = ["SO_HSO", "GIO_NHAN", "NGAY_NHAN", "NGAY_TRA", "KQUA", "CTIET_GDICH"]
EXTENSION_CHILDREN = [
    "MAU_SO",
    "MA_CQBHXH",
    "MA_THUTUC",
    "TEN_THUTUC",
    "NGAY_HENTRA",
    "THOIDIEM_TRA",
    "MA_TRACUU",
    "MA_KQUA",
    "DS_CHAPNHAN",
    "DS_TUCHOI",
    "DS_TEP_KQUA",
    "GHI_CHU",
]
ROW_CHILDREN = ["STT", "DOI_TUONG", "NOI_DUNG", "LY_DO", "HUONG_DAN"]
DOCUMENT_CHILDREN = ["TEN_TEP", "LOAI_TEP", "SHA256", "KICH_THUOC"]
EXT = "XACNHAN_GDICH/TTKQUA"


def tags(node) -> list[str]:
    return [child.tag for child in node]


# --- layout ---------------------------------------------------------------------------------------


def test_it_writes_the_family_names_the_extension_block_and_the_seal_slot_last():
    data = result.encode(result_notice())

    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<BHXH>')
    root = etree.fromstring(data)
    assert tags(root) == ROOT_CHILDREN
    assert tags(root.find("XACNHAN_GDICH")) == BODY_CHILDREN
    assert tags(root.find("XACNHAN_GDICH/TTDVI")) == UNIT_CHILDREN
    assert tags(root.find("XACNHAN_GDICH/TTGDICH")) == TRANSACTION_CHILDREN
    assert tags(root.find("XACNHAN_GDICH/TTGDICH/CTIET_GDICH")) == ["DTHOAI_HTRO"]
    assert tags(root.find(EXT)) == EXTENSION_CHILDREN
    assert [tags(row) for row in root.iterfind(f"{EXT}/DS_CHAPNHAN/ROW_CTIET")] == [
        ROW_CHILDREN,
        ROW_CHILDREN,
    ]
    assert [tags(row) for row in root.iterfind(f"{EXT}/DS_TUCHOI/ROW_CTIET")] == [ROW_CHILDREN]
    assert [tags(row) for row in root.iterfind(f"{EXT}/DS_TEP_KQUA/TEP_KQUA")] == [
        DOCUMENT_CHILDREN,
        DOCUMENT_CHILDREN,
    ]
    slot = root.find("CKy_CQBHXH")
    assert len(slot) == 0 and not (slot.text or "").strip()
    # 01/TB-GD's seal node: the same agency key, the same name.
    assert result.SEAL_CONTAINER == result.CONTAINER == tbgd.CONTAINER == "BHXH/CKy_CQBHXH"


def test_it_writes_utf8_vietnamese_and_the_values_in_their_formats():
    data = result.encode(result_notice())

    assert UNIT_NAME.encode() in data  # UTF-8, not character references
    root = etree.fromstring(data)
    assert [root.findtext(f"XACNHAN_GDICH/TTDVI/{tag}") for tag in UNIT_CHILDREN] == [
        UNIT_NAME,
        "TA0001A",
        "Bảo hiểm xã hội Cơ sở Bình Thạnh",
        "Thành phố Hồ Chí Minh",
        "2026-11-27",  # the result date when no notice date is given
    ]
    assert [root.findtext(f"XACNHAN_GDICH/TTGDICH/{tag}") for tag in TRANSACTION_CHILDREN[:5]] == [
        DOSSIER_NUMBER,
        "09:15:30",  # Vietnam time
        "23/11/2026",
        "27/11/2026",
        "Chấp nhận một phần",
    ]
    assert root.findtext("XACNHAN_GDICH/TTGDICH/CTIET_GDICH/DTHOAI_HTRO") == SUPPORT_PHONE
    assert [root.findtext(f"{EXT}/{tag}") for tag in EXTENSION_CHILDREN[:8]] == [
        "03/TB-TS",
        "07906",
        "600",
        PROCEDURE_NAME,
        "30/11/2026",
        "27/11/2026 14:40:05",  # Vietnam time
        TRACKING_ID,
        "3",
    ]
    first = root.find(f"{EXT}/DS_CHAPNHAN/ROW_CTIET")
    assert [first.findtext(tag) for tag in ROW_CHILDREN] == [
        "1",
        "Trần Thị Bình, mã số BHXH 7912345678",
        "Tăng lao động từ tháng 11/2026; cấp thẻ BHYT",
        "",
        "",
    ]
    refused = root.find(f"{EXT}/DS_TUCHOI/ROW_CTIET")
    assert refused.findtext("LY_DO") == RESULT_REFUSED[0].reason
    assert refused.findtext("HUONG_DAN") == RESULT_REFUSED[0].guidance
    document = root.find(f"{EXT}/DS_TEP_KQUA/TEP_KQUA")
    assert [document.findtext(tag) for tag in DOCUMENT_CHILDREN] == [
        "C12-TS-112026.pdf",
        "application/pdf",
        RESULT_DOCUMENT_SHA256,
        "48213",
    ]
    assert root.findtext(f"{EXT}/GHI_CHU") == result_notice().note


def test_empty_optional_fields_and_lists_are_empty_elements():
    data = result.encode(
        accepted_result(
            unit_code=None,
            appointment_date=None,
            returned_at=None,
            support_phone=None,
            note=None,
            accepted_items=(),
            documents=(),
        )
    )
    root = etree.fromstring(data)

    for path in [
        "XACNHAN_GDICH/TTDVI/MA_DVI",
        "XACNHAN_GDICH/TTGDICH/CTIET_GDICH/DTHOAI_HTRO",
        f"{EXT}/NGAY_HENTRA",
        f"{EXT}/THOIDIEM_TRA",
        f"{EXT}/DS_CHAPNHAN",
        f"{EXT}/DS_TUCHOI",
        f"{EXT}/DS_TEP_KQUA",
        f"{EXT}/GHI_CHU",
    ]:
        node = root.find(path)
        assert node is not None, path
        assert len(node) == 0 and not node.text, path
    assert b"<MA_DVI/>" in data and b"<DS_TUCHOI/>" in data


def test_the_receipt_is_written_in_vietnam_time():
    # 18:30 UTC on the 23rd is 01:30 on the 24th in Vietnam.
    root = etree.fromstring(
        result.encode(result_notice(received_at=dt.datetime(2026, 11, 23, 18, 30, tzinfo=dt.UTC)))
    )

    assert root.findtext("XACNHAN_GDICH/TTGDICH/NGAY_NHAN") == "24/11/2026"
    assert root.findtext("XACNHAN_GDICH/TTGDICH/GIO_NHAN") == "01:30:00"


# --- round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        result_notice(),
        accepted_result(),
        accepted_result(accepted_items=(), documents=(), unit_code=None, support_phone=""),
        supplement_request(),
        result_notice(
            outcome=Outcome.REFUSED,
            accepted_items=(),
            documents=(),
            result_text="Từ chối: người lao động đã tham gia tại đơn vị khác",
            notice_date=dt.date(2026, 11, 28),
        ),
        result_notice(unit_name="Hợp tác xã Nông nghiệp Ấp Bắc & <Đồng Tháp> ]]> \"'"),
        result_notice(note="Dòng một\nDòng hai", returned_at=None),
    ],
    ids=["partly", "accepted", "bare", "supplement", "refused", "markup", "multiline"],
)
def test_it_round_trips(value):
    data = result.encode(value)

    assert result.schema_errors(data) == []
    assert result.decode(data) == value
    assert result.encode(result.decode(data)) == data


def test_the_times_read_back_as_the_same_instants_in_vietnam_time():
    decoded = result.decode(result.encode(result_notice()))

    assert decoded.received_at == dt.datetime(2026, 11, 23, 2, 15, 30, tzinfo=dt.UTC)
    assert decoded.received_at.utcoffset() == dt.timedelta(hours=7)
    assert decoded.returned_at == dt.datetime(2026, 11, 27, 7, 40, 5, tzinfo=dt.UTC)
    assert decoded.outcome is Outcome.PARTLY_ACCEPTED
    assert decoded.notice_date == decoded.result_date == dt.date(2026, 11, 27)
    assert isinstance(decoded.accepted_items, tuple) and isinstance(decoded.documents, tuple)


def test_it_reads_a_utf8_bom_and_the_sealed_slot():
    data = result.encode(result_notice())
    signed_slot = data.replace(
        b"<CKy_CQBHXH/>",
        b'<CKy_CQBHXH><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></CKy_CQBHXH>',
    )

    assert result.decode(b"\xef\xbb\xbf" + data) == result_notice()
    assert result.decode(signed_slot) == result_notice()


_VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyÀÁẢÃẠẰẮẲẴẶẦẤẨẪẬĐÈÉẺẼẸỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌỒỐỔỖỘỜỚỞỠỢÙÚỦŨỤỪỨỬỮỰỲÝỶỸỴ"
)
_CHARACTERS = st.one_of(
    st.sampled_from(_VIETNAMESE),
    st.sampled_from("<>&\"'];= \t\r\n\u00a0"),
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn")),
)
TEXT = st.text(_CHARACTERS, max_size=30)
REQUIRED_TEXT = TEXT.filter(lambda text: bool(text.strip()))
OPTIONAL_TEXT = st.one_of(st.none(), REQUIRED_TEXT)
DAYS = st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))
INSTANTS = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),
    max_value=dt.datetime(2099, 12, 31),
    timezones=st.sampled_from([dt.UTC, result.VIETNAM_TIME, dt.timezone(dt.timedelta(hours=-5))]),
)


def _items(*, reason: bool, guidance: bool) -> st.SearchStrategy[tuple[ResultItem, ...]]:
    row = st.fixed_dictionaries(
        {
            "subject": REQUIRED_TEXT,
            "description": REQUIRED_TEXT,
            "reason": REQUIRED_TEXT if reason else st.none(),
            "guidance": REQUIRED_TEXT if guidance else OPTIONAL_TEXT,
        }
    )
    return st.lists(row, min_size=1, max_size=3).map(
        lambda rows: tuple(ResultItem(stt=n, **row) for n, row in enumerate(rows, start=1))
    )


DOCUMENTS = st.lists(
    st.builds(
        ResultDocument,
        name=REQUIRED_TEXT,
        media_type=st.sampled_from(["application/pdf", "Application/XML", "image/jpeg"]),
        sha256=st.text(string.hexdigits, min_size=64, max_size=64),
        size=st.integers(min_value=1, max_value=result.MAX_DOCUMENT_BYTES),
    ),
    max_size=3,
    unique_by=lambda document: document.name,
).map(tuple)


@st.composite
def notices(draw: st.DrawFn) -> ResultNotice:
    outcome = draw(st.sampled_from(Outcome))
    received = draw(INSTANTS)
    result_day = received.astimezone(result.VIETNAM_TIME).date() + dt.timedelta(
        days=draw(st.integers(0, 30))
    )
    returned = None
    if draw(st.booleans()):
        returned = dt.datetime.combine(
            result_day, draw(st.times()), tzinfo=result.VIETNAM_TIME
        ).astimezone(dt.UTC)
        if returned < received:
            returned = None
    accepted = draw(_items(reason=False, guidance=False))
    refused = draw(_items(reason=True, guidance=outcome is Outcome.SUPPLEMENT_REQUESTED))
    return ResultNotice(
        agency_code=draw(st.from_regex(r"\A[0-9]{5}\Z")),
        agency_name=draw(REQUIRED_TEXT),
        place=draw(REQUIRED_TEXT),
        notice_date=draw(st.one_of(st.none(), DAYS)),
        unit_name=draw(REQUIRED_TEXT),
        unit_code=draw(st.one_of(st.none(), st.from_regex(r"\A[A-Z0-9]{7}\Z"))),
        dossier_number=DOSSIER_NUMBER,
        procedure_code=draw(REQUIRED_TEXT),
        procedure_name=draw(REQUIRED_TEXT),
        received_at=received,
        appointment_date=draw(st.one_of(st.none(), DAYS)),
        result_date=result_day,
        returned_at=returned,
        tracking_id=draw(st.from_regex(r"\A[0-9A-Za-z][0-9A-Za-z._-]{0,63}\Z")),
        outcome=outcome,
        result_text=draw(TEXT),
        accepted_items=()
        if outcome in (Outcome.REFUSED, Outcome.SUPPLEMENT_REQUESTED)
        else accepted,
        refused_items=() if outcome is Outcome.ACCEPTED else refused,
        documents=draw(DOCUMENTS),
        support_phone=draw(OPTIONAL_TEXT),
        note=draw(OPTIONAL_TEXT),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=notices())
def test_any_notice_round_trips_and_satisfies_the_xsd(value):
    data = result.encode(value)

    assert result.schema_errors(data) == []
    assert result.decode(data) == value


# --- XSD and decode ---------------------------------------------------------------------------


def _edit(data: bytes, path: str, text: str | None) -> bytes:
    root = etree.fromstring(data)
    node = root.find(path)
    if text is None:
        node.getparent().remove(node)
    else:
        node.text = text
    return etree.tostring(root, encoding="UTF-8")


U = "XACNHAN_GDICH/TTDVI"
T = "XACNHAN_GDICH/TTGDICH"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (f"{U}/TEN_DVI", " "),
        (f"{U}/MA_DVI", "TA01"),
        (f"{U}/DiaDiem", ""),
        (f"{U}/NGAY_THONGBAO", "27/11/2026"),
        (f"{U}/NGAY_THONGBAO", "2026-11-27Z"),
        (f"{T}/SO_HSO", "12/2026/07906"),
        (f"{T}/GIO_NHAN", "9:15"),
        (f"{T}/GIO_NHAN", "24:00:00"),
        (f"{T}/NGAY_NHAN", "2026-11-23"),
        (f"{T}/NGAY_TRA", "32/11/2026"),
        (f"{T}/KQUA", ""),
        (f"{T}/CTIET_GDICH", None),
        (f"{EXT}/MAU_SO", "01/TB-GD"),
        (f"{EXT}/MA_CQBHXH", "7906"),
        (f"{EXT}/MA_THUTUC", ""),
        (f"{EXT}/NGAY_HENTRA", "30/13/2026"),
        (f"{EXT}/THOIDIEM_TRA", "27/11/2026"),
        (f"{EXT}/MA_TRACUU", "a b"),
        (f"{EXT}/MA_KQUA", "5"),
        (f"{EXT}/DS_TUCHOI", None),
        (f"{EXT}/DS_CHAPNHAN/ROW_CTIET/STT", "0"),
        (f"{EXT}/DS_CHAPNHAN/ROW_CTIET/STT", "1234567890"),
        (f"{EXT}/DS_CHAPNHAN/ROW_CTIET/DOI_TUONG", ""),
        (f"{EXT}/DS_TEP_KQUA/TEP_KQUA/SHA256", RESULT_DOCUMENT_SHA256.upper()),
        (f"{EXT}/DS_TEP_KQUA/TEP_KQUA/LOAI_TEP", "pdf"),
        (f"{EXT}/DS_TEP_KQUA/TEP_KQUA/KICH_THUOC", "0"),
        (f"{EXT}/DS_TEP_KQUA/TEP_KQUA/TEN_TEP", None),
        ("XACNHAN_GDICH/TTKQUA", None),
        ("CKy_CQBHXH", "a signature is an element, not text"),
    ],
)
def test_the_xsd_and_decode_refuse_a_broken_notice(path, text):
    data = _edit(result.encode(result_notice()), path, text)

    assert result.schema_errors(data)
    with pytest.raises(NoticeError, match="not a valid 03/TB-TS"):
        result.decode(data)


def test_the_xsd_refuses_an_unknown_element():
    data = result.encode(result_notice()).replace(b"<GHI_CHU>", b"<FAX>0</FAX><GHI_CHU>")

    assert any("FAX" in error for error in result.schema_errors(data))


@pytest.mark.parametrize(
    ("path", "text", "message"),
    [
        (f"{T}/NGAY_NHAN", "31/02/2026", "day is out of range"),
        (f"{T}/NGAY_TRA", "22/11/2026", "before the dossier was received"),
        (f"{EXT}/THOIDIEM_TRA", "28/11/2026 14:40:05", "not on result_date"),
        (f"{EXT}/MA_KQUA", "1", "no row in part 2"),
        (f"{EXT}/MA_KQUA", "4", "no row in part 1"),
        (f"{EXT}/DS_TUCHOI/ROW_CTIET/LY_DO", "", "needs a reason"),
        (f"{EXT}/DS_CHAPNHAN/ROW_CTIET/LY_DO", "Lý do", "has no reason"),
        (f"{EXT}/DS_CHAPNHAN/ROW_CTIET/STT", "2", "STT must increase"),
        (f"{T}/SO_HSO", "00000/2026/07906", "NNNNN/YYYY/AAAAA"),
    ],
)
def test_what_the_xsd_cannot_say_the_decoder_refuses(path, text, message):
    data = _edit(result.encode(result_notice()), path, text)

    assert result.schema_errors(data) == []
    with pytest.raises(NoticeError, match=f"not a valid 03/TB-TS.*{message}"):
        result.decode(data)


def test_two_documents_with_one_name_are_refused_on_reading():
    root = etree.fromstring(result.encode(result_notice()))
    second = root.findall(f"{EXT}/DS_TEP_KQUA/TEP_KQUA")[1]
    second.find("TEN_TEP").text = "C12-TS-112026.pdf"
    data = etree.tostring(root, encoding="UTF-8")

    assert result.schema_errors(data) == []
    with pytest.raises(NoticeError, match="same name"):
        result.decode(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<BHXH>",
        b'<?xml version="1.0"?><!DOCTYPE BHXH [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<BHXH>&x;</BHXH>",
        b"<!DOCTYPE BHXH><BHXH/>",
    ],
    ids=["empty", "malformed", "external-entity", "bare-doctype"],
)
def test_it_refuses_what_is_not_safe_xml(data):
    with pytest.raises(NoticeError, match="not readable as XML"):
        result.decode(data)


def test_it_refuses_an_oversized_document():
    with pytest.raises(NoticeError, match="at most"):
        result.decode(b" " * (result.MAX_BYTES + 1))


def test_the_notices_of_one_root_are_not_taken_for_one_another():
    # 01/TB-GD has the same root and body: neither decoder reads the other's notice.
    with pytest.raises(NoticeError, match="not a valid 03/TB-TS"):
        result.decode(tbgd.encode(accepted_notice()))
    with pytest.raises(NoticeError, match="not a valid 01/TB-GD"):
        tbgd.decode(result.encode(result_notice()))
    with pytest.raises(NoticeError, match="not a valid 03/TB-TS"):
        result.decode(tbts.encode(receipt()))


# --- the model's rules ------------------------------------------------------------------------


def test_the_model_normalises_what_it_is_given():
    value = result_notice(
        unit_code="",
        support_phone="  ",
        note="",
        outcome="3",
        result_text=" ",
        accepted_items=list(RESULT_ACCEPTED),
        refused_items=[
            dataclasses.replace(RESULT_REFUSED[0], guidance=" "),
        ],
        documents=[
            ResultDocument(name="a.pdf", media_type="Application/PDF", sha256="AB" * 32, size=1)
        ],
        received_at=dt.datetime(2026, 11, 23, 2, 15, 30, 999_999, tzinfo=dt.UTC),
        returned_at=dt.datetime(2026, 11, 27, 7, 40, 5, 1, tzinfo=dt.UTC),
    )

    assert (value.unit_code, value.support_phone, value.note) == (None, None, None)
    assert value.outcome is Outcome.PARTLY_ACCEPTED
    assert value.result_text == "Chấp nhận một phần"
    assert isinstance(value.accepted_items, tuple) and isinstance(value.documents, tuple)
    assert value.refused_items[0].guidance is None
    assert (value.documents[0].media_type, value.documents[0].sha256) == (
        "application/pdf",
        "ab" * 32,
    )
    assert value.received_at == dt.datetime(2026, 11, 23, 2, 15, 30, tzinfo=dt.UTC)
    assert value.returned_at == dt.datetime(2026, 11, 27, 7, 40, 5, tzinfo=dt.UTC)
    assert value.notice_date == value.result_date
    assert value.received_local.hour == 9 and value.returned_local.hour == 14


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"unit_name": " "}, "unit_name"),
        ({"agency_name": ""}, "agency_name"),
        ({"place": "\t"}, "place"),
        ({"procedure_code": ""}, "procedure_code"),
        ({"procedure_name": " "}, "procedure_name"),
        ({"agency_code": "7906"}, "MA_CQBHXH"),
        ({"agency_code": "０７９０６"}, "MA_CQBHXH"),  # full-width digits
        ({"unit_code": "ta0001a"}, "MA_DVI"),
        ({"dossier_number": "3706/2026/07906"}, "NNNNN/YYYY/AAAAA"),
        ({"dossier_number": " 00012/2026/07906"}, "NNNNN/YYYY/AAAAA"),
        ({"tracking_id": "a b"}, "MA_TRACUU"),
        ({"support_phone": 1900}, "DTHOAI_HTRO"),
        ({"result_text": None}, "KQUA"),
        ({"received_at": dt.datetime(2026, 11, 23, 9, 15)}, "timezone-aware"),
        ({"received_at": dt.date(2026, 11, 23)}, "timezone-aware"),
        ({"result_date": dt.datetime(2026, 11, 27, tzinfo=dt.UTC)}, "NGAY_TRA"),
        ({"result_date": dt.date(2026, 11, 22)}, "before the dossier was received"),
        ({"notice_date": "2026-11-27"}, "NGAY_THONGBAO"),
        ({"appointment_date": dt.date(999, 1, 1)}, "NGAY_HENTRA"),
        ({"returned_at": dt.datetime(2026, 11, 27, 14, 40)}, "returned_at"),
        ({"returned_at": dt.datetime(2026, 11, 26, 7, tzinfo=dt.UTC)}, "not on result_date"),
        (
            {
                "result_date": dt.date(2026, 11, 23),
                "returned_at": dt.datetime(2026, 11, 23, 1, tzinfo=dt.UTC),
            },
            "before received_at",
        ),
        ({"outcome": "5"}, "MA_KQUA"),
        ({"outcome": "partly"}, "MA_KQUA"),
        ({"accepted_items": ({"stt": 1},)}, "ResultItem"),
        ({"documents": ({"name": "a.pdf"},)}, "ResultDocument"),
        ({"unit_name": "Công ty\x00"}, "XML cannot carry"),
    ],
)
def test_it_refuses_a_notice_that_breaks_the_rules(overrides, message):
    with pytest.raises(NoticeError, match=message):
        result_notice(**overrides)


ACCEPTED_ROW = RESULT_ACCEPTED[0]
REFUSED_ROW = RESULT_REFUSED[0]


@pytest.mark.parametrize(
    ("outcome", "accepted", "refused", "message"),
    [
        (Outcome.ACCEPTED, (ACCEPTED_ROW,), (REFUSED_ROW,), "no row in part 2"),
        (Outcome.PARTLY_ACCEPTED, (ACCEPTED_ROW,), (), "at least one row in part 2"),
        (Outcome.PARTLY_ACCEPTED, (), (REFUSED_ROW,), "rows in part 1"),
        (Outcome.REFUSED, (), (), "at least one row in part 2"),
        (Outcome.REFUSED, (ACCEPTED_ROW,), (REFUSED_ROW,), "no row in part 1"),
        (Outcome.SUPPLEMENT_REQUESTED, (), (), "at least one row in part 2"),
        (Outcome.SUPPLEMENT_REQUESTED, (ACCEPTED_ROW,), (REFUSED_ROW,), "no row in part 1"),
        (
            Outcome.SUPPLEMENT_REQUESTED,
            (),
            (dataclasses.replace(REFUSED_ROW, guidance=None),),
            "guidance",
        ),
        (
            Outcome.PARTLY_ACCEPTED,
            (ACCEPTED_ROW,),
            (dataclasses.replace(REFUSED_ROW, reason=None),),
            "needs a reason",
        ),
        (
            Outcome.ACCEPTED,
            (dataclasses.replace(ACCEPTED_ROW, reason="?"),),
            (),
            "has no reason",
        ),
        (
            Outcome.ACCEPTED,
            (ACCEPTED_ROW, dataclasses.replace(ACCEPTED_ROW, stt=1)),
            (),
            "STT must increase",
        ),
    ],
)
def test_the_outcome_decides_which_rows_the_notice_has(outcome, accepted, refused, message):
    with pytest.raises(NoticeError, match=message):
        result_notice(outcome=outcome, accepted_items=accepted, refused_items=refused)


def test_each_outcome_has_its_text_and_a_partly_accepted_dossier_may_guide_nothing():
    assert accepted_result().result_text == "Chấp nhận"
    assert supplement_request().result_text.startswith("Hồ sơ chưa đúng, chưa đủ")
    refused = dataclasses.replace(REFUSED_ROW, guidance=None)
    value = result_notice(refused_items=(refused,))
    assert value.refused_items == (refused,)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"stt": 0}, "STT"),
        ({"stt": True}, "STT"),
        ({"stt": "1"}, "STT"),
        ({"stt": 10**9}, "STT"),
        ({"subject": " "}, "DOI_TUONG"),
        ({"description": ""}, "NOI_DUNG"),
        ({"reason": 1}, "LY_DO"),
        ({"guidance": "\x0b"}, "XML cannot carry"),
    ],
)
def test_a_row_has_its_rules(overrides, message):
    with pytest.raises(NoticeError, match=message):
        ResultItem(**{"stt": 1, "subject": "A", "description": "B", **overrides})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": " "}, "TEN_TEP"),
        ({"media_type": "pdf"}, "LOAI_TEP"),
        ({"media_type": "application/pdf; charset=x"}, "LOAI_TEP"),
        ({"sha256": "ab" * 31}, "SHA256"),
        ({"sha256": None}, "SHA256"),
        ({"size": 0}, "KICH_THUOC"),
        ({"size": 1.0}, "KICH_THUOC"),
        ({"size": False}, "KICH_THUOC"),
        ({"size": 10**12}, "KICH_THUOC"),
    ],
)
def test_a_document_has_its_rules(overrides, message):
    values = {"name": "a.pdf", "media_type": "application/pdf", "sha256": "ab" * 32, "size": 1}
    with pytest.raises(NoticeError, match=message):
        ResultDocument(**{**values, **overrides})


def test_two_documents_may_not_share_a_name():
    document = result_notice().documents[0]
    with pytest.raises(NoticeError, match="same name"):
        result_notice(documents=(document, dataclasses.replace(document, size=2)))


def test_the_notice_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        result_notice().unit_name = "Khác"  # type: ignore[misc]
    assert isinstance(result_notice(), ResultNotice)
