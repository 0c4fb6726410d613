"""Unit members (thành viên đơn vị) and the unit's API tokens, managed by the unit's own admins.

Only an active unit admin of a unit reaches these pages (403 for anyone else); a member or token
of another unit is a 404, so its existence does not show.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from ebhxh.accounts import services
from ebhxh.accounts.forms import ApiTokenForm, InviteMemberForm, MemberRolesForm
from ebhxh.accounts.models import ApiToken, User
from ebhxh.units.models import Unit


def _unit_admin(request: HttpRequest) -> tuple[User, Unit]:
    user = request.user
    if not services.is_unit_admin(user):
        raise PermissionDenied
    assert isinstance(user, User) and user.unit is not None
    return user, user.unit


def _get_member_for_admin(request: HttpRequest, pk: int) -> tuple[User, User]:
    admin, unit = _unit_admin(request)
    member = get_object_or_404(User, pk=pk, unit=unit, kind=User.Kind.UNIT)
    return admin, member


def _get_token_for_admin(request: HttpRequest, pk: int) -> tuple[User, ApiToken]:
    admin, unit = _unit_admin(request)
    return admin, get_object_or_404(ApiToken, pk=pk, unit=unit)


def _error_messages(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@login_required
def member_list(request: HttpRequest) -> HttpResponse:
    admin, unit = _unit_admin(request)
    members = (
        User.objects.filter(unit=unit, kind=User.Kind.UNIT)
        .prefetch_related("roles")
        .annotate(has_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
        .order_by("-is_unit_account", "-is_active", "full_name", "username")
    )
    return render(
        request, "accounts/members/list.html", {"unit": unit, "members": members, "me": admin}
    )


@login_required
def member_invite(request: HttpRequest) -> HttpResponse:
    admin, unit = _unit_admin(request)
    form = InviteMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.invite_member(
                actor=admin,
                full_name=form.cleaned_data["full_name"],
                email=form.cleaned_data["email"],
                roles=form.cleaned_data["roles"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _(
                    "Đã mời %(name)s. Tên đăng nhập: %(username)s. "
                    "Liên kết đặt mật khẩu đã được gửi đến %(email)s."
                )
                % {"name": member.full_name, "username": member.username, "email": member.email},
            )
            return redirect("accounts:members")
    return render(request, "accounts/members/invite.html", {"unit": unit, "form": form})


@login_required
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A member's account; POST changes their roles."""
    admin, member = _get_member_for_admin(request, pk)
    initial = {"roles": sorted(member.role_set)}
    form = MemberRolesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_member_roles(actor=admin, member=member, roles=form.cleaned_data["roles"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Đã cập nhật vai trò của %(name)s.") % {"name": member})
            return redirect("accounts:members")
    context = {
        "unit": admin.unit,
        "member": member,
        "form": form,
        "me": admin,
        "has_totp": services.totp_enabled(member),
    }
    return render(request, "accounts/members/detail.html", context)


@require_POST
@login_required
def member_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    admin, member = _get_member_for_admin(request, pk)
    try:
        services.deactivate_member(actor=admin, member=member)
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, _("Đã khóa tài khoản của %(name)s.") % {"name": member})
    return redirect("accounts:member_detail", pk=member.pk)


@require_POST
@login_required
def member_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    admin, member = _get_member_for_admin(request, pk)
    services.reactivate_member(actor=admin, member=member)
    messages.success(request, _("Đã mở khóa tài khoản của %(name)s.") % {"name": member})
    return redirect("accounts:member_detail", pk=member.pk)


@require_POST
@login_required
def member_resend(request: HttpRequest, pk: int) -> HttpResponse:
    admin, member = _get_member_for_admin(request, pk)
    try:
        services.resend_invitation(actor=admin, member=member)
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        messages.success(
            request,
            _("Đã gửi lại lời mời đến %(email)s.") % {"email": member.email},
        )
    return redirect("accounts:member_detail", pk=member.pk)


@never_cache
@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The unit's API tokens; POST creates one and shows its value, this once only."""
    admin, unit = _unit_admin(request)
    form = ApiTokenForm(request.POST or None)
    created: tuple[ApiToken, str] | None = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["validity"]
        expires_at = timezone.now() + dt.timedelta(days=int(days)) if days else None
        try:
            created = services.create_api_token(
                actor=admin, unit=unit, name=form.cleaned_data["name"], expires_at=expires_at
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            form = ApiTokenForm()
    tokens = ApiToken.objects.filter(unit=unit).select_related("created_by")
    context = {
        "unit": unit,
        "form": form,
        "tokens": tokens,
        "new_token": created[0] if created else None,
        "new_value": created[1] if created else "",
        "me_url": f"{settings.SITE_URL}/api/v1/me",
    }
    # Rendered, not redirected, so the value never sits in the session or a message cookie.
    return render(request, "accounts/members/api_tokens.html", context)


@require_POST
@login_required
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    admin, token = _get_token_for_admin(request, pk)
    services.revoke_api_token(actor=admin, token=token)
    messages.success(request, _("Đã thu hồi token %(name)s.") % {"name": token})
    return redirect("accounts:api_tokens")
