"""Pages a person uses on their own account: choosing a password through a one-time link,
asking for such a link ("Quên mật khẩu"), and turning the optional second factor on or off."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django_otp import match_token

from ebhxh.accounts import services
from ebhxh.accounts.forms import PasswordResetRequestForm, TokenForm
from ebhxh.accounts.models import User
from ebhxh.notify.ratelimits import limit


class SetPasswordView(PasswordResetConfirmView):
    """Django's reset confirmation (the token moves from the URL to the session before the form
    shows), with the password saved and audited by the accounts service."""

    template_name = "accounts/set_password.html"
    success_url = reverse_lazy("accounts:login")

    def get_user(self, uidb64: str) -> Any:
        user = super().get_user(uidb64)
        # A locked account keeps its stale links dead, even though its password did not change.
        return user if user is not None and user.is_active else None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().dispatch(request, *args, **kwargs)
        if not self.validlink and not isinstance(response, HttpResponseRedirect):
            services.record_set_password_link_invalid(self.user)
        return response

    def form_valid(self, form: Any) -> HttpResponse:
        assert isinstance(self.user, User)  # form_valid runs only for a valid link
        services.set_password_from_link(self.user, form.cleaned_data["new_password1"])
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        messages.success(self.request, _("Đã đặt mật khẩu. Mời bạn đăng nhập."))
        return HttpResponseRedirect(self.get_success_url())


set_password_view = SetPasswordView.as_view()


# The "code" limit covers every form that e-mails a secret to an address (one-time codes, links):
# it keeps the form from being used to flood someone's mailbox.
@limit("code", field="identifier")
def password_reset_view(request: HttpRequest) -> HttpResponse:
    """Ask for a set-password link; the answer is the same whether or not the account exists."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.request_password_reset(form.cleaned_data["identifier"])
        return redirect("accounts:password_reset_sent")
    return render(request, "accounts/password_reset.html", {"form": form})


def password_reset_sent_view(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_reset_sent.html")


@login_required
def two_factor_view(request: HttpRequest) -> HttpResponse:
    """Show whether the second factor is on; turn it off with a current code (when optional)."""
    user = request.user
    assert isinstance(user, User)
    enabled = services.totp_enabled(user)
    optional = services.totp_optional(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST":
        if not optional:
            raise PermissionDenied
        if not enabled:
            return redirect("accounts:two_factor")
        if form.is_valid():
            if match_token(user, form.cleaned_data["token"]) is not None:
                services.disable_totp(user, actor=user)
                messages.success(request, _("Đã tắt xác thực hai lớp."))
                return redirect("accounts:two_factor")
            form.add_error("token", _("Mã xác thực không đúng hoặc đã hết hạn."))
    here = reverse("accounts:two_factor")
    context = {
        "enabled": enabled,
        "optional": optional,
        "form": form,
        "enrol_url": f"{reverse('accounts:otp')}?next={here}",
    }
    return render(request, "accounts/two_factor.html", context)
