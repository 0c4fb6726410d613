from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from ebhxh.signatures import services, xmldsig
from ebhxh.signatures.errors import PROBLEMS, SignatureError
from ebhxh.signatures.profile import Policy
from ebhxh.units.models import Unit


class Command(BaseCommand):
    help = (
        "Kiểm tra chữ ký số của một tệp XML và in báo cáo; mã thoát 0 chỉ khi hợp lệ theo chính sách. "
        "Verify the signature of an XML file and print the report; exit code 0 only when it is valid "
        "under the policy. With --cert, check against one given certificate (e.g. the agency seal) "
        "without the trust store."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--unit",
            help="mã đơn vị hoặc mã số thuế: chứng thư phải đăng ký cho đơn vị này / the certificate must be registered to this unit",
        )
        parser.add_argument(
            "--container", help="nút chứa chữ ký / signature node (default: by form)"
        )
        parser.add_argument(
            "--cert",
            metavar="PEM",
            help="chỉ chấp nhận chứng thư này (ví dụ con dấu cơ quan BHXH) / accept only this certificate",
        )
        parser.add_argument(
            "--at-signing-time",
            action="store_true",
            help="đánh giá chứng thư tại thời điểm ký (lưu trữ) / judge the certificate at the signing time (archives)",
        )
        parser.add_argument(
            "--json", action="store_true", help="in báo cáo JSON / print the JSON report"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc}") from None
        if options["cert"]:
            valid, lines = self._pinned(
                data, Path(options["cert"]), options["container"], options["at_signing_time"]
            )
            self.stdout.write("\n".join(lines))
            sys.exit(0 if valid else 1)
        unit = None
        if options["unit"]:
            unit = Unit.objects.filter(
                Q(code__iexact=options["unit"]) | Q(tax_code=options["unit"])
            ).first()
            if unit is None:
                raise CommandError(f"không tìm thấy đơn vị / no unit {options['unit']}")
        report, _verified = services.verify_document(
            data,
            container=options["container"],
            unit=unit,
            use_signing_time=options["at_signing_time"],
        )
        if options["json"]:
            self.stdout.write(report.to_json())
        else:
            self.stdout.write(_text(report))
        sys.exit(0 if report.valid else 1)

    def _pinned(
        self, data: bytes, cert_path: Path, container: str | None, at_signing_time: bool
    ) -> tuple[bool, list[str]]:
        try:
            pem = cert_path.read_bytes()
            expected = (
                x509.load_pem_x509_certificate(pem)
                if b"-----BEGIN" in pem
                else x509.load_der_x509_certificate(pem)
            )
        except (OSError, ValueError) as exc:
            raise CommandError(f"{cert_path}: {exc}") from None

        def invalid(code: str, detail: str = "") -> tuple[bool, list[str]]:
            problem = PROBLEMS[code]
            lines = [
                f"KHÔNG HỢP LỆ / INVALID  {code}",
                f"  {problem.message_vi}",
                f"  {problem.message_en}",
            ]
            if detail:
                lines.append(f"  chi tiết / detail: {detail}")
            return False, lines

        try:
            verified = xmldsig.verify(data, container=container, policy=Policy())
        except SignatureError as exc:
            return invalid(exc.code, exc.detail)
        if verified.certificate.fingerprint(hashes.SHA256()) != expected.fingerprint(
            hashes.SHA256()
        ):
            return invalid(
                "CERT-UNTRUSTED", "the document was not signed with the given certificate"
            )
        now = dt.datetime.now(dt.UTC)
        signing_time = verified.signing_time
        if signing_time is not None and signing_time > now + services.CLOCK_SKEW:
            return invalid("SIG-SIGNING-TIME", f"{signing_time.isoformat()} is in the future")
        # As at intake: the certificate is judged now; the SigningTime is an unsigned claim,
        # used only for archive checks (--at-signing-time).
        moment = signing_time if at_signing_time and signing_time else now
        if moment < expected.not_valid_before_utc:
            return invalid("CERT-NOT-YET-VALID", f"judged at {moment.isoformat()}")
        if moment > expected.not_valid_after_utc:
            return invalid("CERT-EXPIRED", f"judged at {moment.isoformat()}")
        return True, [
            "HỢP LỆ / VALID",
            f"  người ký / signer: {expected.subject.rfc4514_string()}",
            f"  thời điểm ký / signing time: {signing_time.isoformat() if signing_time else '—'}",
            f"  đánh giá tại / judged at: {moment.isoformat()}  "
            f"({'signing_time' if at_signing_time else 'receipt'})",
        ]


def _text(report: services.VerificationReport) -> str:
    head = "HỢP LỆ / VALID" if report.valid else f"KHÔNG HỢP LỆ / INVALID  {report.code}"
    lines = [head, f"  {report.message_vi}", f"  {report.message_en}"]
    signer = report.certificate.get("signer") or {}
    if signer:
        lines.append(
            f"  người ký / signer: {signer.get('subject')}  (serial {signer.get('serial')})"
        )
    chain = report.certificate.get("chain") or []
    for item in chain:
        lines.append(f"    ↳ {item.get('subject') if isinstance(item, dict) else item}")
    for item in report.certificate.get("revocation") or []:
        origin = "tải lên / uploaded" if item.get("uploaded") else (item.get("url") or "")
        cached = ", bộ nhớ đệm / cached" if item.get("cached") else ""
        lines.append(
            f"  thu hồi / revocation: {item.get('source', '?').upper()} {item.get('status')} "
            f"({origin}{cached}; cập nhật tiếp / next update {item.get('next_update') or '—'})"
            f"  ← {item.get('subject', '')}"
        )
    if report.signature.get("signing_time"):
        lines.append(f"  thời điểm ký / signing time: {report.signature['signing_time']}")
    lines.append(f"  đánh giá tại / judged at: {report.moment}  ({report.policy.get('moment')})")
    if report.detail:
        lines.append(f"  chi tiết / detail: {report.detail}")
    return "\n".join(lines)
