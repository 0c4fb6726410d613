"""Keep a logged-in user who still owes a second factor on the verification pages."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from ebhxh.accounts.services import needs_second_factor

_NO_SECOND_FACTOR = "ebhxh_no_second_factor"
_OPEN_PREFIXES = ("/static/", "/i18n/", "/accounts/otp/", "/accounts/logout/")


class OfficerSecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()  # type: ignore[attr-defined,union-attr]  # set by django_otp's middleware
            and not request.path.startswith(_OPEN_PREFIXES)
            and not request.session.get(_NO_SECOND_FACTOR)
        ):
            if not needs_second_factor(user):  # type: ignore[arg-type]
                # Enrolling later logs the device in, so remembering "not needed" is safe.
                request.session[_NO_SECOND_FACTOR] = True
                return self.get_response(request)
            return redirect(f"{reverse('accounts:otp')}?next={request.get_full_path()}")
        return self.get_response(request)
