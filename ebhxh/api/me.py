"""``GET /api/v1/me``: the unit a bearer token acts for, so vendors can check a token."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema

from ebhxh.api.auth import UnitTokenAuth, request_token, request_unit

router = Router(tags=["me"], auth=UnitTokenAuth())


class UnauthorizedOut(Schema):
    detail: str


class MeOut(Schema):
    code: str | None = Field(description="Mã đơn vị (trống khi chưa được cấp) / unit code")
    tax_code: str = Field(description="Mã số thuế / tax code")
    name: str = Field(description="Tên đơn vị / unit name")
    etx_status: str = Field(
        description=(
            "Trạng thái giao dịch điện tử / e-transaction status: "
            "not_registered, pending, active, stopped"
        )
    )
    token_name: str = Field(description="Tên token / the token's name")
    token_expires_at: dt.datetime | None = Field(description="Hết hạn lúc / expiry, if any")


@router.get(
    "",
    response={200: MeOut, 401: UnauthorizedOut},
    summary="Đơn vị của token / the unit of the token",
    description=(
        "Trả về đơn vị mà API token đại diện; dùng để kiểm tra token. "
        "Returns the unit the API token acts for; use it to check a token."
    ),
)
def me(request: HttpRequest) -> dict[str, object]:
    token = request_token(request)
    unit = request_unit(request)
    return {
        "code": unit.code,
        "tax_code": unit.tax_code,
        "name": unit.name,
        "etx_status": unit.etx_status,
        "token_name": token.name,
        "token_expires_at": token.expires_at,
    }
