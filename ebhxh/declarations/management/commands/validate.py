"""`ebhxh validate FILE`: check a declaration file offline; exit code 0 only without errors.

A thin Django wrapper around ebhxh.declarations.validator: no database access.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ebhxh.declarations.report import render_html, render_text
from ebhxh.declarations.validator import validate_path


class Command(BaseCommand):
    help = (
        "Kiểm tra tệp tờ khai (XML tờ khai, hồ sơ BHXHDienTu.xml hoặc Excel D02-TS) theo lược đồ và quy tắc "
        "nghiệp vụ; mã thoát 0 khi không có lỗi. / Validate a declaration file (form XML, a "
        "BHXHDienTu.xml envelope or a D02-TS workbook) against its schema and the business rules; exit code 0 only "
        "when there are no errors."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file",
            help="Tệp cần kiểm tra (.xml tờ khai hoặc hồ sơ, .xlsx D02-TS) / "
            "File to check (form or envelope .xml, D02-TS .xlsx)",
        )
        parser.add_argument(
            "--period",
            metavar="MM/YYYY",
            help="Kỳ kê khai, thay cho kỳ trong tệp / Declaration period, overrides the file's",
        )
        parser.add_argument(
            "--region",
            type=int,
            choices=(1, 2, 3, 4),
            help="Vùng lương tối thiểu của đơn vị (dòng không có MaVungLtt) / "
            "The unit's minimum-wage region (for rows without MaVungLtt)",
        )
        parser.add_argument(
            "--html",
            metavar="REPORT.html",
            help="Ghi báo cáo HTML vào tệp này / Write an HTML report to this file",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="In kết quả dạng JSON thay cho văn bản / Print JSON instead of text",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = validate_path(
            Path(options["file"]), period=options.get("period"), region=options.get("region")
        )
        if options.get("html"):
            Path(options["html"]).write_text(render_html(report), encoding="utf-8")
        if options.get("json"):
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(render_text(report), ending="")
        if not report.ok:
            sys.exit(1)
