"""API tokens: created and revoked by the unit's admins, shown once, stored only as a hash."""

import hashlib
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from ebhxh.accounts import services
from ebhxh.accounts.models import ApiToken
from ebhxh.audit.models import AuditEvent
from tests.personas import verified_login

pytestmark = pytest.mark.django_db


def test_an_admin_creates_a_token_and_sees_it_once(client, unit_admin):
    verified_login(client, unit_admin)
    url = reverse("accounts:api_tokens")
    response = client.post(url, {"name": "Phần mềm lương ABC", "validity": "90"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    value = response.context["new_value"]
    assert len(value) >= 43
    assert value in response.content.decode()
    token = ApiToken.objects.get()
    assert token.unit == unit_admin.unit and token.created_by == unit_admin
    assert token.prefix == value[:8]
    assert token.token_hash == hashlib.sha256(value.encode()).hexdigest()
    assert token.expires_at is not None
    # Never again: not on the list, not in the audit trail.
    assert value not in client.get(url).content.decode()
    event = AuditEvent.objects.get(tag="unit:api_token:create")
    assert value not in json.dumps(event.data)
    assert event.data["name"] == "Phần mềm lương ABC" and event.actor_id == unit_admin.pk


def test_an_admin_revokes_a_token(client, unit_admin):
    token, _value = services.create_api_token(actor=unit_admin, unit=unit_admin.unit, name="x")
    verified_login(client, unit_admin)
    response = client.post(reverse("accounts:api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.status == "revoked"
    client.post(reverse("accounts:api_token_revoke", args=[token.pk]))  # twice: one event
    assert AuditEvent.objects.filter(tag="unit:api_token:revoke").count() == 1


def test_other_units_tokens_are_404(client, unit_admin, outsider):
    token, _value = services.create_api_token(
        actor=unit_admin, unit=unit_admin.unit, name="Phần mềm của Sao Mai"
    )
    verified_login(client, outsider)
    assert client.post(reverse("accounts:api_token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert token.name not in client.get(reverse("accounts:api_tokens")).content.decode()


def test_only_admins_create_or_revoke(preparer, unit_admin):
    with pytest.raises(PermissionDenied):
        services.create_api_token(actor=preparer, unit=preparer.unit, name="x")
    token, _value = services.create_api_token(actor=unit_admin, unit=unit_admin.unit, name="x")
    with pytest.raises(PermissionDenied):
        services.revoke_api_token(actor=preparer, token=token)


def test_an_admin_cannot_create_tokens_for_another_unit(unit_admin, unit_b):
    with pytest.raises(PermissionDenied):
        services.create_api_token(actor=unit_admin, unit=unit_b, name="x")
