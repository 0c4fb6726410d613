"""manage.py trust: the trust store (roots of licensed CAs) and uploaded CRLs, from the command line.

trust add ROOT.pem [--note …]     trust list
trust disable FINGERPRINT         trust crl-upload FILE.crl
trust add-intermediate CA.pem
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ebhxh.audit.context import acting_as
from ebhxh.signatures.models import IntermediateCertificate, RevocationList, TrustedRoot
from ebhxh.signatures.revocation import upload_crl
from ebhxh.signatures.trust import (
    TrustStoreError,
    add_intermediate_certificate,
    add_trusted_root,
    disable_trusted_root,
    normalise_fingerprint,
)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"không đọc được tệp / cannot read {path}: {exc}") from None


def _split_pem_bundle(data: bytes) -> list[bytes]:
    """One item per certificate of a PEM bundle; DER (or anything else) stays one item."""
    if b"-----BEGIN CERTIFICATE-----" not in data:
        return [data]
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        return [data]  # let the service report the file as unreadable
    return [c.public_bytes(serialization.Encoding.PEM) for c in certs]


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if value else "—"


class Command(BaseCommand):
    help = (
        "Quản lý kho chứng thư gốc tin cậy và CRL tải lên. "
        "Manage the trust store (trusted root certificates) and uploaded CRLs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = sub.add_parser(
            "add",
            help="thêm chứng thư gốc tin cậy (PEM/DER, có thể nhiều chứng thư) / add trusted root(s)",
        )
        add.add_argument("file", help="tệp chứng thư gốc / root certificate file")
        add.add_argument("--note", default="", help="ghi chú / note (e.g. which CA, where from)")
        sub.add_parser("list", help="liệt kê kho tin cậy / list the trust store")
        disable = sub.add_parser(
            "disable", help="tắt tin cậy một chứng thư gốc / stop trusting a root"
        )
        disable.add_argument(
            "fingerprint", help="dấu vân tay SHA-256 (hệ 16, có thể có dấu :) / SHA-256 fingerprint"
        )
        crl = sub.add_parser(
            "crl-upload", help="tải lên một CRL (DER/PEM) / upload a CRL (DER or PEM)"
        )
        crl.add_argument("file", help="tệp CRL / CRL file")
        intermediate = sub.add_parser(
            "add-intermediate",
            help="thêm chứng thư CA trung gian (để tải CRL của nó) / add an intermediate CA certificate",
        )
        intermediate.add_argument("file", help="tệp chứng thư CA / CA certificate file")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        with acting_as():
            try:
                if action == "add":
                    self._add(options["file"], options["note"])
                elif action == "list":
                    self._list()
                elif action == "disable":
                    self._disable(options["fingerprint"])
                elif action == "crl-upload":
                    self._crl_upload(options["file"])
                elif action == "add-intermediate":
                    self._add_intermediate(options["file"])
            except TrustStoreError as exc:
                raise CommandError(exc.bilingual()) from None

    def _add(self, path: str, note: str) -> None:
        for item in _split_pem_bundle(_read(path)):
            root = add_trusted_root(item, actor=None, note=note)
            self.stdout.write(
                self.style.SUCCESS(
                    "Đã tin cậy chứng thư gốc / Trusted root added: "
                    f"{root.subject}\n  SHA-256 {root.fingerprint}  "
                    f"{_when(root.not_before)} → {_when(root.not_after)}"
                )
            )

    def _list(self) -> None:
        roots = list(TrustedRoot.objects.order_by("-enabled", "subject"))
        if not roots:
            self.stdout.write(
                "Kho tin cậy trống: chưa chấp nhận chữ ký nào. "
                "The trust store is empty: no signature is accepted yet (use `trust add`)."
            )
        else:
            self.stdout.write("Chứng thư gốc / Trusted roots:")
        for root in roots:
            state = "tin cậy/enabled " if root.enabled else "đã tắt/disabled"
            self.stdout.write(
                f"  [{state}] {root.fingerprint}  {_when(root.not_before)} → "
                f"{_when(root.not_after)}  {root.subject}"
                + (f"  ({root.note})" if root.note else "")
            )
        intermediates = list(IntermediateCertificate.objects.all())
        if intermediates:
            self.stdout.write("CA trung gian đã biết / Known intermediate CAs:")
            for row in intermediates:
                self.stdout.write(f"  {row.fingerprint}  {_when(row.not_after)}  {row.subject}")
        crls = list(RevocationList.objects.all())
        if crls:
            self.stdout.write("CRL đã lưu / Cached CRLs:")
            for crl in crls:
                origin = crl.source_url or "tải lên/uploaded"
                self.stdout.write(
                    f"  {crl.issuer}  #{crl.crl_number or '—'}  "
                    f"next {_when(crl.next_update)}  {origin}"
                )

    def _disable(self, value: str) -> None:
        fp = normalise_fingerprint(value)
        root = TrustedRoot.objects.filter(fingerprint=fp).first()
        if root is None:
            raise CommandError(
                f"không có chứng thư gốc với dấu vân tay này / no root with fingerprint {fp}"
            )
        if not root.enabled:
            self.stdout.write(f"Đã tắt từ trước / Already disabled: {root.subject}")
            return
        disable_trusted_root(root, actor=None)
        self.stdout.write(self.style.SUCCESS(f"Đã tắt tin cậy / Root disabled: {root.subject}"))

    def _crl_upload(self, path: str) -> None:
        row = upload_crl(_read(path), actor=None)
        self.stdout.write(
            self.style.SUCCESS(
                f"Đã lưu CRL / CRL stored: {row.issuer}\n"
                f"  số/number {row.crl_number or '—'}, {row.revoked_count} thu hồi/revoked, "
                f"phát hành/issued {row.this_update.isoformat()}, "
                f"cập nhật tiếp/next {row.next_update.isoformat() if row.next_update else '—'}"
            )
        )

    def _add_intermediate(self, path: str) -> None:
        row = add_intermediate_certificate(_read(path), actor=None)
        self.stdout.write(
            self.style.SUCCESS(
                f"Đã thêm CA trung gian / Intermediate CA added: {row.subject}\n"
                f"  SHA-256 {row.fingerprint}"
            )
        )
