"""The PDF of 02/TB-TS rendered from the template: Vietnamese text that survives extraction, the
number, the appointment date, the tracking id and the digests, the table of forms, the specimen
banner (only for a specimen), embedded fonts, A4.

Text is read back with pypdf, as a person copying from the PDF would get it. The sealed path
(`receipt_pdf`) is tested in test_tbts_services.py.
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
from ebhxh.notices.services import RECEIPT_TEMPLATE
from ebhxh.notices.tbts import ReceiptItem
from ebhxh.notices.testing import (
    DOSSIER_NUMBER,
    ENVELOPE_SHA256,
    PROCEDURE_NAME,
    TRACKING_ID,
    UNIT_NAME,
    receipt,
    specimen_receipt,
    weasyprint_unavailable_reason,
)

_REASON = weasyprint_unavailable_reason()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")

SEAL: dict[str, Any] = {
    "subject": "CN=Bảo hiểm xã hội Việt Nam — con dấu điện tử,O=ebhxh test PKI,C=VN",
    "serial": "41A5694D106525E249F22A2EA84EC8DCFF85BBAB",
    "signed_at": dt.datetime(2026, 11, 23, 2, 16, tzinfo=dt.UTC),
    "sha256": "5f1c2e9b" * 8,
}
BANNER = "BẢN MẪU – KHÔNG CÓ GIÁ TRỊ PHÁP LÝ / SPECIMEN"


def render(value) -> bytes:
    return render_pdf(RECEIPT_TEMPLATE, {"receipt": value, "seal": SEAL})


def text_of(pdf: bytes) -> str:
    """All pages' text, NFC, with runs of whitespace (line breaks of the layout) as one space."""
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


@pytest.fixture(scope="module")
def receipt_pdf() -> bytes:
    return render(receipt())


@pytest.fixture(scope="module")
def specimen_pdf() -> bytes:
    return render(specimen_receipt())


def test_it_is_one_a4_page_in_vietnamese(receipt_pdf, specimen_pdf):
    for pdf in (receipt_pdf, specimen_pdf):
        reader = PdfReader(io.BytesIO(pdf))
        assert pdf.startswith(b"%PDF-")
        assert len(reader.pages) == 1
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)
        assert reader.root_object["/Lang"] == "vi"


def test_the_vietnamese_text_survives_with_its_diacritics(receipt_pdf):
    text = text_of(receipt_pdf)

    for expected in [
        "BẢO HIỂM XÃ HỘI CƠ SỞ BÌNH THẠNH",
        "Mẫu số: 02/TB-TS",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Ngày 23 tháng 11 năm 2026",
        "PHIẾU GIAO NHẬN HỒ SƠ",
        f"Loại hồ sơ: {PROCEDURE_NAME} (mã thủ tục 600)",
        UNIT_NAME,
        "Ngày hẹn trả kết quả",
        "Thành phần hồ sơ đã nhận",
        "Chữ ký số cơ quan BHXH xác nhận",
    ]:
        assert expected in text, expected


def test_it_shows_the_number_the_dates_the_tracking_id_and_the_digests(receipt_pdf):
    text = text_of(receipt_pdf)
    compact = "".join(text.split())  # long codes may wrap anywhere

    assert f"Số hồ sơ Dossier number {DOSSIER_NUMBER}" in text
    assert "Thời điểm nhận Time of receipt 23/11/2026 09:15:30" in text  # Vietnam time
    assert "Ngày hẹn trả kết quả Appointment date for the result 30/11/2026" in text
    assert "Kỳ kê khai Declaration period 11/2026" in text
    assert TRACKING_ID in compact
    # The envelope's SHA-256 shortened, then in full in small print; the sealed XML's in the seal.
    assert f"{ENVELOPE_SHA256[:16]}…{ENVELOPE_SHA256[-8:]}" in text
    assert ENVELOPE_SHA256 in compact
    assert SEAL["sha256"] in compact
    assert SEAL["serial"] in compact
    assert "23/11/2026 09:16:00" in text  # the signing time, in Vietnam time
    assert "Cổng thông tin điện tử (web)" in text


def test_the_forms_are_a_table_with_a_total(receipt_pdf):
    text = text_of(receipt_pdf)

    assert "STT No. Mã tờ khai Form code Tên tờ khai Form Tệp Files Số lượng Quantity" in text
    assert "1 D02-TS Báo cáo tình hình sử dụng lao động" in text
    assert "2 TK1-TS Tờ khai tham gia, điều chỉnh thông tin BHXH, BHYT" in text
    assert "Tổng cộng 4" in text


def test_a_form_without_description_shows_its_code():
    forms = (ReceiptItem(code="CT-DK", file_name="", quantity=2),)
    text = text_of(render(receipt(forms=forms, channel="api")))

    assert "1 CT-DK CT-DK — 2" in text
    assert "Giao diện lập trình (API)" in text


def test_the_specimen_banner_appears_only_on_a_specimen(receipt_pdf, specimen_pdf):
    specimen = text_of(specimen_pdf)
    real = text_of(receipt_pdf)

    assert BANNER in specimen
    assert "bản mẫu, không cấp số hồ sơ" in specimen
    assert "SPECIMEN" in specimen.split(BANNER, 1)[1]  # the watermark too
    assert "BẢN MẪU" not in real
    assert "SPECIMEN" not in real
    assert DOSSIER_NUMBER in real and DOSSIER_NUMBER not in specimen


def test_labels_have_their_english_line_from_the_catalogue(receipt_pdf):
    text = text_of(receipt_pdf)

    assert "PHIẾU GIAO NHẬN HỒ SƠ DOSSIER RECEIPT" in text
    assert "Mã tra cứu hồ sơ Tracking ID" in text
    assert "SHA-256 của tệp hồ sơ đã nhận SHA-256 of the received file" in text


def test_the_fonts_are_named_and_embedded(receipt_pdf):
    reader = PdfReader(io.BytesIO(receipt_pdf))
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


def test_the_receipt_is_vietnamese_whatever_the_callers_language():
    with translation.override("en"):
        html = render_html(RECEIPT_TEMPLATE, {"receipt": receipt(), "seal": SEAL})
        assert translation.get_language() == "en"

    assert '<html lang="vi">' in html
    assert "Ngày hẹn trả kết quả" in html


def test_values_are_escaped_not_markup():
    html = render_html(
        RECEIPT_TEMPLATE,
        {"receipt": receipt(unit_name="Công ty <b>A</b> & B"), "seal": SEAL},
    )

    assert "Công ty &lt;b&gt;A&lt;/b&gt; &amp; B" in html
    assert "<b>A</b>" not in html
