"""Synthetic notices (01/TB-GD, 02/TB-TS, 03/TB-TS) for tests and the demo (no real personal data,
vss-domain.md §0.3)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from ebhxh.notices.result import Outcome, ResultDocument, ResultItem, ResultNotice
from ebhxh.notices.tbgd import RegistrationConfirmation, Result
from ebhxh.notices.tbts import Receipt, ReceiptItem

UNIT_NAME: Final = "Công ty TNHH Dệt may Sao Mai"
TRANSACTION_CODE: Final = "GD-07906-2026-000123"
ERROR_DESCRIPTION: Final = (
    "Chứng thư số của đơn vị đã hết hạn; đề nghị đăng ký chứng thư số còn hiệu lực."
)


def accepted_notice(**overrides: Any) -> RegistrationConfirmation:
    """An accepted registration confirmation; keyword arguments replace fields."""
    values: dict[str, Any] = {
        "place": "Thành phố Hồ Chí Minh",
        "notice_date": dt.date(2026, 11, 23),
        "unit_name": UNIT_NAME,
        "agency_name": "Bảo hiểm xã hội Cơ sở Bình Thạnh",
        "unit_code": "TA0001A",
        "tax_code": "0310000017",
        "dossier_number": "00012/2026/07906",
        "transaction_name": "Đăng ký sử dụng phương thức giao dịch điện tử",
        "dossier_type": "01/ĐK-GĐ",
        # 02:15:30 UTC is 09:15:30 in Vietnam: the notice writes local time.
        "transaction_time": dt.datetime(2026, 11, 23, 2, 15, 30, tzinfo=dt.UTC),
        "transaction_code": TRANSACTION_CODE,
        "result": Result.ACCEPTED,
    }
    values.update(overrides)
    return RegistrationConfirmation(**values)


def refused_notice(**overrides: Any) -> RegistrationConfirmation:
    """A refused one, with MA_LOI/MOTA_LOI."""
    values: dict[str, Any] = {
        "result": Result.REFUSED,
        "error_code": "DK-CERT-EXPIRED",
        "error_description": ERROR_DESCRIPTION,
    }
    values.update(overrides)
    return accepted_notice(**values)


DOSSIER_NUMBER: Final = "00012/2026/07906"
TRACKING_ID: Final = "0b9e0c3c-6a8e-4c8f-9a55-3f0d2b7c1e42"
ENVELOPE_SHA256: Final = "9c1f5a7e3b2d4c6a8e0f1b3d5c7a9e2f4b6d8c0a1e3f5b7d9c2a4e6f8b0d1c3e"
PROCEDURE_NAME: Final = (
    "Đăng ký đóng, điều chỉnh đóng BHXH, BHYT, BHTN, BHTNLĐ-BNN; cấp sổ BHXH, thẻ BHYT"
)
RECEIPT_FORMS: Final = (
    ReceiptItem(
        code="D02-TS",
        description="Báo cáo tình hình sử dụng lao động và danh sách người tham gia BHXH, BHYT",
        file_name="D02-TS-595.xml",
    ),
    ReceiptItem(
        code="TK1-TS",
        description="Tờ khai tham gia, điều chỉnh thông tin BHXH, BHYT",
        file_name="TK1-TS-595.xml",
        quantity=3,
    ),
)


def receipt(**overrides: Any) -> Receipt:
    """A receipt 02/TB-TS of a numbered dossier; keyword arguments replace fields."""
    values: dict[str, Any] = {
        "agency_code": "07906",
        "agency_name": "Bảo hiểm xã hội Cơ sở Bình Thạnh",
        "unit_name": UNIT_NAME,
        "unit_code": "TA0001A",
        "unit_phone": "028 3899 1234",
        "unit_email": "ketoan@saomai.example.vn",
        "dossier_number": DOSSIER_NUMBER,
        "procedure_code": "600",
        "procedure_name": PROCEDURE_NAME,
        "period": "11/2026",
        # 02:15:30 UTC is 09:15:30 in Vietnam: the receipt writes local time.
        "received_at": dt.datetime(2026, 11, 23, 2, 15, 30, tzinfo=dt.UTC),
        "appointment_date": dt.date(2026, 11, 30),
        "tracking_id": TRACKING_ID,
        "envelope_sha256": ENVELOPE_SHA256,
        "channel": "web",
        "forms": RECEIPT_FORMS,
    }
    values.update(overrides)
    return Receipt(**values)


def specimen_receipt(**overrides: Any) -> Receipt:
    """The specimen a test submission gets: no dossier number, no legal value."""
    values: dict[str, Any] = {"specimen": True, "dossier_number": None, "channel": "api"}
    values.update(overrides)
    return receipt(**values)


# 03/TB-TS. Names and mã số BHXH are made up (vss-domain.md §0.3).
RESULT_ACCEPTED: Final = (
    ResultItem(
        stt=1,
        subject="Trần Thị Bình, mã số BHXH 7912345678",
        description="Tăng lao động từ tháng 11/2026; cấp thẻ BHYT",
    ),
    ResultItem(
        stt=2,
        subject="Lê Văn Cường, mã số BHXH 7923456789",
        description="Điều chỉnh mức lương đóng từ tháng 11/2026",
    ),
)
RESULT_REFUSED: Final = (
    ResultItem(
        stt=1,
        subject="Phạm Minh Đức, mã số BHXH 7934567890",
        description="Tăng lao động từ tháng 11/2026",
        reason="Số CCCD trên tờ khai TK1-TS không khớp với Cơ sở dữ liệu quốc gia về dân cư",
        guidance="Kê khai lại TK1-TS với số CCCD đúng và nộp bổ sung",
    ),
)
RESULT_DOCUMENT_SHA256: Final = "4d2c8e1f" * 8
RESULT_DOCUMENTS: Final = (
    ResultDocument(
        name="C12-TS-112026.pdf",
        media_type="application/pdf",
        sha256=RESULT_DOCUMENT_SHA256,
        size=48_213,
    ),
    ResultDocument(
        name="The-BHYT-00012-2026.xml",
        media_type="application/xml",
        sha256="a1b2c3d4" * 8,
        size=9_870,
    ),
)
SUPPORT_PHONE: Final = "1900 9068"


def result_notice(**overrides: Any) -> ResultNotice:
    """A 03/TB-TS notice, partly accepted (both parts filled); keyword arguments replace fields."""
    values: dict[str, Any] = {
        "agency_code": "07906",
        "agency_name": "Bảo hiểm xã hội Cơ sở Bình Thạnh",
        "place": "Thành phố Hồ Chí Minh",
        "unit_name": UNIT_NAME,
        "unit_code": "TA0001A",
        "dossier_number": DOSSIER_NUMBER,
        "procedure_code": "600",
        "procedure_name": PROCEDURE_NAME,
        # 02:15:30 UTC is 09:15:30 in Vietnam: the notice writes local time.
        "received_at": dt.datetime(2026, 11, 23, 2, 15, 30, tzinfo=dt.UTC),
        "appointment_date": dt.date(2026, 11, 30),
        "result_date": dt.date(2026, 11, 27),
        # 07:40:05 UTC is 14:40:05 in Vietnam.
        "returned_at": dt.datetime(2026, 11, 27, 7, 40, 5, tzinfo=dt.UTC),
        "tracking_id": TRACKING_ID,
        "outcome": Outcome.PARTLY_ACCEPTED,
        "accepted_items": RESULT_ACCEPTED,
        "refused_items": RESULT_REFUSED,
        "documents": RESULT_DOCUMENTS,
        "support_phone": SUPPORT_PHONE,
        "note": "Đơn vị nhận sổ BHXH tại Bộ phận Tiếp nhận và trả kết quả.",
    }
    values.update(overrides)
    return ResultNotice(**values)


def accepted_result(**overrides: Any) -> ResultNotice:
    """A 03/TB-TS notice of a dossier accepted in full."""
    values: dict[str, Any] = {"outcome": Outcome.ACCEPTED, "refused_items": ()}
    values.update(overrides)
    return result_notice(**values)


def supplement_request(**overrides: Any) -> ResultNotice:
    """A 03/TB-TS notice returning the dossier for supplement: part 2 only, with guidance."""
    values: dict[str, Any] = {
        "outcome": Outcome.SUPPLEMENT_REQUESTED,
        "accepted_items": (),
        "documents": (),
        "returned_at": None,
        "note": None,
    }
    values.update(overrides)
    return result_notice(**values)


def weasyprint_unavailable_reason() -> str | None:
    """Why WeasyPrint cannot render here (its system libraries are missing), or None."""
    try:
        import weasyprint  # noqa: F401
    except OSError as exc:
        return (
            f"WeasyPrint cannot load its libraries ({exc}): "
            "apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"
        )
    return None
