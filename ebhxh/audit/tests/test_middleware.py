"""RequestContextMiddleware: request id, client IP and actor reach record_event."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.http import HttpRequest, JsonResponse
from django.test import Client
from django.urls import path

from ebhxh.audit.context import current
from ebhxh.audit.services import record_event
from ebhxh.audit.tags import Tag


def _record(request: HttpRequest) -> JsonResponse:
    event = record_event(Tag.DEMO_SEED, data={"path": request.path})
    return JsonResponse({"seq": event.seq, "request_id": request.request_id})  # type: ignore[attr-defined]


def _record_with_request(request: HttpRequest) -> JsonResponse:
    from ebhxh.audit.context import acting_as

    # The explicit request wins over a surrounding context.
    with acting_as(request_id="outer", ip="192.0.2.99"):
        event = record_event(Tag.DEMO_SEED, request=request)
    return JsonResponse({"request_id": event.request_id, "ip": event.ip})


urlpatterns = [path("record/", _record), path("record-with-request/", _record_with_request)]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def _last_event() -> Any:
    from ebhxh.audit.models import AuditEvent

    return AuditEvent.objects.order_by("-seq").first()


def test_it_echoes_a_sane_request_id(client: Client) -> None:
    response = client.get("/record/", headers={"X-Request-ID": "vendor-42.a_b"})
    assert response["X-Request-ID"] == "vendor-42.a_b"
    assert response.json()["request_id"] == "vendor-42.a_b"
    assert _last_event().request_id == "vendor-42.a_b"


@pytest.mark.parametrize(
    "header", [None, "", "x" * 65, "bad id", "evil\r\nheader", "<script>", "ü"]
)
def test_it_replaces_a_missing_or_odd_request_id(client: Client, header: str | None) -> None:
    headers = {} if header is None else {"X-Request-ID": header}
    response = client.get("/record/", headers=headers)
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert _last_event().request_id == request_id


def test_it_records_the_client_ip_and_ignores_forwarded_for(client: Client) -> None:
    client.get("/record/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert _last_event().ip == "203.0.113.7"


def test_it_trusts_forwarded_for_only_behind_configured_proxies(
    client: Client, settings: Any
) -> None:
    settings.AUDIT_TRUSTED_PROXIES = 1
    # The client forged the first entry; our one proxy appended the address it saw.
    client.get("/record/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1")
    assert _last_event().ip == "198.51.100.1"
    settings.AUDIT_TRUSTED_PROXIES = 2
    client.get("/record/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="198.51.100.9, 10.0.0.2")
    assert _last_event().ip == "198.51.100.9"
    client.get("/record/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="garbage")
    assert _last_event().ip == "10.0.0.3"


def test_it_takes_the_actor_from_the_logged_in_user(client: Client, user: Any) -> None:
    client.force_login(user)
    client.get("/record/")
    event = _last_event()
    assert event.actor == user
    assert event.actor_name == "Nguyễn Văn Quản (sysadmin)"


def test_an_anonymous_request_has_no_actor(client: Client) -> None:
    client.get("/record/")
    assert _last_event().actor is None


def test_an_explicit_request_argument_is_used(client: Client, user: Any) -> None:
    client.force_login(user)
    response = client.get(
        "/record-with-request/", headers={"X-Request-ID": "req-1"}, REMOTE_ADDR="203.0.113.9"
    )
    assert response.json() == {"request_id": "req-1", "ip": "203.0.113.9"}
    assert _last_event().actor == user


def test_the_context_ends_with_the_request(client: Client, user: Any) -> None:
    client.force_login(user)
    client.get("/record/")
    assert current().request_id == ""
    assert current().actor is None
