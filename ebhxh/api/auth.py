"""Bearer-token authentication of payroll and I-VAN software.

``Authorization: Bearer <token>``: a token a unit admin created under "Thành viên đơn vị → API
token" (it acts for that unit), or an I-VAN's token created by a system administrator (it files
dossiers for the units that chose that I-VAN in their registration). ``request.auth`` becomes
the ``ApiToken`` (its ``unit`` and ``ivan`` already loaded). A missing, wrong, revoked or expired
token gets the same 401, so the answer does not tell which tokens exist.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from ebhxh.accounts.models import ApiToken
from ebhxh.accounts.services import use_api_token
from ebhxh.units.models import Unit


class UnitTokenAuth(HttpBearer):
    """A unit's token only (the unit's own registration, certificates, profile)."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = use_api_token(token.strip())
        return found if found is not None and found.unit_id is not None else None


class FilerTokenAuth(HttpBearer):
    """A unit's token or an I-VAN's (filing and following dossiers)."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return use_api_token(token.strip())


def request_token(request: HttpRequest) -> ApiToken:
    """The token `UnitTokenAuth` or `FilerTokenAuth` accepted for this request."""
    token = getattr(request, "auth", None)
    assert isinstance(token, ApiToken)
    return token


def request_unit(request: HttpRequest) -> Unit:
    """The unit of the token `UnitTokenAuth` accepted (never an I-VAN's token)."""
    unit = request_token(request).unit
    assert unit is not None
    return unit
