"""`ebhxh verify_evidence BUNDLE.zip`: check an evidence bundle offline (docs/evidence.md).

A thin wrapper around ebhxh.dossiers.evidence.verify_bundle: no database, no trust store, no
network. Exit code 0 when the bundle verifies, 1 when it has problems, 2 when it cannot be read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ebhxh.dossiers.evidence import NOTES, BundleReport, SignerInfo, verify_bundle


class Command(BaseCommand):
    help = (
        "Kiểm tra gói chứng cứ của một hồ sơ (evidence.zip) mà không cần cơ sở dữ liệu: con dấu của "
        "cơ quan BHXH trên bảng kê và biên nhận, kích thước và SHA-256 của từng tệp, chữ ký của đơn "
        "vị trên hồ sơ đã nhận; mã thoát 0 khi hợp lệ, 1 khi có lỗi, 2 khi không đọc được. / "
        "Verify a dossier's evidence bundle (evidence.zip) without a database: the agency seal on "
        "the manifest and the receipt, the size and SHA-256 of every file, the unit's signature on "
        "the received dossier; exit code 0 when it verifies, 1 on problems, 2 when unreadable."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "bundle",
            metavar="BUNDLE.zip",
            help="Gói chứng cứ cần kiểm tra / The evidence bundle to verify",
        )
        parser.add_argument(
            "--trust-seal",
            action="append",
            default=[],
            metavar="CERT.pem|der",
            help="Chứng thư số con dấu của cơ quan BHXH được tin cậy (PEM hoặc DER; lặp lại được); "
            "không có thì chỉ báo vân tay / A trusted agency seal certificate (PEM or DER; "
            "repeatable); without one only the fingerprint is reported",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="In kết quả dạng JSON thay cho văn bản / Print JSON instead of text",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        trusted = [_certificate_ders(Path(p)) for p in options["trust_seal"]]
        path = Path(options["bundle"])
        try:
            report = verify_bundle(
                path,
                trusted_seal_certificates=[der for ders in trusted for der in ders]
                if trusted
                else None,
            )
        except OSError as exc:
            raise CommandError(
                f"Không đọc được tệp / cannot read {path}: {exc.strerror or exc}", returncode=2
            ) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(render_text(report, path.name))
        if not report.readable:
            sys.exit(2)
        if not report.ok:
            sys.exit(1)


def _certificate_ders(path: Path) -> list[bytes]:
    try:
        data = path.read_bytes()
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except (OSError, ValueError) as exc:
        raise CommandError(
            f"Không đọc được chứng thư số / cannot read the certificate {path}: {exc}",
            returncode=2,
        ) from None
    return [c.public_bytes(serialization.Encoding.DER) for c in certs]


def _signer(label: str, info: SignerInfo | None, absent: str) -> list[str]:
    if info is None:
        return [f"{label}: {absent}"]
    lines = [f"{label}: {info.subject}", f"    SHA-256: {info.fingerprint_sha256}"]
    if info.signing_time:
        lines.append(f"    thời điểm ký / signing time: {info.signing_time}")
    return lines


def render_text(report: BundleReport, name: str) -> str:
    """The report as text, Vietnamese first, English alongside."""
    if not report.readable:
        head = "KHÔNG ĐỌC ĐƯỢC / UNREADABLE"
    elif report.ok:
        head = "HỢP LỆ / VALID"
    else:
        head = f"KHÔNG HỢP LỆ / INVALID  ({len(report.problems)} lỗi / problem(s))"
    lines = [head, f"Gói chứng cứ / Evidence bundle: {name}"]
    if report.metadata:
        lines.append("Hồ sơ / Dossier:")
        lines += [f"    {key}: {value}" for key, value in report.metadata.items()]
    if report.readable:
        lines += _signer(
            "Con dấu bảng kê / Manifest seal", report.seal, "không xác minh được / not verified"
        )
        if report.seal_trusted is True:
            lines.append("    tin cậy / trusted: có / yes (--trust-seal)")
        elif report.seal_trusted is False:
            lines.append("    tin cậy / trusted: KHÔNG / NO")
        lines += _signer(
            "Chữ ký đơn vị / Unit signature",
            report.received_signer,
            "không có hoặc không hợp lệ / none or invalid",
        )
        lines += _signer(
            "Con dấu biên nhận / Receipt seal",
            report.receipt_seal,
            "không có hoặc không hợp lệ / none or invalid",
        )
        if report.receipt_hash_matches is not None:
            lines.append(
                "    băm hồ sơ trên biên nhận / dossier hash in the receipt: "
                + ("khớp / matches" if report.receipt_hash_matches else "KHÔNG KHỚP / MISMATCH")
            )
    if report.files:
        lines.append("Tệp / Files:")
        for f in report.files:
            mark = "✓" if f.status == "ok" else "✗"
            lines.append(f"  {mark} {f.name}  {f.size} B  {f.sha256}  [{f.status}]")
    if report.problems:
        lines.append("Lỗi / Problems:")
        for p in report.problems:
            lines.append(f"  {p.code}")
            lines.append(f"      {p.message_vi}")
            lines.append(f"      {p.message_en}")
            if p.detail:
                lines.append(f"      chi tiết / detail: {p.detail}")
    if report.notes:
        lines.append("Ghi chú / Notes:")
        for key in report.notes:
            vi, en = NOTES[key]
            lines.append(f"  - {vi}")
            lines.append(f"    {en}")
    return "\n".join(lines) + "\n"
