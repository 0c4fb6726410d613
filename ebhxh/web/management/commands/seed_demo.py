from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ebhxh.web.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = (
        "Tạo dữ liệu minh họa (idempotent): cơ quan BHXH, 3 đơn vị, cán bộ mỗi vai trò, 30 người lao động. "
        "Create the demo data (idempotent): agencies, 3 units, an officer per role, 30 participants."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--quiet",
            action="store_true",
            help="Không in danh sách tài khoản / do not print the logins",
        )

    def handle(self, *args: Any, quiet: bool = False, **options: Any) -> None:
        report = seed_demo()
        created = (
            ", ".join(f"{k}: {v}" for k, v in sorted(report.created.items()))
            or "không có gì mới / nothing new"
        )
        self.stdout.write(f"Dữ liệu minh họa / demo data: {created}")
        if quiet:
            return
        self.stdout.write("")
        self.stdout.write(
            f"Tài khoản minh họa / demo logins (mật khẩu / password: {DEMO_PASSWORD})"
        )
        width = max(len(login) for login, _, _ in report.logins)
        for login, who, note in report.logins:
            self.stdout.write(f"  {login.ljust(width)}  {who}{'  [' + note + ']' if note else ''}")
