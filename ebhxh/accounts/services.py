"""Every write to accounts goes through these functions, each with its audit event."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from ebhxh.accounts.models import AGENCY_ROLES, SYSTEM_ROLES, UNIT_ROLES, Role, User, UserRole
from ebhxh.audit.services import record_event
from ebhxh.catalog.models import Agency
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
