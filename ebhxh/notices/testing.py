"""Synthetic 01/TB-GD notices for tests and the demo (no real personal data, vss-domain.md §0.3)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from ebhxh.notices.tbgd import RegistrationConfirmation, Result

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
