"""`ebhxh create_ivan_token CODE NAME`: an API token for an I-VAN (printed once)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from ebhxh.accounts.models import Role, User
from ebhxh.accounts.services import create_ivan_token
from ebhxh.catalog.models import IVanProvider


class Command(BaseCommand):
    help = (
        "Tạo API token cho một I-VAN: I-VAN nộp hồ sơ thay các đơn vị đã chọn I-VAN này khi đăng "
        "ký giao dịch điện tử. Token chỉ hiện một lần. / Create an API token for an I-VAN: it files "
        "dossiers for the units that chose this I-VAN in their registration. Shown once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="Mã I-VAN trong danh mục (ví dụ 00040) / I-VAN code")
        parser.add_argument("name", help="Tên token / the token's name")
        parser.add_argument(
            "--by",
            required=True,
            metavar="USERNAME",
            help="Quản trị hệ thống tạo token / the system administrator creating it",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ivan = (
            IVanProvider.objects.in_force(timezone.localdate()).filter(code=options["code"]).first()
        )
        if ivan is None:
            raise CommandError(f"Không có I-VAN mã {options['code']} / no I-VAN {options['code']}")
        actor = User.objects.filter(username=options["by"], is_active=True).first()
        if actor is None or not actor.has_role(Role.SYSADMIN):
            raise CommandError(
                "--by phải là quản trị hệ thống / --by must be a system administrator"
            )
        with transaction.atomic():
            token, value = create_ivan_token(actor=actor, ivan=ivan, name=options["name"])
        self.stdout.write(f"{ivan}: {token.name}\n{value}")
