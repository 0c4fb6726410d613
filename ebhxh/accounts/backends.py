"""Log in with a username, an e-mail address, or, for a unit's own account, its mã đơn vị or mã số thuế."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import Q
from django.http import HttpRequest

from ebhxh.accounts.models import User


def find_user(identifier: str) -> User | None:
    ident = identifier.strip()
    if not ident:
        return None
    # A unit's own account answers to its unit code (7 characters) and its tax code.
    unit_account = (
        User.objects.filter(is_unit_account=True)
        .filter(Q(unit__code__iexact=ident) | Q(unit__tax_code=ident))
        .first()
    )
    if unit_account is not None:
        return unit_account
    return User.objects.filter(
        Q(username__iexact=ident) | Q(email__iexact=ident) & ~Q(email="")
    ).first()


class LoginIdentifierBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = find_user(username)
        if user is None:
            # Spend the same time as a real check so timing does not reveal which identifiers exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
