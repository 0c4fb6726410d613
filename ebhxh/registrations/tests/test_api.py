"""The registration API for payroll and I-VAN software: status and certificates of the token's unit."""

from __future__ import annotations

import pytest

from ebhxh.accounts.models import User
from ebhxh.accounts.services import create_api_token, revoke_api_token
from ebhxh.registrations import services
from ebhxh.registrations.tests.test_services import signed_registration

pytestmark = pytest.mark.django_db


def test_status_and_certificates_of_the_token_unit(
    client, trusted, token_cert, declaration, desk_officer, unit_b
):
    reg = signed_registration(declaration, token_cert, trusted)
    services.approve(reg, desk_officer, unit_code="DN0001A")
    account = User.objects.get(unit__code="DN0001A", is_unit_account=True)
    token, value = create_api_token(actor=account, unit=account.unit, name="Phần mềm lương")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {value}"}

    body = client.get("/api/v1/unit/registrations", **auth).json()
    assert body["unit_code"] == "DN0001A" and body["etx_status"] == "active"
    assert body["current"]["reference"] == reg.reference and body["current"]["status"] == "approved"
    assert [h["version"] for h in body["history"]] == [1]

    certs = client.get("/api/v1/unit/certificates", **auth).json()
    assert len(certs) == 1 and certs[0]["serial"] == reg.certificate_serial
    assert certs[0]["status"] == "active"

    assert client.get("/api/v1/unit/registrations").status_code == 401
    revoke_api_token(actor=account, token=token)
    assert client.get("/api/v1/unit/certificates", **auth).status_code == 401
