"""Give every request an id and make it, the client IP and the user the audit context."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from ebhxh.audit.context import bind_request, clean_request_id, client_ip, new_request_id, unbind

REQUEST_ID_HEADER = "X-Request-ID"


class RequestContextMiddleware:
    """Needs to run after AuthenticationMiddleware; sets the X-Request-ID response header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Reuse a caller's id (a proxy or a vendor's client) only when it is a harmless token.
        request_id = clean_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        token = bind_request(request, request_id=request_id, ip=client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            unbind(token)
        response[REQUEST_ID_HEADER] = request_id
        return response
