"""manage.py load_catalogues [--only NAME ...]: load the reference catalogues (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from ebhxh.catalog.services import CATALOGUES, CatalogueDataError, load_catalogues


class Command(BaseCommand):
    help = "Nạp các danh mục từ tệp dữ liệu có phiên bản và gói vietnam-provinces (chạy lại không đổi gì)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only",
            nargs="+",
            metavar="NAME",
            choices=CATALOGUES,
            help="Chỉ nạp các danh mục này / only these catalogues: " + ", ".join(CATALOGUES),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = load_catalogues(only=options["only"])
        except CatalogueDataError as exc:
            raise CommandError(
                _("Dữ liệu danh mục không hợp lệ, không ghi gì: %(error)s") % {"error": exc}
            ) from exc

        header = (
            _("danh mục"),
            _("phiên bản"),
            _("tạo mới"),
            _("cập nhật"),
            _("không đổi"),
            _("xoá"),
            _("không còn trong tệp"),
        )
        rows = [
            (
                r.name,
                r.version,
                str(r.created),
                str(r.updated),
                str(r.unchanged),
                str(r.deleted),
                str(r.stale),
            )
            for r in report.results
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
        packages = ", ".join(f"{name} {version}" for name, version in report.packages.items())
        self.stdout.write(
            _(
                "Tổng: %(created)s tạo mới, %(updated)s cập nhật trong %(seconds).2f giây (%(packages)s)."
            )
            % {
                "created": report.created,
                "updated": report.updated,
                "seconds": report.duration_seconds,
                "packages": packages,
            }
        )
        for result in report.results:
            if result.stale:
                self.stderr.write(
                    _(
                        "%(name)s: %(count)s dòng trong CSDL không còn trong tệp dữ liệu (giữ nguyên; đặt ngày hết hiệu lực nếu cần)."
                    )
                    % {"name": result.name, "count": result.stale}
                )
