"""Who is acting, under which request id and from which address, kept in a contextvar.

The middleware binds a frame per request; commands and tasks use ``acting_as``.
``services.record_event`` falls back to ``current()`` for what its caller leaves out.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from ebhxh.audit.chain import normalise_ip

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class AuditContext:
    actor: Any = None  # an authenticated user, or None
    request_id: str = ""
    ip: str | None = None


@dataclass(frozen=True)
class _Frame:
    # Read the actor lazily: a login or logout view changes request.user mid-request.
    actor: Callable[[], Any]
    request_id: str
    ip: str | None


_frame: ContextVar[_Frame | None] = ContextVar("ebhxh_audit_context", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str | None:
    """The value if it is a sane token (≤ 64 of [A-Za-z0-9._-]), else None."""
    if value and _REQUEST_ID.fullmatch(value):
        return value
    return None


def authenticated(user: Any) -> Any:
    """The user if it is a real, logged-in account (not AnonymousUser), else None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or the X-Forwarded-For entry added by the outermost of N trusted proxies."""
    remote = normalise_ip(request.META.get("REMOTE_ADDR"))
    trusted = int(getattr(settings, "AUDIT_TRUSTED_PROXIES", 0) or 0)
    if trusted > 0:
        # Each trusted proxy appends the address it saw, so the client is N entries from the
        # right; anything further left was sent by the client and may be forged.
        hops = [
            h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()
        ]
        if hops:
            candidate = normalise_ip(hops[-trusted] if len(hops) >= trusted else hops[0])
            if candidate:
                return candidate
    return remote


def current() -> AuditContext:
    """The acting user, request id and IP of the current request, command or task."""
    frame = _frame.get()
    if frame is None:
        return AuditContext()
    return AuditContext(
        actor=authenticated(frame.actor()), request_id=frame.request_id, ip=frame.ip
    )


def bind_request(request: HttpRequest, *, request_id: str, ip: str | None) -> Token[_Frame | None]:
    """Make ``request`` the current context; pass the token to ``unbind``."""
    return _frame.set(
        _Frame(actor=lambda: getattr(request, "user", None), request_id=request_id, ip=ip)
    )


def unbind(token: Token[_Frame | None]) -> None:
    _frame.reset(token)


def _no_actor() -> None:
    return None


@contextmanager
def acting_as(
    actor: Any = None, request_id: str | None = None, ip: str | None = None
) -> Iterator[AuditContext]:
    """Set the audit context for a command or task; what is not given is inherited or new."""
    outer = _frame.get()
    if request_id is not None and clean_request_id(request_id) is None:
        raise ValueError(f"request id {request_id!r} is not a token of ≤ 64 [A-Za-z0-9._-]")
    if ip is not None and normalise_ip(ip) is None:
        raise ValueError(f"{ip!r} is not an IP address")
    if actor is not None:
        actor_getter: Callable[[], Any] = lambda: actor  # noqa: E731
    else:
        actor_getter = outer.actor if outer is not None else _no_actor
    frame = _Frame(
        actor=actor_getter,
        request_id=request_id or (outer.request_id if outer else "") or new_request_id(),
        ip=normalise_ip(ip) if ip is not None else (outer.ip if outer else None),
    )
    token = _frame.set(frame)
    try:
        yield current()
    finally:
        _frame.reset(token)
