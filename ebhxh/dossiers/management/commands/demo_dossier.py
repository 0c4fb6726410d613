"""`ebhxh demo_dossier -o FILE`: a signed BHXHDienTu.xml of a demo unit, to try the API with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ebhxh.dossiers.testing import signed_envelope
from ebhxh.signatures.signers import Pkcs12Signer
from ebhxh.units.models import Unit


class Command(BaseCommand):
    help = (
        "Tạo hồ sơ BHXHDienTu.xml (D02-TS, thủ tục 600) của một đơn vị demo, ký bằng tệp khóa demo "
        "của đơn vị, để thử API nộp hồ sơ. / Write a BHXHDienTu.xml (D02-TS, procedure 600) of a "
        "demo unit signed with its demo key file, to try the dossier API with."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-o", "--output", required=True, help="Tệp ra / output file")
        parser.add_argument("--unit", default="DM0001A", help="Mã đơn vị demo / demo unit code")
        parser.add_argument("--rows", type=int, default=10, help="Số dòng D02-TS / D02-TS rows")
        parser.add_argument(
            "--first",
            type=int,
            default=1000,
            help="Số thứ tự người lao động đầu tiên (đổi để có hồ sơ khác) / first person's number "
            "(change it for a different dossier)",
        )
        parser.add_argument(
            "--password", default="ebhxh-demo-2026", help="Mật khẩu tệp khóa / key file password"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["unit"]
        unit = Unit.objects.filter(code=code).select_related("managing_agency").first()
        key_file = Path(settings.DEMO_PKI_DIR) / f"{code}.p12"
        if unit is None or not key_file.exists():
            raise CommandError(
                f"Không có đơn vị demo {code} hoặc tệp khóa {key_file} (chạy seed_demo) / "
                f"no demo unit {code} or key file {key_file} (run seed_demo)"
            )
        signer = Pkcs12Signer.from_bytes(key_file.read_bytes(), options["password"].encode())
        data = signed_envelope(
            signer,
            rows=options["rows"],
            first=options["first"],
            unit_name=unit.name,
            unit_code=code,
            tax_code=unit.tax_code,
            agency_code=unit.managing_agency.code,
        )
        Path(options["output"]).write_bytes(data)
        self.stdout.write(f"{options['output']}: {len(data)} byte, {options['rows']} dòng / rows")
