from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from ebhxh.accounts import services
from ebhxh.accounts.forms import LoginForm, TokenForm
from ebhxh.notify.ratelimits import limit


def _next_url(request: HttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return "/"


@limit("login", field="username")
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user = form.get_user()
            login(request, user)
            services.record_login(user)
            return redirect(_next_url(request))
        services.record_login_failed(request.POST.get("username", ""))
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request)})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.record_logout(request.user)  # type: ignore[arg-type]
    logout(request)
    messages.info(request, _("Bạn đã đăng xuất."))
    return redirect("web:home")


def _qr_svg(uri: str) -> str:
    img = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buf = io.BytesIO()
    img.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


@login_required
def otp_view(request: HttpRequest) -> HttpResponse:
    """Verify a TOTP code, or enrol a first device when the user has none."""
    user = request.user
    has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    form = TokenForm(request.POST or None)
    if has_device:
        if request.method == "POST" and form.is_valid():
            device = match_token(user, form.cleaned_data["token"])
            if device is not None:
                otp_login(request, device)
                return redirect(_next_url(request))
            form.add_error("token", _("Mã xác thực không đúng hoặc đã hết hạn."))
        return render(
            request, "accounts/otp_verify.html", {"form": form, "next": _next_url(request)}
        )

    device = services.start_totp_enrolment(user)  # type: ignore[arg-type]
    if request.method == "POST" and form.is_valid():
        if services.confirm_totp_enrolment(user, device, form.cleaned_data["token"]):  # type: ignore[arg-type]
            otp_login(request, device)
            messages.success(request, _("Đã bật xác thực hai lớp."))
            return redirect(_next_url(request))
        form.add_error("token", _("Mã xác thực không đúng hoặc đã hết hạn."))
    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "secret": secret,
        "qr": _qr_svg(device.config_url),
        "next": _next_url(request),
    }
    return render(request, "accounts/otp_enrol.html", context)
