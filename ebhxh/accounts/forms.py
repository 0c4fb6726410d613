from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Tên đăng nhập, email, mã đơn vị hoặc mã số thuế"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _(
            "Thông tin đăng nhập không đúng. Kiểm tra lại tên đăng nhập (hoặc mã đơn vị, mã số thuế) và mật khẩu."
        ),
        "inactive": _("Tài khoản này đã bị khóa."),
    }


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Mã xác thực 6 chữ số"),
        max_length=8,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _member_role_choices() -> list[tuple[str, Any]]:
    from ebhxh.accounts.models import Role

    return [(r.value, r.label) for r in (Role.PREPARER, Role.SIGNER, Role.UNIT_ADMIN)]


class PasswordResetRequestForm(forms.Form):
    identifier = forms.CharField(
        label=_("Email, mã đơn vị hoặc mã số thuế"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )


class MemberRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Vai trò"),
        choices=_member_role_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Chọn ít nhất một vai trò.")},
    )


class InviteMemberForm(MemberRolesForm):
    full_name = forms.CharField(label=_("Họ và tên"), max_length=200)
    email = forms.EmailField(label=_("Email"), max_length=254)

    field_order = ["full_name", "email", "roles"]


class ApiTokenForm(forms.Form):
    VALIDITY_CHOICES = [
        ("", _("Không hết hạn")),
        ("30", _("30 ngày")),
        ("90", _("90 ngày")),
        ("365", _("1 năm")),
    ]

    name = forms.CharField(
        label=_("Tên token"),
        max_length=100,
        help_text=_("Phần mềm hoặc mục đích dùng token, ví dụ: phần mềm tiền lương."),
    )
    validity = forms.ChoiceField(label=_("Thời hạn"), choices=VALIDITY_CHOICES, required=False)
