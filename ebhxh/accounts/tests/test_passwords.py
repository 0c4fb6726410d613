"""Set-password links (one-time, expiring, never a password in the mail) and "Quên mật khẩu"."""

import datetime as dt
import json
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from ebhxh.accounts import services
from ebhxh.accounts.models import Role, User
from ebhxh.accounts.tests.factories import PASSWORD
from ebhxh.accounts.tests.helpers import choose_password, set_password_path
from ebhxh.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Mot-mat-khau-moi-rat-dai-2026"


def _login(client, identifier, password):
    return client.post(reverse("accounts:login"), {"username": identifier, "password": password})


@pytest.fixture
def invited(unit_admin, mailoutbox, django_capture_on_commit_callbacks):
    """A member unit A's admin invited; they have no password yet; their e-mail was sent."""
    with django_capture_on_commit_callbacks(execute=True):
        member = services.invite_member(
            actor=unit_admin, full_name="Lê Thị Mới", email="moi@example.vn", roles=[Role.SIGNER]
        )
    assert len(mailoutbox) == 1
    return member


def test_an_invited_member_sets_a_password_through_the_link_and_logs_in(
    client, invited, mailoutbox
):
    message = mailoutbox[0]
    assert message.to == ["moi@example.vn"]
    assert invited.username in message.body
    assert not invited.has_usable_password()
    assert "Xin chào Lê Thị Mới" in message.body

    response = choose_password(client, set_password_path(message), NEW_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    page = client.get(response["Location"])
    assert "Đã đặt mật khẩu" in page.content.decode()
    assert _login(client, "moi@example.vn", NEW_PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(invited.pk)
    event = AuditEvent.objects.filter(tag="user:password:change", subject_id=str(invited.pk)).get()
    assert event.actor_id == invited.pk
    assert event.data == {"via": "link"}


def test_a_link_works_only_once(client, invited, mailoutbox):
    path = set_password_path(mailoutbox[0])
    choose_password(client, path, NEW_PASSWORD)

    again = client.get(path, follow=True)

    assert "không hợp lệ" in again.content.decode()
    assert "new_password1" not in again.content.decode()
    assert AuditEvent.objects.filter(tag="user:password:link_invalid").exists()


def test_a_link_expires(client, invited, mailoutbox, settings):
    path = set_password_path(mailoutbox[0])
    # A day's margin: under time_machine, Django's naive datetime.now() loses the UTC offset.
    later = timezone.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT, days=1)
    with time_machine.travel(later, tick=False):
        response = client.get(path)
    assert response.status_code == 200
    assert "không hợp lệ" in response.content.decode()


def test_a_link_is_dead_once_the_member_is_locked(client, invited, unit_admin, mailoutbox):
    services.deactivate_member(actor=unit_admin, member=invited)
    response = client.get(set_password_path(mailoutbox[0]))
    assert response.status_code == 200
    assert "không hợp lệ" in response.content.decode()


def test_the_password_validators_apply(client, invited, mailoutbox):
    response = choose_password(client, set_password_path(mailoutbox[0]), "12345")
    assert response.status_code == 200
    invited.refresh_from_db()
    assert not invited.has_usable_password()


def test_no_token_or_link_reaches_the_audit_trail(invited, mailoutbox):
    token = set_password_path(mailoutbox[0]).rstrip("/").rsplit("/", 1)[1]
    everything = json.dumps(list(AuditEvent.objects.values("data", "subject_repr")))
    assert token not in everything
    assert "dat-mat-khau" not in everything
    tags = set(AuditEvent.objects.values_list("tag", flat=True))
    assert {"user:create", "user:invite", "user:password:link_send"} <= tags


def test_unknown_reasons_are_refused(preparer):
    with pytest.raises(ValueError):
        services.send_set_password_link(preparer, reason="because")


# --- Quên mật khẩu ---------------------------------------------------------------------------------


def _without_csrf(response) -> str:
    # The masked CSRF token differs on every render; everything else must be identical.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def _ask_reset(client, identifier):
    return client.post(reverse("accounts:password_reset"), {"identifier": identifier}, follow=True)


def test_the_reset_form_answers_the_same_for_known_and_unknown_accounts(
    client, unit_admin, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = _ask_reset(client, "TA0001A")
    sent = len(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        unknown = _ask_reset(client, "ZZ9999Z")

    assert sent == 1 and len(mailoutbox) == 1  # only the real account got a message
    assert known.redirect_chain == unknown.redirect_chain
    assert known.status_code == unknown.status_code == 200
    assert _without_csrf(known) == _without_csrf(unknown)
    requests = AuditEvent.objects.filter(tag="user:password:reset_request").order_by("seq")
    assert [e.data["sent"] for e in requests] == [True, False]
    assert requests[0].subject_id == str(unit_admin.pk)


@pytest.mark.parametrize("identifier", ["tax_code", "email"])
def test_a_reset_link_by_tax_code_or_email_sets_a_new_password(
    client, unit_admin, mailoutbox, django_capture_on_commit_callbacks, identifier
):
    value = unit_admin.unit.tax_code if identifier == "tax_code" else unit_admin.email.upper()
    with django_capture_on_commit_callbacks(execute=True):
        _ask_reset(client, value)
    message = mailoutbox[0]
    assert message.to == [unit_admin.email]
    # Asking for a link changes nothing: the old password still works until a new one is chosen.
    assert _login(client, "TA0001A", PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    # Logging in spent the link (Django's token hashes the last login): ask again.
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _ask_reset(client, value)

    choose_password(client, set_password_path(mailoutbox[0]), NEW_PASSWORD)

    assert _login(client, "TA0001A", PASSWORD).status_code == 200
    assert _login(client, "TA0001A", NEW_PASSWORD).status_code == 302


def test_a_unit_account_without_its_own_email_gets_the_link_at_the_unit_contact(
    unit_admin, mailoutbox, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=unit_admin.pk).update(email="")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.request_password_reset(unit_admin.unit.code)
    assert mailoutbox[0].to == [unit_admin.unit.contact_email]


def test_locked_accounts_get_no_reset_link(
    client, preparer, mailoutbox, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=preparer.pk).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = _ask_reset(client, preparer.email)
    assert response.status_code == 200
    assert mailoutbox == []


def test_the_reset_form_is_rate_limited(
    client, unit_admin, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [_ask_reset(client, "TA0001A").status_code for _ in range(8)]
    assert statuses[0] == 200
    assert statuses[-1] == 429
    assert len(mailoutbox) == statuses.count(200)


def test_the_login_page_links_to_the_reset_form(client, db):
    page = client.get(reverse("accounts:login")).content.decode()
    assert reverse("accounts:password_reset") in page
