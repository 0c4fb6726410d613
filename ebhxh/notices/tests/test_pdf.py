"""The PDF of 01/TB-GD: Vietnamese text that survives extraction, embedded fonts, A4, nothing fetched.

Text is read back with pypdf, as a person copying from the PDF would get it.
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
from ebhxh.notices.services import REGISTRATION_CONFIRMATION_TEMPLATE
from ebhxh.notices.testing import (
    ERROR_DESCRIPTION,
    TRANSACTION_CODE,
    UNIT_NAME,
    accepted_notice,
    refused_notice,
    weasyprint_unavailable_reason,
)

# scripts/test installs Pango and the fonts (and fails under CI=true when it cannot).
_REASON = weasyprint_unavailable_reason()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")

SHA256 = "5f1c2e9b" * 8
SEAL: dict[str, Any] = {
    "subject": "CN=Bảo hiểm xã hội Việt Nam — con dấu điện tử,O=ebhxh test PKI,C=VN",
    "serial": "41A5694D106525E249F22A2EA84EC8DCFF85BBAB",
    "signed_at": dt.datetime(2026, 11, 23, 2, 16, tzinfo=dt.UTC),
    "sha256": SHA256,
}


def render(notice) -> bytes:
    return render_pdf(REGISTRATION_CONFIRMATION_TEMPLATE, {"notice": notice, "seal": SEAL})


def text_of(pdf: bytes) -> str:
    """All pages' text, NFC, with runs of whitespace (line breaks of the layout) as one space."""
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


@pytest.fixture(scope="module")
def accepted_pdf() -> bytes:
    return render(accepted_notice())


def test_it_is_a_pdf_on_a4(accepted_pdf):
    reader = PdfReader(io.BytesIO(accepted_pdf))

    assert accepted_pdf.startswith(b"%PDF-")
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # 210 × 297 mm
    assert reader.root_object["/Lang"] == "vi"


def test_the_vietnamese_text_survives_with_its_diacritics(accepted_pdf):
    text = text_of(accepted_pdf)

    assert UNIT_NAME in text
    for expected in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "BẢO HIỂM XÃ HỘI CƠ SỞ BÌNH THẠNH",
        "Thành phố Hồ Chí Minh, ngày 23 tháng 11 năm 2026",
        "XÁC NHẬN ĐƠN VỊ GIAO DỊCH BHXH ĐIỆN TỬ TRÊN HỆ THỐNG CỔNG THÔNG TIN BẢO HIỂM XÃ HỘI VIỆT NAM",
        "xác nhận kết quả giao dịch điện tử",
        "Chữ ký số cơ quan BHXH xác nhận",
        "Đăng ký sử dụng phương thức giao dịch điện tử",
        "01/ĐK-GĐ",
        "23/11/2026 09:15:30",  # Vietnam time
        "Chấp nhận",
    ]:
        assert expected in text, expected
    assert "Xác nhận".casefold() in text.casefold()


def test_it_shows_the_unit_the_transaction_and_the_seal(accepted_pdf):
    text = text_of(accepted_pdf)
    compact = "".join(text.split())  # long codes may wrap anywhere

    for expected in ["TA0001A", "0310000017", "00012/2026/07906", TRANSACTION_CODE]:
        assert expected in text, expected
    assert SHA256 in compact
    assert "".join(SEAL["subject"].split()) in compact
    assert SEAL["serial"] in compact
    assert "23/11/2026 09:16:00" in text  # the signing time, in Vietnam time


def test_headings_have_their_english_line_from_the_catalogue(accepted_pdf):
    # Labels whose English translation is already in the catalogue.
    text = text_of(accepted_pdf)

    assert "Mã đơn vị Unit code" in text
    assert "Mã số thuế Tax code" in text


def test_the_fonts_are_named_and_embedded(accepted_pdf):
    reader = PdfReader(io.BytesIO(accepted_pdf))
    fonts = []
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for reference in resources["/Font"].values():
            font = reference.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            fonts.append((str(font["/BaseFont"]), descendant["/FontDescriptor"].get_object()))

    assert fonts
    for name, descriptor in fonts:
        assert "DejaVu" in name, name
        assert "/FontFile2" in descriptor, f"{name} is not embedded"
    assert any("DejaVu-Sans-Bold" in name for name, _ in fonts)
    assert any("DejaVu-Sans-Mono" in name for name, _ in fonts)


def test_a_refused_notice_shows_the_error():
    text = text_of(render(refused_notice()))

    assert "Từ chối" in text
    assert "DK-CERT-EXPIRED" in text
    assert ERROR_DESCRIPTION in text


def test_an_accepted_notice_has_no_error_rows(accepted_pdf):
    assert "Mã lỗi" not in text_of(accepted_pdf)


def test_the_notice_is_vietnamese_whatever_the_callers_language():
    with translation.override("en"):
        html = render_html(
            REGISTRATION_CONFIRMATION_TEMPLATE, {"notice": accepted_notice(), "seal": SEAL}
        )
        assert translation.get_language() == "en"  # restored for the caller

    assert '<html lang="vi">' in html
    assert "Mã đơn vị" in html
    assert 'font-family: "DejaVu Sans", "Noto Sans"' in html


def test_values_are_escaped_not_markup():
    html = render_html(
        REGISTRATION_CONFIRMATION_TEMPLATE,
        {"notice": accepted_notice(unit_name="Công ty <b>A</b> & B"), "seal": SEAL},
    )

    assert "Công ty &lt;b&gt;A&lt;/b&gt; &amp; B" in html
    assert "<b>A</b>" not in html


def test_nothing_is_fetched_while_rendering(settings, tmp_path):
    (tmp_path / "fetch.html").write_text(
        '<html><body><img src="http://127.0.0.1:9/tracker.png"></body></html>'
    )
    settings.TEMPLATES = [
        {"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [tmp_path]}
    ]

    with pytest.raises(ValueError, match="external resource"):
        render_pdf("fetch.html", {})
