"""TOTP is optional for unit members: they turn it on and off themselves; officers cannot."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ebhxh.accounts.tests.factories import PASSWORD
from ebhxh.audit.models import AuditEvent
from tests.personas import verified_login

pytestmark = pytest.mark.django_db


def _code(device) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def _login(client, identifier):
    client.logout()
    return client.post(reverse("accounts:login"), {"username": identifier, "password": PASSWORD})


def test_a_member_turns_totp_on_and_is_then_asked_for_it_at_login(client, preparer):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert _login(client, "ketoan.a").status_code == 302
        page = client.get(reverse("accounts:two_factor"))
        assert page.status_code == 200
        assert "Đang tắt" in page.content.decode()
        enrol = client.get(page.context["enrol_url"])
        assert "Quét mã QR" in enrol.content.decode()
        assert "Tài khoản cán bộ" not in enrol.content.decode()
        device = TOTPDevice.objects.get(user=preparer, confirmed=False)
        response = client.post(
            reverse("accounts:otp"),
            {"token": _code(device), "next": reverse("accounts:two_factor")},
        )
        assert response["Location"] == reverse("accounts:two_factor")
        assert "Đang bật" in client.get(response["Location"]).content.decode()
        assert AuditEvent.objects.filter(tag="user:totp:enrol", subject_id=str(preparer.pk))

    # Next login (a later time step: a code is accepted once only).
    with time_machine.travel(start + dt.timedelta(minutes=2), tick=False):
        _login(client, "ketoan.a")
        blocked = client.get("/")
        assert blocked.status_code == 302
        assert blocked["Location"].startswith(reverse("accounts:otp"))
        device.refresh_from_db()
        client.post(reverse("accounts:otp"), {"token": _code(device), "next": "/"})
        assert client.get("/").status_code == 200


def test_turning_totp_off_needs_a_current_code(client, preparer):
    device = TOTPDevice.objects.create(user=preparer, name="ebhxh", confirmed=True)
    verified_login(client, preparer)
    url = reverse("accounts:two_factor")

    wrong = client.post(url, {"token": "000000"})
    assert wrong.status_code == 200
    assert "không đúng" in wrong.content.decode()
    assert TOTPDevice.objects.filter(user=preparer).exists()

    # After a failure django-otp throttles the device for a moment.
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=1), tick=False):
        right = client.post(url, {"token": _code(device)})
    assert right.status_code == 302
    assert not TOTPDevice.objects.filter(user=preparer).exists()
    event = AuditEvent.objects.get(tag="user:totp:disable")
    assert event.actor_id == preparer.pk and event.subject_id == str(preparer.pk)
    # And the next login asks for the password only.
    _login(client, "ketoan.a")
    assert client.get("/").status_code == 200


def test_officers_cannot_turn_totp_off(client, desk_officer):
    device = TOTPDevice.objects.get(user=desk_officer)
    verified_login(client, desk_officer)
    url = reverse("accounts:two_factor")
    page = client.get(url).content.decode()
    assert "phải dùng xác thực hai lớp" in page
    assert client.post(url, {"token": _code(device)}).status_code == 403
    assert TOTPDevice.objects.filter(user=desk_officer, confirmed=True).exists()


def test_officers_may_turn_it_off_when_the_setting_allows(client, desk_officer, settings):
    settings.OFFICER_TOTP_REQUIRED = False
    device = TOTPDevice.objects.get(user=desk_officer)
    verified_login(client, desk_officer)
    assert client.post(reverse("accounts:two_factor"), {"token": _code(device)}).status_code == 302
    assert not TOTPDevice.objects.filter(user=desk_officer).exists()
