"""The admin shows the audit trail and refuses every change, even to a superuser."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.test import Client, RequestFactory
from django.urls import reverse

from ebhxh.audit.models import AuditEvent
from ebhxh.audit.services import record_event, verify_chain
from ebhxh.audit.tags import Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(make_user: Any) -> Any:
    return make_user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(superuser: Any) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def event(superuser: Any) -> AuditEvent:
    return record_event(Tag.USER_CREATE, actor=superuser, subject=superuser, data={"note": "gốc"})


def test_it_grants_no_write_permission(superuser: Any, event: AuditEvent) -> None:
    model_admin = site._registry[AuditEvent]
    request = RequestFactory().get("/")
    request.user = superuser
    assert model_admin.has_view_permission(request, event)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_it_lists_filters_and_searches(admin_client: Client, event: AuditEvent) -> None:
    url = reverse("admin:audit_auditevent_changelist")
    response = admin_client.get(url, {"q": "gốc"})
    assert response.status_code == 200
    response = admin_client.get(
        url, {"q": "root", "tag": "user:create", "actor__id__exact": event.actor_id}
    )
    assert response.status_code == 200
    assert "user:create" in response.content.decode()


def test_the_change_page_is_view_only(admin_client: Client, event: AuditEvent) -> None:
    url = reverse("admin:audit_auditevent_change", args=[event.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"tag": "user:forged", "data": "{}", "actor_name": "x"})
    assert response.status_code == 403
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.tag, stored.data, stored.hash) == ("user:create", {"note": "gốc"}, event.hash)


def test_delete_and_add_pages_are_refused(admin_client: Client, event: AuditEvent) -> None:
    delete_url = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert admin_client.get(delete_url).status_code == 403
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    changelist = reverse("admin:audit_auditevent_changelist")
    admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert AuditEvent.objects.count() == 1
    assert verify_chain().ok
