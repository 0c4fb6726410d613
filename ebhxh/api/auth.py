"""Bearer-token authentication of payroll and I-VAN software acting for one unit.

``Authorization: Bearer <token>``, a token a unit admin created under "Thành viên đơn vị → API
token". ``request.auth`` becomes the ``ApiToken`` (its ``unit`` already loaded). A missing, wrong,
revoked or expired token gets the same 401, so the answer does not tell which tokens exist.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from ebhxh.accounts.models import ApiToken
from ebhxh.accounts.services import use_api_token


class UnitTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return use_api_token(token.strip())
