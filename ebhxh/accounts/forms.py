from __future__ import annotations

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
