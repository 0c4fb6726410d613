from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ebhxh.web.demo import demo_totp_key


class Command(BaseCommand):
    help = (
        "In mã xác thực hai lớp hiện tại của một cán bộ minh họa (chỉ dữ liệu minh họa). "
        "Print the current TOTP code of a demo officer (demo data only)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        key = demo_totp_key(username)
        device = TOTPDevice.objects.filter(user__username=username, key=key, confirmed=True).first()
        if device is None:
            raise CommandError(f"{username}: không phải tài khoản minh họa / not a demo account")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
