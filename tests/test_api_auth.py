"""Bearer-token authentication of payroll and I-VAN software (UnitTokenAuth) and GET /api/v1/me."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from ebhxh.accounts import services
from ebhxh.accounts.models import ApiToken

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"


@pytest.fixture
def token(unit_admin):
    """A token of unit A and its value, as the admin saw it once."""
    return services.create_api_token(actor=unit_admin, unit=unit_admin.unit, name="Lương ABC")


def _get(value, scheme="Bearer"):
    return Client().get(ME, headers={"Authorization": f"{scheme} {value}"})


def test_a_valid_token_answers_with_its_unit(token):
    api_token, value = token
    response = _get(value)
    assert response.status_code == 200
    unit = api_token.unit
    assert response.json() == {
        "code": "TA0001A",
        "tax_code": unit.tax_code,
        "name": unit.name,
        "etx_status": unit.etx_status,
        "token_name": "Lương ABC",
        "token_expires_at": None,
    }
    assert _get(value, scheme="bearer").status_code == 200


def test_it_sets_request_auth_to_the_token(token, rf):
    from ebhxh.api.auth import UnitTokenAuth

    api_token, value = token
    request = rf.get(ME, headers={"Authorization": f"Bearer {value}"})
    assert UnitTokenAuth()(request) == api_token


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer wrong-token", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000],
)
def test_missing_or_wrong_tokens_get_401(token, header):
    headers = {"Authorization": header} if header else {}
    response = Client().get(ME, headers=headers)
    assert response.status_code == 401


def test_a_revoked_token_gets_401(token, unit_admin):
    api_token, value = token
    services.revoke_api_token(actor=unit_admin, token=api_token)
    assert _get(value).status_code == 401


def test_an_expired_token_gets_401(unit_admin):
    expires = timezone.now() + dt.timedelta(days=1)
    _api_token, value = services.create_api_token(
        actor=unit_admin, unit=unit_admin.unit, name="x", expires_at=expires
    )
    assert _get(value).status_code == 200
    with time_machine.travel(expires + dt.timedelta(seconds=1), tick=False):
        assert _get(value).status_code == 401


def test_a_token_of_one_unit_shows_only_that_unit(token, outsider):
    _other, other_value = services.create_api_token(
        actor=outsider, unit=outsider.unit, name="B's payroll"
    )
    assert _get(other_value).json()["code"] == "TB0002B"
    assert _get(token[1]).json()["code"] == "TA0001A"


def test_last_used_at_is_stamped_at_most_once_a_minute(token):
    api_token, value = token
    assert api_token.last_used_at is None
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        _get(value)
    assert ApiToken.objects.get(pk=api_token.pk).last_used_at == start
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        _get(value)
    assert ApiToken.objects.get(pk=api_token.pk).last_used_at == start
    later = start + dt.timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        _get(value)
    assert ApiToken.objects.get(pk=api_token.pk).last_used_at == later


def test_the_openapi_document_declares_bearer_auth_on_me(db):
    schema = Client().get("/api/v1/openapi.json").json()
    operation = schema["paths"][ME]["get"]
    assert operation["security"] == [{"UnitTokenAuth": []}]
    scheme = schema["components"]["securitySchemes"]["UnitTokenAuth"]
    assert scheme == {"type": "http", "scheme": "bearer"}
    # The public catalogue stays public.
    assert "security" not in schema["paths"]["/api/v1/catalog/forms"]["get"]
