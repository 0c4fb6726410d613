"""Rate limits: the login form and named limits, counted in the shared cache."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from ebhxh.audit.models import AuditEvent
from ebhxh.notify import ratelimits
from ebhxh.notify.apps import check_rate_limit_cache

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


def _login(client, username="khong-co", ip="192.0.2.10", **extra):
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": "sai-mat-khau"},
        REMOTE_ADDR=ip,
        **extra,
    )


class TestLogin:
    def test_the_eleventh_attempt_in_a_minute_gets_a_vietnamese_429(self, client, frozen):
        for n in range(10):
            assert _login(client, f"nguoi-dung-{n}").status_code == 200
        response = _login(client, "nguoi-dung-10")
        assert response.status_code == 429
        page = response.content.decode()
        assert "Bạn đã thử quá nhiều lần" in page
        assert "Vui lòng thử lại sau khoảng 1 phút." in page
        assert '<html lang="vi">' in page
        assert 1 <= int(response["Retry-After"]) <= 60

    def test_refused_attempts_are_not_checked_against_the_password(self, client, frozen):
        for n in range(11):
            _login(client, f"nguoi-dung-{n}")
        # The eleventh never reached the view: ten login failures in the trail, not eleven.
        assert AuditEvent.objects.filter(tag="user:login_failed").count() == 10

    def test_it_records_one_audit_event_per_window(self, client, frozen):
        for n in range(15):
            _login(client, f"nguoi-dung-{n}")
        events = AuditEvent.objects.filter(tag="security:rate_limit:exceed")
        assert events.count() == 1
        event = events.get()
        assert event.ip == "192.0.2.10"
        assert event.data["limit"] == "login"
        assert event.data["rule"] == "ip"
        assert event.data["path"] == reverse("accounts:login")

    def test_other_addresses_are_not_affected(self, client, frozen):
        for n in range(11):
            _login(client, f"nguoi-dung-{n}")
        assert _login(client, "nguoi-dung-0").status_code == 429
        assert _login(client, "nguoi-dung-0", ip="192.0.2.11").status_code == 200

    def test_the_limit_lifts_when_the_window_ends(self, client, frozen):
        for n in range(11):
            _login(client, f"nguoi-dung-{n}")
        assert _login(client).status_code == 429
        frozen.shift(61)
        assert _login(client).status_code == 200

    def test_showing_the_form_does_not_count(self, client, frozen):
        for _ in range(15):
            assert (
                client.get(reverse("accounts:login"), REMOTE_ADDR="192.0.2.10").status_code == 200
            )
        assert _login(client).status_code == 200

    def test_one_identifier_is_limited_across_addresses(self, client, frozen):
        for n in range(20):
            assert _login(client, "TA0001A", ip=f"198.51.100.{n + 1}").status_code == 200
        assert _login(client, "ta0001a ", ip="198.51.100.99").status_code == 429
        assert _login(client, "TB0002B", ip="198.51.100.99").status_code == 200

    def test_the_client_behind_trusted_proxies_is_counted(self, client, frozen, settings):
        settings.AUDIT_TRUSTED_PROXIES = 1
        proxy = "10.0.0.1"
        for n in range(10):
            _login(client, f"u{n}", ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")
        assert _login(client, ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
        assert _login(client, ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 200

    def test_ipv6_clients_are_counted_per_64_block(self, client, frozen):
        for n in range(10):
            _login(client, f"u{n}", ip=f"2001:db8:1:2::{n + 1:x}")
        assert _login(client, ip="2001:db8:1:2:ffff::1").status_code == 429
        assert _login(client, ip="2001:db8:1:3::1").status_code == 200

    def test_it_can_be_switched_off(self, client, frozen, settings):
        settings.RATELIMIT_ENABLE = False
        for n in range(12):
            assert _login(client, f"u{n}").status_code == 200

    def test_a_successful_login_still_works_under_the_limit(self, client, frozen, unit_admin):
        from ebhxh.accounts.tests.factories import PASSWORD

        response = client.post(
            reverse("accounts:login"), {"username": "TA0001A", "password": PASSWORD}
        )
        assert response.status_code == 302


class TestNamedLimits:
    def _request(self, ip="192.0.2.20"):
        return RequestFactory().post("/", REMOTE_ADDR=ip)

    def test_check_counts_per_address_and_per_identifier(self, frozen, settings):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, "code": {"ip": "5/h", "identifier": "5/h"}}
        for n in range(5):
            assert (
                ratelimits.check("code", self._request(f"192.0.2.{n}"), identifier="A@x.vn") is None
            )
        exceeded = ratelimits.check("code", self._request("192.0.2.99"), identifier="a@x.vn")
        assert exceeded is not None
        assert (exceeded.limit, exceeded.rule, exceeded.rate) == ("code", "identifier", "5/h")
        assert "a@x.vn" not in exceeded.key
        assert 0 < exceeded.retry_after <= 3600

    def test_without_an_identifier_only_the_address_counts(self, frozen):
        for _ in range(5):
            assert ratelimits.check("code", self._request()) is None
        exceeded = ratelimits.check("code", self._request())
        assert exceeded is not None and exceeded.rule == "ip"

    def test_the_decorator_reads_the_identifier_from_a_form_field(self, frozen, rf):
        @ratelimits.limit("code", field="email")
        def view(request):
            return HttpResponse("ok")

        for n in range(5):
            request = rf.post("/", {"email": "ketoan@example.vn"}, REMOTE_ADDR=f"192.0.2.{n}")
            assert view(request).status_code == 200
        request = rf.post("/", {"email": "KETOAN@example.vn"}, REMOTE_ADDR="192.0.2.200")
        request.user = None
        request.session = {}
        response = view(request)
        assert response.status_code == 429

    def test_an_unknown_limit_is_a_configuration_error(self):
        with pytest.raises(ImproperlyConfigured):
            ratelimits.limit("khong_co")

    def test_registration_has_its_own_hourly_limit(self, frozen, settings):
        assert settings.RATE_LIMITS["registration"] == {"ip": "5/h"}
        for _ in range(5):
            assert ratelimits.check("registration", self._request()) is None
        assert ratelimits.check("registration", self._request()) is not None


class TestSharedCache:
    def test_the_default_cache_is_shared_between_processes(self, settings):
        assert settings.CACHES["default"]["BACKEND"] == "ebhxh.notify.cache.DatabaseCache"
        assert check_rate_limit_cache() == []

    def test_a_per_process_cache_is_reported(self, settings):
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        assert [w.id for w in check_rate_limit_cache()] == ["notify.W001"]

    def test_incr_keeps_the_expiry_of_the_counter(self, frozen):
        # Django's generic incr re-sets the key with the default five-minute timeout.
        assert cache.add("counter", 1, 3600)
        frozen.shift(400)
        assert cache.incr("counter") == 2
        frozen.shift(400)
        assert cache.get("counter") == 2
        frozen.shift(2801)
        assert cache.get("counter") is None
        with pytest.raises(ValueError):
            cache.incr("counter")

    def test_incr_and_decr_count(self):
        cache.add("counter", 5, 60)
        assert cache.incr("counter", 10) == 15
        assert cache.decr("counter", 3) == 12
        with pytest.raises(ValueError):
            cache.incr("nothing-here")


@pytest.mark.parametrize("value", ["lots", "10/w", "0/m", "/m"])
def test_a_malformed_rate_stops_the_start(tmp_path, value):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "RATE_LIMIT_LOGIN": value},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert f"RATE_LIMIT_LOGIN={value!r}" in result.stderr
