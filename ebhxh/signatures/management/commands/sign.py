from __future__ import annotations

import getpass
import os
import re
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ebhxh.signatures import xmldsig
from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.signers import Pkcs12Signer, Signer

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def read_secret(env_name: str, prompt: str) -> str:
    """A PIN or password: from the named environment variable, else a prompt. Never a CLI argument."""
    if not _ENV_NAME.fullmatch(env_name):
        # Not echoed: what was typed there may be the secret itself.
        raise CommandError(
            "--password-env/--pin-env nhận TÊN biến môi trường, không phải mật khẩu hay PIN / "
            "--password-env/--pin-env take the NAME of an environment variable, not the secret"
        )
    value = os.environ.get(env_name)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise CommandError(
            f"đặt biến môi trường {env_name} hoặc chạy trong terminal / set {env_name} or run in a terminal"
        )
    try:
        return getpass.getpass(prompt)
    except (EOFError, KeyboardInterrupt):
        raise CommandError("đã hủy / cancelled") from None


class Command(BaseCommand):
    help = (
        "Ký số một tệp XML (tờ khai, hồ sơ BHXHDienTu.xml) bằng tệp PKCS#12 hoặc token PKCS#11. "
        "Sign an XML file (a form or a BHXHDienTu.xml dossier) with a PKCS#12 file or a PKCS#11 token. "
        "The PIN/password comes from an environment variable or a prompt, never from the command line."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # No abbreviated options: argparse would otherwise take `--password SECRET` for
        # `--password-env SECRET` (and `--pin 1234` for `--pin-env 1234`).
        parser.allow_abbrev = False
        return parser

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="tệp XML cần ký / the XML file to sign")
        parser.add_argument(
            "-o", "--output", help="tệp kết quả (mặc định: FILE.signed.xml) / output file"
        )
        parser.add_argument(
            "--container",
            help="nút chứa chữ ký, ví dụ TK1-TS/Cky (mặc định theo tờ khai) / signature node",
        )
        parser.add_argument(
            "--exclusive-c14n", action="store_true", help="dùng Exclusive C14N / use exclusive C14N"
        )
        key = parser.add_argument_group("PKCS#12")
        key.add_argument("--pkcs12", metavar="FILE", help="tệp khóa .p12/.pfx / key file")
        key.add_argument(
            "--password-env",
            default="EBHXH_PKCS12_PASSWORD",
            help="biến môi trường chứa mật khẩu (mặc định %(default)s)",
        )
        token = parser.add_argument_group("PKCS#11")
        token.add_argument(
            "--pkcs11-module",
            metavar="PATH",
            help="thư viện PKCS#11 của token / the token's PKCS#11 module",
        )
        token.add_argument("--token", metavar="LABEL", help="nhãn token / token label")
        token.add_argument(
            "--key", metavar="LABEL", help="nhãn khóa (mặc định: khóa duy nhất) / key label"
        )
        token.add_argument(
            "--pin-env", default="EBHXH_PIN", help="biến môi trường chứa PIN (mặc định %(default)s)"
        )
        token.add_argument(
            "--host-hashing",
            action="store_true",
            help="băm trên máy và ký CKM_RSA_PKCS / hash on the host",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc}") from None
        signer = self._signer(options)
        try:
            signed = xmldsig.sign(
                data,
                signer,
                container=options["container"],
                c14n="exclusive" if options["exclusive_c14n"] else "inclusive",
            )
            # Before close(): a closed PKCS#11 signer would log in to the token again for this.
            subject = signer.certificate().subject.rfc4514_string()
        except SignatureError as exc:
            raise CommandError(
                f"{exc.code}: {exc.message_vi} / {exc.message_en} {exc.detail}"
            ) from None
        finally:
            close = getattr(signer, "close", None)
            if close:
                close()
        output = Path(options["output"] or path.with_suffix(".signed.xml"))
        try:
            output.write_bytes(signed)
        except OSError as exc:
            raise CommandError(f"{output}: {exc}") from None
        self.stdout.write(f"Đã ký / signed: {output}  ({subject})")

    def _signer(self, options: dict[str, Any]) -> Signer:
        try:
            if options["pkcs11_module"]:
                if not options["token"]:
                    raise CommandError(
                        "--token LABEL là bắt buộc với --pkcs11-module / --token is required"
                    )
                from ebhxh.signatures.pkcs11 import Pkcs11Signer

                pin = read_secret(options["pin_env"], "PIN: ")
                return Pkcs11Signer(
                    options["pkcs11_module"],
                    token_label=options["token"],
                    key_label=options["key"],
                    pin=pin,
                    host_hashing=True if options["host_hashing"] else None,
                )
            if options["pkcs12"]:
                password = read_secret(options["password_env"], "Mật khẩu / password: ")
                return Pkcs12Signer.from_file(options["pkcs12"], password.encode() or None)
        except SignatureError as exc:
            raise CommandError(f"{exc.code}: {exc.message_vi} / {exc.message_en}") from None
        raise CommandError(
            "chọn --pkcs12 FILE hoặc --pkcs11-module PATH --token LABEL / choose a key source"
        )
