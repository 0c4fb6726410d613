"""Every write to accounts goes through these functions, each with its audit event."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from ebhxh.accounts.models import (
    AGENCY_ROLES,
    SYSTEM_ROLES,
    UNIT_ROLES,
    ApiToken,
    Role,
    User,
    UserRole,
)
from ebhxh.audit.services import record_event
from ebhxh.catalog.models import Agency, IVanProvider
from ebhxh.units.models import Unit

_ROLES_BY_KIND: dict[str, frozenset[Role]] = {
    User.Kind.UNIT: UNIT_ROLES,
    User.Kind.AGENCY: AGENCY_ROLES,
    User.Kind.SYSTEM: SYSTEM_ROLES,
}


def _check_roles(kind: str, roles: Iterable[str]) -> list[str]:
    allowed = _ROLES_BY_KIND[kind]
    roles = list(dict.fromkeys(roles))
    wrong = [r for r in roles if r not in allowed]
    if wrong:
        raise ValidationError(
            _("Vai trò %(roles)s không dùng được cho loại tài khoản này."),
            params={"roles": ", ".join(wrong)},
        )
    return roles


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str | None,
    kind: str,
    full_name: str = "",
    email: str = "",
    phone: str = "",
    unit: Unit | None = None,
    agency: Agency | None = None,
    roles: Iterable[str] = (),
    is_unit_account: bool = False,
    actor: User | None = None,
) -> User:
    """Create an account of any kind with its roles."""
    role_list = _check_roles(kind, roles)
    user = User(
        username=username,
        kind=kind,
        full_name=full_name,
        email=email.strip().lower(),
        phone=phone,
        unit=unit,
        agency=agency,
        is_unit_account=is_unit_account,
        is_staff=kind == User.Kind.SYSTEM,
        is_superuser=kind == User.Kind.SYSTEM and Role.SYSADMIN in role_list,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    UserRole.objects.bulk_create([UserRole(user=user, role=r) for r in role_list])
    record_event(
        "user:create",
        actor=actor,
        subject=user,
        after={
            "username": user.username,
            "kind": kind,
            "unit": unit.pk if unit else None,
            "agency": agency.code if agency else None,
            "roles": role_list,
        },
    )
    return user


@transaction.atomic
def add_role(user: User, role: str, *, actor: User | None = None) -> None:
    """Give a user one more role of their kind."""
    _check_roles(user.kind, [role])
    _, created = UserRole.objects.get_or_create(user=user, role=role)
    user.__dict__.pop("_role_cache", None)
    if created:
        record_event("user:role:add", actor=actor, subject=user, data={"role": role})


@transaction.atomic
def remove_role(user: User, role: str, *, actor: User | None = None) -> None:
    """Take a role away from a user."""
    deleted, _n = UserRole.objects.filter(user=user, role=role).delete()
    user.__dict__.pop("_role_cache", None)
    if deleted:
        record_event("user:role:remove", actor=actor, subject=user, data={"role": role})


@transaction.atomic
def start_totp_enrolment(user: User) -> TOTPDevice:
    """Return the user's unconfirmed TOTP device, creating one with a fresh secret if needed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="ebhxh", confirmed=False)
    return device


@transaction.atomic
def confirm_totp_enrolment(user: User, device: TOTPDevice, token: str) -> bool:
    """Confirm a TOTP device when the token matches; the first confirmed device replaces none."""
    if device.user_id != user.pk or device.confirmed or not device.verify_token(token.strip()):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    record_event("user:totp:enrol", actor=user, subject=user, data={"device": device.pk})
    return True


def record_login(user: User) -> None:
    record_event("user:login", actor=user, subject=user)


def record_login_failed(identifier: str) -> None:
    record_event("user:login_failed", data={"identifier": identifier[:150]})


def record_logout(user: User) -> None:
    record_event("user:logout", actor=user, subject=user)


def needs_second_factor(user: User) -> bool:
    """Officers always need a second factor when the setting says so; others once they enrolled one."""
    from django.conf import settings

    if user.is_officer and settings.OFFICER_TOTP_REQUIRED:
        return True
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# --- Set-password links and password reset ---------------------------------------------------------

SET_PASSWORD_REASONS = frozenset({"account_created", "member_invited", "password_reset"})


def _email_address(user: User) -> str:
    # A unit's own account may have no address of its own: its mail goes to the unit's contact.
    if user.email:
        return user.email
    if user.is_unit_account and user.unit is not None:
        return user.unit.contact_email
    return ""


def _set_password_url(user: User) -> str:
    # Django's reset tokens hash the password and last login: setting a password or logging in
    # spends the link, and it expires after PASSWORD_RESET_TIMEOUT.
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:set_password", kwargs={"uidb64": uidb64, "token": token})
    return str(settings.SITE_URL) + path


@transaction.atomic
def send_set_password_link(user: User, *, reason: str, actor: User | None = None) -> None:
    """E-mail a user a one-time link to choose a password; ``reason`` chooses the wording."""
    from ebhxh.notify import mail

    if reason not in SET_PASSWORD_REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    to = _email_address(user)
    if not to:
        raise ValidationError(_("Tài khoản này chưa có email để gửi liên kết đặt mật khẩu."))
    unit = user.unit
    # Plain values only (no lazy strings): the message is rendered in Vietnamese and in English.
    context = {
        "reason": reason,
        "full_name": user.full_name or user.username,
        "username": user.username,
        "is_unit_account": user.is_unit_account,
        "unit_name": unit.name if unit else "",
        "unit_code": (unit.code or unit.tax_code) if unit else "",
        "roles": sorted(user.role_set),
        "invited_by": str(actor) if actor is not None else "",
        "link": _set_password_url(user),
        "valid_days": max(1, int(settings.PASSWORD_RESET_TIMEOUT) // 86400),
        "site_url": settings.SITE_URL,
    }
    template = "member_invited" if reason == "member_invited" else "set_password"
    mail.send(
        template,
        [to],
        context,
        language=user.preferred_language or "vi",
        purpose=f"accounts:{reason}",
        unit=unit,
    )
    record_event("user:password:link_send", actor=actor, subject=user, data={"reason": reason})


@transaction.atomic
def set_password_from_link(user: User, raw_password: str) -> None:
    """Save the password a user chose through a one-time link (which this spends)."""
    user.set_password(raw_password)
    user.save(update_fields=["password"])
    record_event("user:password:change", actor=user, subject=user, data={"via": "link"})


def record_set_password_link_invalid(user: User | None) -> None:
    record_event("user:password:link_invalid", subject=user, data={"user_known": user is not None})


@transaction.atomic
def request_password_reset(identifier: str) -> bool:
    """Send a set-password link to the account an identifier names; the caller must not tell
    the requester whether it did (the return value is for tests and the audit only)."""
    from ebhxh.accounts.backends import find_user

    ident = identifier.strip()[:150]
    user = find_user(ident) if ident else None
    sent = user is not None and user.is_active and bool(_email_address(user))
    record_event(
        "user:password:reset_request", subject=user, data={"identifier": ident, "sent": sent}
    )
    if sent:
        assert user is not None
        send_set_password_link(user, reason="password_reset")
    return sent


# --- Unit members ----------------------------------------------------------------------------------

MEMBER_ROLES = (Role.PREPARER, Role.SIGNER, Role.UNIT_ADMIN)


def is_unit_admin(user: object, unit_id: int | None = None) -> bool:
    """Whether a user administers the members of a unit (of any unit when ``unit_id`` is None)."""
    return (
        isinstance(user, User)
        and user.is_active
        and user.kind == User.Kind.UNIT
        and user.unit_id is not None
        and (unit_id is None or user.unit_id == unit_id)
        and user.has_role(Role.UNIT_ADMIN)
    )


def _require_unit_admin(actor: User, unit_id: int | None) -> None:
    if unit_id is None or not is_unit_admin(actor, unit_id):
        raise PermissionDenied


def _lock_unit(unit_id: int) -> None:
    # Serialises the member changes of one unit, so two admins cannot both remove the last admin
    # (PostgreSQL row lock; SQLite already holds the write lock from BEGIN IMMEDIATE).
    Unit.objects.select_for_update().filter(pk=unit_id).values_list("pk", flat=True).first()


def _member_roles(roles: Iterable[str]) -> list[str]:
    role_list = _check_roles(User.Kind.UNIT, roles)
    if not role_list:
        raise ValidationError({"roles": _("Chọn ít nhất một vai trò.")})
    return role_list


def _has_other_active_admin(member: User) -> bool:
    assert member.unit_id is not None
    return (
        User.objects.filter(unit_id=member.unit_id, is_active=True, roles__role=Role.UNIT_ADMIN)
        .exclude(pk=member.pk)
        .exists()
    )


def _last_admin_error() -> ValidationError:
    return ValidationError(
        _("Đơn vị phải còn ít nhất một quản trị đơn vị đang hoạt động."), code="last_admin"
    )


def _member_username(unit: Unit) -> str:
    base = (unit.code or unit.tax_code).lower()
    taken = {
        name.lower()
        for name in User.objects.filter(username__istartswith=f"{base}.").values_list(
            "username", flat=True
        )
    }
    n = 1
    while f"{base}.{n:02d}" in taken:
        n += 1
    return f"{base}.{n:02d}"


@transaction.atomic
def invite_member(*, actor: User, full_name: str, email: str, roles: Iterable[str]) -> User:
    """Create a member of the actor's unit without a password and e-mail them a set-password link."""
    unit = actor.unit
    _require_unit_admin(actor, actor.unit_id)
    assert unit is not None
    role_list = _member_roles(roles)
    full_name, email = full_name.strip(), email.strip().lower()
    if not full_name:
        raise ValidationError({"full_name": _("Nhập họ và tên.")})
    if not email:
        raise ValidationError({"email": _("Nhập email để gửi lời mời.")})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("Email này đã được dùng cho một tài khoản khác.")})
    _lock_unit(unit.pk)
    member = create_user(
        username=_member_username(unit),
        password=None,
        kind=User.Kind.UNIT,
        full_name=full_name,
        email=email,
        unit=unit,
        roles=role_list,
        actor=actor,
    )
    record_event(
        "user:invite", actor=actor, subject=member, data={"unit": unit.pk, "roles": role_list}
    )
    send_set_password_link(member, reason="member_invited", actor=actor)
    return member


@transaction.atomic
def resend_invitation(*, actor: User, member: User) -> None:
    """Send a member who has not chosen a password yet a fresh set-password link."""
    _require_unit_admin(actor, member.unit_id)
    if not member.is_active:
        raise ValidationError(_("Tài khoản này đang bị khóa."))
    if member.has_usable_password():
        raise ValidationError(_("Thành viên này đã đặt mật khẩu."))
    record_event("user:invite:resend", actor=actor, subject=member)
    send_set_password_link(member, reason="member_invited", actor=actor)


@transaction.atomic
def set_member_roles(*, actor: User, member: User, roles: Iterable[str]) -> None:
    """Give a member of the actor's unit exactly these unit roles, keeping an active admin."""
    _require_unit_admin(actor, member.unit_id)
    assert member.unit_id is not None
    new = set(_member_roles(roles))
    _lock_unit(member.unit_id)
    member.__dict__.pop("_role_cache", None)
    current = set(member.role_set)
    losing_admin = Role.UNIT_ADMIN in current and Role.UNIT_ADMIN not in new
    if losing_admin and member.is_active and not _has_other_active_admin(member):
        raise _last_admin_error()
    for role in sorted(new - current):
        add_role(member, role, actor=actor)
    for role in sorted(current - new):
        remove_role(member, role, actor=actor)


@transaction.atomic
def deactivate_member(*, actor: User, member: User) -> None:
    """Lock a member out of the unit (not oneself, not the unit's own account, not the last admin)."""
    _require_unit_admin(actor, member.unit_id)
    assert member.unit_id is not None
    if member.pk == actor.pk:
        raise ValidationError(_("Bạn không thể tự khóa tài khoản của mình."))
    if member.is_unit_account:
        raise ValidationError(_("Không thể khóa tài khoản của đơn vị."))
    _lock_unit(member.unit_id)
    if not member.is_active:
        return
    if member.has_role(Role.UNIT_ADMIN) and not _has_other_active_admin(member):
        raise _last_admin_error()
    member.is_active = False
    member.save(update_fields=["is_active"])
    record_event(
        "user:deactivate",
        actor=actor,
        subject=member,
        before={"is_active": True},
        after={"is_active": False},
    )


@transaction.atomic
def reactivate_member(*, actor: User, member: User) -> None:
    """Let a locked member of the actor's unit log in again."""
    _require_unit_admin(actor, member.unit_id)
    if member.is_active:
        return
    member.is_active = True
    member.save(update_fields=["is_active"])
    record_event(
        "user:reactivate",
        actor=actor,
        subject=member,
        before={"is_active": False},
        after={"is_active": True},
    )


# --- Optional second factor ------------------------------------------------------------------------


def totp_enabled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_optional(user: User) -> bool:
    """Whether a user may turn the second factor off (everyone but officers, when required)."""
    return not (user.is_officer and settings.OFFICER_TOTP_REQUIRED)


@transaction.atomic
def disable_totp(user: User, *, actor: User) -> None:
    """Remove a user's TOTP devices, so that login asks for the password only."""
    if not totp_optional(user):
        raise ValidationError(_("Tài khoản cán bộ cơ quan BHXH phải dùng xác thực hai lớp."))
    deleted, _n = TOTPDevice.objects.filter(user=user).delete()
    if deleted:
        record_event("user:totp:disable", actor=actor, subject=user)


# --- API tokens ------------------------------------------------------------------------------------

API_TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=1)


def hash_api_token(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@transaction.atomic
def create_api_token(
    *,
    actor: User,
    unit: Unit,
    name: str,
    expires_at: dt.datetime | None = None,
    value: str | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token of a unit; return it with its value, which is shown once, never stored.

    ``value`` is for the demo seed only; real tokens are 32 random bytes.
    """
    _require_unit_admin(actor, unit.pk)
    return _new_token(actor, {"unit": unit}, name, expires_at, value)


def create_ivan_token(
    *,
    actor: User,
    ivan: IVanProvider,
    name: str,
    expires_at: dt.datetime | None = None,
    value: str | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token of an I-VAN (a system administrator's act): it files dossiers for the
    units that chose this I-VAN in their registration, and only for them."""
    if not actor.has_role(Role.SYSADMIN):
        raise PermissionDenied
    return _new_token(actor, {"ivan": ivan}, name, expires_at, value)


def _new_token(
    actor: User,
    owner: dict[str, Any],
    name: str,
    expires_at: dt.datetime | None,
    value: str | None,
) -> tuple[ApiToken, str]:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Đặt tên cho token.")})
    value = value or secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        **owner,
        name=name[:100],
        prefix=value[:8],
        token_hash=hash_api_token(value),
        created_by=actor,
        expires_at=expires_at,
    )
    record_event(
        "unit:api_token:create",
        actor=actor,
        subject=token,
        data={
            **{key: obj.pk for key, obj in owner.items()},
            "name": token.name,
            "prefix": token.prefix,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, value


@transaction.atomic
def revoke_api_token(*, actor: User, token: ApiToken) -> None:
    """Revoke an API token of the actor's unit; software using it gets 401 from then on."""
    _require_unit_admin(actor, token.unit_id)
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        return
    token.revoked_at = locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    record_event(
        "unit:api_token:revoke",
        actor=actor,
        subject=locked,
        data={"unit": locked.unit_id, "prefix": locked.prefix},
    )


def use_api_token(value: str) -> ApiToken | None:
    """The usable token with this value (its last use stamped at most once a minute), else None."""
    if not value or len(value) > 256:
        return None
    token = (
        ApiToken.objects.select_related("unit", "ivan")
        .filter(token_hash=hash_api_token(value))
        .first()
    )
    now = timezone.now()
    if token is None or not token.is_usable(now):
        return None
    stale = now - API_TOKEN_TOUCH_INTERVAL
    if token.last_used_at is None or token.last_used_at <= stale:
        # A usage stamp like last_login, not an audited change; throttled so that busy software
        # does not write on every call.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token
