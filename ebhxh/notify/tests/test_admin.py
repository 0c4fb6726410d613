"""The admin lists sent e-mails and codes for support staff, read-only and without secrets."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from ebhxh.notify.models import OneTimeCode, OutboundEmail
from ebhxh.notify.tests.conftest import code_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    user = get_user_model().objects.create_user(
        username="root",
        password="correct horse battery",
        kind="system",
        is_staff=True,
        is_superuser=True,
    )
    client = Client()
    client.force_login(user)
    return client


def test_it_lists_and_finds_emails_by_recipient(
    admin_client, django_capture_on_commit_callbacks, mailoutbox
):
    from ebhxh.notify.codes import issue_code

    with django_capture_on_commit_callbacks(execute=True):
        issue_code("KeToan@example.vn", "registration")
    code = code_in(mailoutbox[0])
    email = OutboundEmail.objects.get()
    page = admin_client.get(reverse("admin:notify_outboundemail_changelist"), {"q": "ketoan@"})
    assert page.status_code == 200
    assert "one_time_code" in page.content.decode()
    detail = admin_client.get(reverse("admin:notify_outboundemail_change", args=[email.pk]))
    assert detail.status_code == 200
    assert email.message_id.strip("<>") in detail.content.decode()
    assert code not in detail.content.decode()
    codes = admin_client.get(
        reverse("admin:notify_onetimecode_change", args=[OneTimeCode.objects.get().pk])
    )
    assert codes.status_code == 200
    assert OneTimeCode.objects.get().code_hash not in codes.content.decode()


def test_nothing_can_be_added_changed_or_deleted(admin_client):
    assert admin_client.get(reverse("admin:notify_outboundemail_add")).status_code == 403
    assert admin_client.get(reverse("admin:notify_onetimecode_add")).status_code == 403
