"""`ebhxh signer`: run the browser signing agent on this PC (docs/signing-agent.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ebhxh.signatures.agent import (
    DEFAULT_MAX_BODY,
    DEFAULT_PORT,
    KeySource,
    Pkcs11Source,
    Pkcs12Source,
    SigningAgent,
    TerminalConfirmer,
    normalise_origin,
)
from ebhxh.signatures.errors import SignatureError


class Command(BaseCommand):
    help = (
        "Chạy chương trình ký số cho trình duyệt trên máy này (chỉ 127.0.0.1): cổng thông tin gửi tài "
        "liệu, chương trình hiển thị nội dung, hỏi xác nhận và PIN ngay tại đây rồi ký bằng token "
        "PKCS#11 (hoặc tệp khóa PKCS#12 trong bản demo). Dừng bằng Ctrl+C. "
        "Run the browser signing agent on this PC (127.0.0.1 only): the portal sends a document, the "
        "agent shows it, asks for confirmation and the PIN here and signs with the PKCS#11 token (or "
        "a PKCS#12 key file in the demo). Stop with Ctrl+C."
    )
    requires_system_checks: list[str] = []  # no database, no models: start fast on a user's PC

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--port",
            type=int,
            default=DEFAULT_PORT,
            help="cổng trên 127.0.0.1 (mặc định %(default)s) / port on 127.0.0.1 (default %(default)s)",
        )
        parser.add_argument(
            "--origin",
            action="append",
            metavar="URL",
            help=(
                "trang web được phép gọi, ví dụ https://ebhxh.example.gov.vn; lặp lại được; mặc định "
                "SITE_URL / a web origin allowed to call the agent; repeatable; default: SITE_URL"
            ),
        )
        parser.add_argument(
            "--max-body-mb",
            type=int,
            default=DEFAULT_MAX_BODY // (1024 * 1024),
            help="giới hạn kích thước yêu cầu, MB (mặc định %(default)s) / request size limit in MB",
        )
        token = parser.add_argument_group("PKCS#11 token")
        token.add_argument(
            "--pkcs11-module",
            metavar="PATH",
            help="thư viện PKCS#11 của token / the token's PKCS#11 module",
        )
        token.add_argument("--token", metavar="LABEL", help="nhãn token / token label")
        token.add_argument(
            "--host-hashing",
            action="store_true",
            help="băm trên máy và ký CKM_RSA_PKCS / hash on the host",
        )
        key = parser.add_argument_group("PKCS#12 (demo)")
        key.add_argument(
            "--pkcs12",
            metavar="FILE",
            help="tệp khóa .p12/.pfx thay cho token / a key file instead of a token",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:  # checked before anything is asked
            origins = [normalise_origin(o) for o in options["origin"] or [settings.SITE_URL]]
        except ValueError as exc:
            raise CommandError(f"--origin: {exc}") from None
        if not 0 <= options["port"] <= 65535 or options["max_body_mb"] < 1:
            raise CommandError("--port 0…65535, --max-body-mb ≥ 1")
        confirmer = TerminalConfirmer(sys.stdin, sys.stdout)  # the person's terminal
        source = self._source(options, confirmer)
        try:
            agent = SigningAgent(
                source,
                confirmer,
                origins,
                port=options["port"],
                max_body=options["max_body_mb"] * 1024 * 1024,
                log=sys.stderr,
            )
        except OSError as exc:
            raise CommandError(
                f"không mở được cổng / cannot listen on 127.0.0.1:{options['port']}: {exc.strerror}"
            ) from None
        mode = "token PKCS#11" if source.mode == "pkcs11" else "tệp khóa / key file PKCS#12"
        self.stdout.write(f"Chương trình ký số / Signing agent ({mode}): {agent.url}")
        self.stdout.write(
            "Trang web được phép / Allowed origins: " + ", ".join(sorted(agent.origins))
        )
        self.stdout.write("Dừng bằng Ctrl+C / Stop with Ctrl+C")
        try:
            agent.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("\nĐã dừng / Stopped")
        finally:
            agent.close()

    def _source(self, options: dict[str, Any], confirmer: TerminalConfirmer) -> KeySource:
        if options["pkcs11_module"] and options["pkcs12"]:
            raise CommandError(
                "chọn token hoặc tệp khóa, không cả hai / choose a token or a key file, not both"
            )
        if options["pkcs11_module"]:
            if not options["token"]:
                raise CommandError(
                    "--token LABEL là bắt buộc với --pkcs11-module / --token is required"
                )
            source = Pkcs11Source(
                options["pkcs11_module"],
                options["token"],
                host_hashing=True if options["host_hashing"] else None,
            )
            try:
                found = source.certificates()
            except SignatureError as exc:
                raise CommandError(
                    f"{exc.code}: {exc.message_vi} / {exc.message_en} {exc.detail}"
                ) from None
            self.stdout.write(
                f"Token {options['token']!r}: {len(found)} chứng thư số / certificate(s)"
            )
            return source
        if options["pkcs12"]:
            return self._pkcs12(options["pkcs12"], confirmer)
        raise CommandError(
            "chọn --pkcs11-module PATH --token LABEL hoặc --pkcs12 FILE / "
            "choose --pkcs11-module PATH --token LABEL or --pkcs12 FILE"
        )

    def _pkcs12(self, path: str, confirmer: TerminalConfirmer) -> Pkcs12Source:
        """The certificate of a key file; most files encrypt it, so the password is asked once here
        to read it (and then forgotten: every signature asks again)."""
        if not Path(path).is_file():
            raise CommandError(f"không có tệp / no such file: {path}")
        try:
            return Pkcs12Source.from_file(path, None)
        except SignatureError:
            pass  # the file has a password
        password = confirmer.secret(
            "Mật khẩu tệp khóa, để đọc chứng thư số / Key file password, to read the certificate: "
        )
        try:
            return Pkcs12Source.from_file(path, password.encode() if password else None)
        except SignatureError as exc:
            raise CommandError(f"{exc.code}: {exc.message_vi} / {exc.message_en}") from None
        finally:
            del password
