"""Named rate limits (django-ratelimit counters in the shared cache) and the page shown past them.

``settings.RATE_LIMITS`` names each limit and its rules: ``"ip"`` counts per client address (the
one the audit trail records, so AUDIT_TRUSTED_PROXIES applies; IPv6 per /64), ``"identifier"``
per submitted identifier (a login name, an e-mail address), case-insensitively. A view is
limited with the decorator::

    @limit("login", field="username")
    def login_view(request): ...

or, when the identifier does not come from a form field, with ``check`` and ``too_many_requests``.
Put the decorator outermost (above ``transaction.atomic``): with the database cache, counting
inside a transaction that rolls back would forget the attempt.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage

from ebhxh.audit.context import client_ip
from ebhxh.audit.services import record_event

__all__ = ["Exceeded", "check", "limit", "rate_limited", "too_many_requests"]

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])

RULES = ("ip", "identifier")


@dataclass(frozen=True)
class Exceeded:
    """A limit that a request went past, and when the client may try again."""

    limit: str
    rule: str
    rate: str
    retry_after: int  # seconds
    key: str  # hashed: the identifier itself stays out of the cache keys


def _rules(name: str) -> dict[str, str]:
    limits: dict[str, dict[str, str]] = getattr(settings, "RATE_LIMITS", {})
    if name not in limits:
        raise ImproperlyConfigured(f"no rate limit named {name!r} in settings.RATE_LIMITS")
    rules = limits[name]
    unknown = set(rules) - set(RULES)
    if unknown:
        raise ImproperlyConfigured(f"rate limit {name!r}: unknown rules {sorted(unknown)}")
    return rules


def _ip_key(request: HttpRequest) -> str:
    ip = client_ip(request)
    if not ip:
        return "unknown"
    address = ipaddress.ip_address(ip)
    if address.version == 6:
        # One subscriber usually holds a whole /64; counting per address would be no limit.
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(address)


def check(
    name: str,
    request: HttpRequest,
    *,
    identifier: str | None = None,
    increment: bool = True,
) -> Exceeded | None:
    """Count this request against the named limit; return the rule it exceeds, if any."""
    exceeded: list[Exceeded] = []
    for rule, rate in _rules(name).items():
        if rule == "ip":
            value = "ip:" + _ip_key(request)
        else:
            ident = (identifier or "").strip().casefold()
            if not ident:
                continue  # nothing to count by (an empty form): the IP rule still applies
            value = "id:" + ident
        usage = get_usage(
            request,
            group=f"ebhxh.{name}.{rule}",
            key=lambda _group, _request, value=value: value,
            rate=rate,
            increment=increment,
        )
        if usage is not None and usage["should_limit"]:
            exceeded.append(
                Exceeded(
                    limit=name,
                    rule=rule,
                    rate=rate,
                    retry_after=max(1, int(usage["time_left"])),
                    key=hashlib.sha256(value.encode()).hexdigest()[:32],
                )
            )
    return max(exceeded, key=lambda e: e.retry_after) if exceeded else None


def _audit_once(request: HttpRequest, exceeded: Exceeded) -> None:
    # One event per limit, key and window: a flood of refused requests must not flood the trail.
    window_end = int(time.time()) + exceeded.retry_after
    marker = f"ebhxh:rl-audit:{exceeded.limit}:{exceeded.rule}:{exceeded.key}:{window_end}"
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    if cache.add(marker, 1, timeout=exceeded.retry_after + 5):
        record_event(
            "security:rate_limit:exceed",
            request=request,
            data={
                "limit": exceeded.limit,
                "rule": exceeded.rule,
                "rate": exceeded.rate,
                "path": request.path[:200],
                "retry_after": exceeded.retry_after,
            },
        )


def too_many_requests(request: HttpRequest, exceeded: Exceeded) -> HttpResponse:
    """The 429 page (Vietnamese unless the visitor chose English), recorded in the audit trail."""
    _audit_once(request, exceeded)
    response = render(
        request,
        "notify/rate_limited.html",
        {"retry_minutes": math.ceil(exceeded.retry_after / 60), "limit": exceeded.limit},
        status=429,
    )
    response["Retry-After"] = str(exceeded.retry_after)
    return response


def limit(
    name: str, *, field: str | None = None, methods: Iterable[str] = ("POST",)
) -> Callable[[ViewFunc], ViewFunc]:
    """Limit a view: requests of these methods count; past the limit they get the 429 page.

    ``field`` names the POST field holding the identifier for an "identifier" rule.
    """
    _rules(name)  # fail at import time on a misspelt name
    counted = {m.upper() for m in methods}

    def decorator(view: ViewFunc) -> ViewFunc:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in counted:
                identifier = request.POST.get(field, "") if field else None
                exceeded = check(name, request, identifier=identifier)
                if exceeded is not None:
                    return too_many_requests(request, exceeded)
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


# The same decorator under its longer name.
rate_limited = limit
