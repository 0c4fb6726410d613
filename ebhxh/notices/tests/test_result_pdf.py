"""The PDF of 03/TB-TS rendered from the template: Vietnamese text that survives extraction, the
two parts of the form with their rows, the dates, the result documents with short hashes, the
form's notes, embedded fonts, A4.

Text is read back with pypdf, as a person copying from the PDF would get it. The sealed path
(`result_pdf`) is tested in test_result_services.py.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from typing import Any

import pytest
from django.utils import translation
from pypdf import PdfReader

from ebhxh.notices.pdf import render_html, render_pdf
from ebhxh.notices.result import Outcome, ResultItem
from ebhxh.notices.services import RESULT_TEMPLATE
from ebhxh.notices.testing import (
    DOSSIER_NUMBER,
    PROCEDURE_NAME,
    RESULT_DOCUMENT_SHA256,
    SUPPORT_PHONE,
    TRACKING_ID,
    UNIT_NAME,
    accepted_result,
    result_notice,
    supplement_request,
    weasyprint_unavailable_reason,
)

_REASON = weasyprint_unavailable_reason()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")

SEAL: dict[str, Any] = {
    "subject": "CN=Bảo hiểm xã hội Việt Nam — con dấu điện tử,O=ebhxh test PKI,C=VN",
    "serial": "41A5694D106525E249F22A2EA84EC8DCFF85BBAB",
    "signed_at": dt.datetime(2026, 11, 27, 7, 41, tzinfo=dt.UTC),
    "sha256": "5f1c2e9b" * 8,
}
PART_1 = "1. Chấp nhận để giải quyết hồ sơ"
PART_2 = "2. Các trường hợp hồ sơ chưa đúng, chưa đủ theo quy định và hướng dẫn bổ sung"


def render(value) -> bytes:
    return render_pdf(RESULT_TEMPLATE, {"notice": value, "seal": SEAL})


def text_of(pdf: bytes) -> str:
    """All pages' text, NFC, with runs of whitespace (line breaks of the layout) as one space."""
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


@pytest.fixture(scope="module")
def partly_pdf() -> bytes:
    return render(result_notice())


@pytest.fixture(scope="module")
def supplement_pdf() -> bytes:
    return render(supplement_request())


def test_it_is_an_a4_pdf_in_vietnamese(partly_pdf, supplement_pdf):
    # A short notice fits one page; the fixture's two parts, documents and notes take two.
    for pdf, pages in ((supplement_pdf, 1), (partly_pdf, 2)):
        reader = PdfReader(io.BytesIO(pdf))
        assert pdf.startswith(b"%PDF-")
        assert len(reader.pages) == pages
        for page in reader.pages:
            box = page.mediabox
            assert (round(float(box.width)), round(float(box.height))) == (595, 842)
        assert reader.root_object["/Lang"] == "vi"


def test_a_long_notice_flows_over_pages_with_every_row_and_the_table_head_repeated():
    rows = tuple(
        ResultItem(stt=n, subject=f"Người lao động số {n:03d}", description="Tăng lao động")
        for n in range(1, 61)
    )
    reader = PdfReader(io.BytesIO(render(accepted_result(accepted_items=rows))))
    pages = [
        " ".join(unicodedata.normalize("NFC", page.extract_text()).split()) for page in reader.pages
    ]

    assert len(pages) >= 2
    for n in range(1, 61):
        assert f"{n} Người lao động số {n:03d} Tăng lao động" in " ".join(pages), n
    assert all("Đối tượng Subject" in page for page in pages[:2])  # the head on each page
    assert "Chữ ký số cơ quan BHXH xác nhận" in pages[-1]
    assert f"03/TB-TS {len(pages)} / {len(pages)}" in pages[-1]


def test_the_head_and_the_dossier_survive_with_their_diacritics(partly_pdf):
    text = text_of(partly_pdf)

    for expected in [
        "BẢO HIỂM XÃ HỘI CƠ SỞ BÌNH THẠNH",
        "Mẫu số: 03/TB-TS",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Thành phố Hồ Chí Minh, ngày 27 tháng 11 năm 2026",
        "THÔNG BÁO V/v giải quyết hồ sơ tham gia BHXH, BHYT và trả kết quả",
        f"Kính gửi: {UNIT_NAME}",
        "Mã đơn vị (số định danh): TA0001A",
        f"Số hồ sơ Dossier number {DOSSIER_NUMBER}",
        f"{PROCEDURE_NAME} (mã thủ tục 600)",
        "Nhận hồi Received at 09 giờ 15 phút, ngày 23/11/2026",  # Vietnam time
        "Ngày hẹn trả kết quả Appointment date for the result 30/11/2026",
        "Trả kết quả ngày Result date 27/11/2026",
        "Thời điểm trả kết quả Time the result was returned 27/11/2026 14:40:05",
        "Kết quả xử lý hồ sơ Result of processing Chấp nhận một phần (mã kết quả 3)",
        "Chữ ký số cơ quan BHXH xác nhận",
    ]:
        assert expected in text, expected
    assert TRACKING_ID in "".join(text.split())


def test_part_1_lists_the_accepted_rows_and_part_2_the_others_with_reasons(partly_pdf):
    text = text_of(partly_pdf)
    part_1, rest = text.split(PART_1, 1)[1].split(PART_2, 1)

    assert "1 Trần Thị Bình, mã số BHXH 7912345678 Tăng lao động từ tháng 11/2026" in part_1
    assert "2 Lê Văn Cường, mã số BHXH 7923456789" in part_1
    assert "Phạm Minh Đức" not in part_1
    assert "STT No. Đối tượng Subject Nội dung" in rest
    assert "Lý do Reason Hướng dẫn bổ sung Guidance to supplement" in rest
    assert "1 Phạm Minh Đức, mã số BHXH 7934567890" in rest
    # Cells of several lines interleave when the text is extracted: look for a line's worth.
    assert "Số CCCD trên tờ khai" in rest  # the reason
    assert "Kê khai lại TK1-TS" in rest  # the guidance


def test_the_documents_are_listed_with_short_hashes(partly_pdf):
    text = text_of(partly_pdf)
    documents = text.split("3. Tài liệu kết quả", 1)[1]

    assert "3. Result documents" in documents
    assert "1 C12-TS-112026.pdf application/pdf 48213" in documents
    assert "2 The-BHYT-00012-2026.xml application/xml 9870" in documents
    assert f"{RESULT_DOCUMENT_SHA256[:16]}…{RESULT_DOCUMENT_SHA256[-8:]}" in documents
    assert RESULT_DOCUMENT_SHA256 not in "".join(text.split())  # the full hash is in the XML
    assert "Các tệp kết quả được gửi kèm riêng" in documents


def test_the_notes_of_the_form_the_support_phone_and_the_free_note(partly_pdf):
    text = text_of(partly_pdf)

    assert "Đề nghị đơn vị thu hồi thẻ BHYT còn giá trị sử dụng" in text
    assert "Hồ sơ điện tử không cần nộp hồ sơ giấy." in text
    assert f"Mọi vướng mắc xin liên hệ số điện thoại hỗ trợ: {SUPPORT_PHONE}" in text
    assert "Đơn vị nhận sổ BHXH tại Bộ phận Tiếp nhận và trả kết quả." in text


def test_a_supplement_request_has_no_accepted_row_and_no_documents(supplement_pdf):
    text = text_of(supplement_pdf)
    part_1, part_2 = text.split(PART_1, 1)[1].split(PART_2, 1)

    assert "Không có trường hợp nào được chấp nhận." in part_1
    assert "Hồ sơ chưa đúng, chưa đủ; đề nghị bổ sung (mã kết quả 4)" in part_1
    assert "Kê khai lại TK1-TS" in part_2
    assert "Tài liệu kết quả" not in text
    assert "Thời điểm trả kết quả" not in text  # no returned_at
    assert "Đơn vị nhận sổ BHXH" not in text  # no note


def test_an_accepted_notice_says_part_2_is_empty():
    value = accepted_result(support_phone=None, unit_code=None)
    text = text_of(render(value))

    assert f"{PART_2}" in text
    assert "Không có trường hợp nào. None." in text.split(PART_2, 1)[1]
    assert "Mọi vướng mắc" not in text
    assert "Mã đơn vị (số định danh): —" in text
    assert value.outcome is Outcome.ACCEPTED


def test_labels_have_their_english_line_from_the_catalogue(partly_pdf):
    text = text_of(partly_pdf)

    assert "NOTICE · Re: processing of the social and health insurance" in text
    assert "1. Dossier accepted for processing" in text
    assert "2. Cases incorrect or incomplete under the rules, with guidance to supplement" in text
    assert "An electronic dossier needs no paper dossier." in text


def test_the_fonts_are_named_and_embedded(partly_pdf):
    reader = PdfReader(io.BytesIO(partly_pdf))
    names = []
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for reference in resources["/Font"].values():
            font = reference.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            assert "/FontFile2" in descendant["/FontDescriptor"].get_object()
            names.append(str(font["/BaseFont"]))

    assert names and all("DejaVu" in name for name in names), names
    assert any("DejaVu-Sans-Mono" in name for name in names)


def test_the_notice_is_vietnamese_whatever_the_callers_language():
    with translation.override("en"):
        html = render_html(RESULT_TEMPLATE, {"notice": result_notice(), "seal": SEAL})
        assert translation.get_language() == "en"

    assert '<html lang="vi">' in html
    assert "Trả kết quả ngày" in html


def test_values_are_escaped_not_markup():
    html = render_html(
        RESULT_TEMPLATE,
        {"notice": result_notice(unit_name="Công ty <b>A</b> & B", note="<i>x</i>"), "seal": SEAL},
    )

    assert "Công ty &lt;b&gt;A&lt;/b&gt; &amp; B" in html
    assert "<b>A</b>" not in html and "<i>x</i>" not in html
