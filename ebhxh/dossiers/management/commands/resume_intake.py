"""`ebhxh resume_intake`: queue again every dossier left SUBMITTED (its task lost in a crash)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ebhxh.dossiers import services


class Command(BaseCommand):
    help = (
        "Xếp hàng xử lý lại các hồ sơ còn ở trạng thái 'Đã gửi, đang kiểm tra' (tác vụ bị mất khi "
        "tiến trình dừng đột ngột). Chạy tự động mỗi phút. / Queue again every dossier still "
        "SUBMITTED (its task was lost when a process died). Runs every minute on its own."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            metavar="SECONDS",
            help="Chỉ hồ sơ đã nhận quá số giây này (mặc định DOSSIER_RESUME_AFTER_SECONDS) / "
            "only dossiers received longer ago than this (default DOSSIER_RESUME_AFTER_SECONDS)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seconds = options["older_than"]
        age = dt.timedelta(seconds=seconds) if seconds is not None else None
        count = services.resume(age)
        self.stdout.write(f"Đã xếp hàng lại {count} hồ sơ / queued {count} dossier(s) again")
