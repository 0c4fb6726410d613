"""The browser signing agent: a small local HTTP server that signs XML with the person's token.

The portal cannot reach a USB token, so this program runs on the user's PC, listens on 127.0.0.1
only, and answers the portal page (a configured origin) over a versioned JSON protocol under /v1/.
For each document it shows the person what they are about to sign, asks for confirmation and the
PIN here, in the agent (never in the web page), signs with the token (the key never leaves it) and
returns the signed document. In the demo a PKCS#12 key file stands in for the token.

Pure Python, no Django: it runs on a user's PC. `ebhxh signer` (management command) starts it;
docs/signing-agent.md describes the protocol and the security model.

    GET  /v1/info          {"agent": "ebhxh-signer", "version": 1, "mode": "pkcs11"|"pkcs12", ...}
    GET  /v1/certificates  {"certificates": [{"id", "label", "subject", "issuer", "serial", ...}]}
    POST /v1/sign          {"document": b64, "certificate": id, "container"?, "reference"?}
                           -> {"signed": b64, "certificate": id}

Errors are always `{"code", "message_vi", "message_en"}`. One signing request at a time: a second
one that arrives while a person is being asked gets 409 AGENT-BUSY at once (it does not queue, so
prompts never pile up in the terminal behind the person's back).

Nothing the page sends is logged: the access log has the method, path, origin and status only; the
PIN is asked per signature, used to log in and dropped.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import getpass
import hashlib
import json
import sys
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol, TextIO
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ebhxh.signatures import profile, xmldsig
from ebhxh.signatures.errors import PROBLEMS, SignatureError
from ebhxh.signatures.signers import Signer

AGENT_NAME = "ebhxh-signer"
PROTOCOL_VERSION = 1
LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_MAX_BODY = 20 * 1024 * 1024  # bytes of JSON; the base64 document is ~4/3 of the XML
PIN_ATTEMPTS = 3
REFERENCE_MAX = 300  # characters of the page's free text shown to the person

# Problems of the agent's own protocol (the signing problems come from errors.py).
AGENT_PROBLEMS: dict[str, tuple[str, str]] = {
    "AGENT-ORIGIN": (
        "Trang web này không được phép dùng chương trình ký số.",
        "This web site is not allowed to use the signing agent.",
    ),
    "AGENT-HOST": (
        "Yêu cầu không gửi tới 127.0.0.1 hoặc localhost: bị từ chối.",
        "The request was not addressed to 127.0.0.1 or localhost: refused.",
    ),
    "AGENT-BAD-REQUEST": ("Yêu cầu không hợp lệ.", "The request is not valid."),
    "AGENT-CONTENT-TYPE": (
        "Yêu cầu phải có Content-Type: application/json.",
        "The request must have Content-Type: application/json.",
    ),
    "AGENT-TOO-LARGE": ("Tài liệu quá lớn.", "The document is too large."),
    "AGENT-NOT-FOUND": ("Không có chức năng này.", "No such endpoint."),
    "AGENT-METHOD": ("Phương thức không được hỗ trợ.", "Method not allowed."),
    "AGENT-BUSY": (
        "Chương trình ký số đang xử lý một yêu cầu ký khác; hãy hoàn tất yêu cầu đó rồi thử lại.",
        "The signing agent is busy with another signing request; finish it and try again.",
    ),
    "AGENT-INTERNAL": ("Lỗi của chương trình ký số.", "Internal error of the signing agent."),
}

# HTTP status of each signing problem; any other SIG-/CERT- problem is the document's (400).
SIGN_STATUS = {"SIGN-REFUSED": 403, "SIGN-KEY": 401, "SIGN-TOKEN": 404}


class AgentError(Exception):
    """An error answered to the page as `{code, message_vi, message_en}` with an HTTP status."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code

    @classmethod
    def from_signature_error(cls, exc: SignatureError) -> AgentError:
        return cls(SIGN_STATUS.get(exc.code, 400), exc.code)

    def body(self) -> dict[str, str]:
        if self.code in PROBLEMS:
            problem = PROBLEMS[self.code]
            return {
                "code": self.code,
                "message_vi": problem.message_vi,
                "message_en": problem.message_en,
            }
        vi, en = AGENT_PROBLEMS[self.code]
        return {"code": self.code, "message_vi": vi, "message_en": en}


# --- Certificates and key sources --------------------------------------------------------------


def fingerprint(certificate: x509.Certificate) -> str:
    """The certificate id of the protocol: SHA-256 of the DER, lowercase hex."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


@dataclass(frozen=True)
class AgentCertificate:
    """A signing certificate the agent offers; `label` is the token object's label or the file
    name, `object_id` the token object's CKA_ID in hex (the key next to it has the same one)."""

    label: str
    certificate: x509.Certificate
    object_id: str = ""

    @property
    def id(self) -> str:
        return fingerprint(self.certificate)

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @property
    def issuer(self) -> str:
        return self.certificate.issuer.rfc4514_string()

    @property
    def serial(self) -> str:
        return format(self.certificate.serial_number, "x")

    @property
    def not_before(self) -> dt.datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> dt.datetime:
        return self.certificate.not_valid_after_utc

    def as_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "label": self.label,
            "subject": self.subject,
            "issuer": self.issuer,
            "serial": self.serial,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "certificate": base64.b64encode(
                self.certificate.public_bytes(serialization.Encoding.DER)
            ).decode(),
        }


class KeySource(Protocol):
    """Where the agent's keys are: a PKCS#11 token or a PKCS#12 file."""

    mode: str

    def certificates(self) -> list[AgentCertificate]:
        """The signing certificates on offer (raises SignatureError SIGN-TOKEN when the token is absent)."""
        ...

    def open(self, chosen: AgentCertificate, secret: str) -> Signer:
        """A signer for the chosen certificate, unlocked with the PIN/password the person typed.

        Raises SignatureError SIGN-KEY for a wrong secret (the agent asks again), SIGN-TOKEN when
        the token or the key is gone. The caller closes the signer when it has a `close()`.
        """
        ...


def _is_ca_certificate(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


class Pkcs11Source:
    """Certificates and keys on a PKCS#11 token, found by the token label."""

    mode = "pkcs11"

    def __init__(
        self, module_path: str, token_label: str, *, host_hashing: bool | None = None
    ) -> None:
        self.module_path = module_path
        self.token_label = token_label
        self.host_hashing = host_hashing

    def certificates(self) -> list[AgentCertificate]:
        from ebhxh.signatures import pkcs11

        # Tokens also carry their CA certificates (VNPT, Viettel…): those cannot sign a dossier,
        # so only end-entity certificates are offered to the portal.
        return [
            AgentCertificate(item.label, item.certificate, item.id_hex)
            for item in pkcs11.list_certificates(self.module_path, self.token_label)
            if not _is_ca_certificate(item.certificate)
        ]

    def open(self, chosen: AgentCertificate, secret: str) -> Signer:
        from ebhxh.signatures.pkcs11 import Pkcs11Signer

        # The key sits next to its certificate: same CKA_ID (else, on some tokens, same label).
        signer = Pkcs11Signer(
            self.module_path,
            token_label=self.token_label,
            key_label=None if chosen.object_id else (chosen.label or None),
            key_id=bytes.fromhex(chosen.object_id) if chosen.object_id else None,
            pin=secret,
            host_hashing=self.host_hashing,
        )
        try:
            signer.open()  # logs in now: a wrong PIN is SIGN-KEY here, before anything is signed
            if fingerprint(signer.certificate()) != chosen.id:
                raise SignatureError(
                    "SIGN-TOKEN", "the key found on the token belongs to another certificate"
                )
        except BaseException:
            signer.close()
            raise
        return signer


class Pkcs12Source:
    """A PKCS#12 key file (demo, or a unit without a token); its "PIN" is the file's password.

    The certificate is read once at start-up (most files encrypt it, hence `password` there); the
    password is not kept: each signature asks for it again.
    """

    mode = "pkcs12"

    def __init__(
        self, path: str | Path, certificate: x509.Certificate, label: str | None = None
    ) -> None:
        self.path = Path(path)
        self.certificate = AgentCertificate(label or self.path.name, certificate)

    @classmethod
    def from_file(cls, path: str | Path, password: bytes | None) -> Pkcs12Source:
        from ebhxh.signatures.signers import Pkcs12Signer

        return cls(path, Pkcs12Signer.from_file(path, password or None).certificate())

    def certificates(self) -> list[AgentCertificate]:
        return [self.certificate]

    def open(self, chosen: AgentCertificate, secret: str) -> Signer:
        from ebhxh.signatures.signers import Pkcs12Signer

        # An empty answer means "no password", which only opens a file that has none.
        signer = Pkcs12Signer.from_file(self.path, secret.encode() or None)
        if fingerprint(signer.certificate()) != chosen.id:
            raise SignatureError("SIGN-TOKEN", "the key file changed since the agent started")
        return signer


# --- What the person is shown --------------------------------------------------------------------

_HEADER_FIELDS = {
    "unit_name": ("TenDoiTuong", "TenDonVi", "TenDvi", "TenToChuc", "TenCoQuan"),
    "unit_code": ("MaSoBHXH", "MaDonVi", "MaDvi", "MaDoiTuong", "MaCoQuan"),
    "tax_code": ("MaSoThue", "MST"),
    "period": ("KyKeKhai", "KyBaoCao"),
}
_HEADER_LOOKUP = {name.lower(): key for key, names in _HEADER_FIELDS.items() for name in names}
_XMLDSIG_NS = "http://www.w3.org/2000/09/xmldsig#"


def clean_text(value: str | None, limit: int = 200) -> str:
    """Text from the page or the document made safe for a terminal: no control characters (a page
    must not be able to move the cursor or recolour the summary), NFC, one line, bounded length."""
    if not value:
        return ""
    value = unicodedata.normalize("NFC", value)
    value = "".join(
        " " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in value
    )
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass(frozen=True)
class SignRequestSummary:
    """Everything the person needs to decide: who asks, what the document is, which key signs it."""

    origin: str
    reference: str
    root: str
    container: str | None
    size: int
    sha256: str
    certificate: AgentCertificate
    mode: str
    unit_name: str = ""
    unit_code: str = ""
    tax_code: str = ""
    period: str = ""
    rows: int | None = None
    row_element: str = ""
    existing_signatures: int = 0


def _local(element: Any) -> str | None:
    tag = element.tag
    if not isinstance(tag, str):  # comments and processing instructions
        return None
    return tag.rsplit("}", 1)[-1]


def _is_signature(element: Any) -> bool:
    return isinstance(element.tag, str) and element.tag == f"{{{_XMLDSIG_NS}}}Signature"


def describe_document(root: Any) -> dict[str, Any]:
    """Best-effort header fields and row count of a form or an envelope, for the summary.

    Header: the children of the first ThongTinDonVi (the envelope's Hoso/NoiDung/ThongTinDonVi and
    most forms), then a breadth-first look at the top three levels that skips repeated elements
    (rows). Rows: the largest group of same-named sibling records (elements with children).
    """
    found: dict[str, Any] = {}

    def take(element: Any) -> None:
        for child in element:
            name = _local(child)
            key = _HEADER_LOOKUP.get(name.lower()) if name else None
            if key and key not in found and len(child) == 0 and (child.text or "").strip():
                found[key] = clean_text(child.text, 120)

    header = next((el for el in root.iter() if _local(el) == "ThongTinDonVi"), None)
    if header is not None:
        take(header)
    level = [root]
    for _depth in range(3):
        take_next: list[Any] = []
        for element in level:
            take(element)
            names = Counter(_local(child) for child in element)
            take_next.extend(
                child
                for child in element
                if _local(child) and names[_local(child)] == 1 and not _is_signature(child)
            )
        level = take_next

    best: tuple[int, int, str] | None = None
    signatures = 0
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        element, depth = stack.pop()
        if _is_signature(element):
            signatures += 1
            continue
        records = Counter(_local(child) for child in element if _local(child) and len(child) > 0)
        for name, count in records.items():
            if best is None or (count, depth) > best[:2]:
                best = (count, depth, name or "")
        stack.extend((child, depth + 1) for child in element if isinstance(child.tag, str))
    if best is not None:
        found["rows"] = best[0]
        found["row_element"] = best[2]
    found["existing_signatures"] = signatures
    return found


def summarise(
    document: bytes,
    root: Any,
    *,
    origin: str,
    reference: str | None,
    container: str | None,
    certificate: AgentCertificate,
    mode: str,
) -> SignRequestSummary:
    return SignRequestSummary(
        origin=origin,
        reference=clean_text(reference, REFERENCE_MAX),
        root=clean_text(_local(root) or "", 80),
        # The node the signature goes into: the page's choice, else the form's designated one.
        container=clean_text(container, 120) or profile.container_for(root.tag),
        size=len(document),
        sha256=hashlib.sha256(document).hexdigest(),
        certificate=certificate,
        mode=mode,
        **describe_document(root),
    )


# --- Confirmation ---------------------------------------------------------------------------------


class Confirmer(Protocol):
    """Asks the person, in the agent (never in the web page)."""

    def confirm(self, summary: SignRequestSummary) -> bool:
        """True when the person agrees to sign the summarised document."""
        ...

    def pin(self, attempt: int) -> str | None:
        """The PIN (key file: password) for attempt 1..3; None when the person cancels."""
        ...


YES = {"c", "có", "co", "y", "yes"}


class TerminalConfirmer:
    """Asks in the agent's terminal. The PIN is read with getpass when stdin is a terminal; when it
    is not (a pipe: tests, a wrapper program) it is read as one line from stdin, without echo."""

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self._mode = "pkcs11"

    def _write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def _line(self) -> str | None:
        line = self.stdin.readline()
        if not line:  # end of input
            return None
        return line.rstrip("\r\n")

    def secret(self, prompt: str) -> str | None:
        """A PIN or password; None at end of input or Ctrl+D."""
        try:
            if self.stdin.isatty():
                return getpass.getpass(prompt, stream=self.stdout)
        except EOFError:
            return None
        self._write(prompt)
        value = self._line()
        self._write("\n")
        return value

    def confirm(self, summary: SignRequestSummary) -> bool:
        self._mode = summary.mode
        self._write(format_summary(summary))
        self._write("Ký tài liệu này? / Sign this document? [c/K] ")
        answer = self._line()
        accepted = (
            answer is not None and unicodedata.normalize("NFC", answer.strip().lower()) in YES
        )
        if answer is None or not self.stdin.isatty():
            self._write("\n")  # the terminal echoed the person's Enter; a pipe did not
        if not accepted:
            self._write("Đã từ chối, không ký. / Refused, nothing signed.\n")
        return accepted

    def pin(self, attempt: int) -> str | None:
        if attempt > 1:
            self._write(
                f"Sai PIN hoặc mật khẩu. Thử lại (lần {attempt}/{PIN_ATTEMPTS}). "
                f"/ Wrong PIN or password. Try again (attempt {attempt}/{PIN_ATTEMPTS}).\n"
            )
        what = (
            "Mật khẩu tệp khóa / Key file password"
            if self._mode == "pkcs12"
            else "PIN của token / Token PIN"
        )
        return self.secret(f"{what} (Ctrl+D: hủy / cancel): ")


def format_summary(summary: SignRequestSummary) -> str:
    cert = summary.certificate
    rows: list[tuple[str, str]] = [
        ("Trang web yêu cầu / Requested by", summary.origin),
    ]
    if summary.reference:
        rows.append(("Nội dung / Reference", summary.reference))
    rows.append(("Tài liệu / Document", f"<{summary.root}>"))
    if summary.container:
        rows.append(("Nút chữ ký / Signature node", summary.container))
    for label, value in (
        ("Đơn vị / Unit", summary.unit_name),
        ("Mã đơn vị / Unit code", summary.unit_code),
        ("Mã số thuế / Tax code", summary.tax_code),
        ("Kỳ / Period", summary.period),
    ):
        if value:
            rows.append((label, value))
    if summary.rows is not None:
        rows.append(("Số dòng / Rows", f"{summary.rows} <{clean_text(summary.row_element, 60)}>"))
    rows.append(("Kích thước / Size", f"{summary.size:,} bytes".replace(",", " ")))
    rows.append(("SHA-256", summary.sha256))
    if summary.existing_signatures:
        rows.append(("Chữ ký có sẵn / Existing signatures", str(summary.existing_signatures)))
    rows.append(("Người ký / Signer", clean_text(cert.subject, 300)))
    rows.append(("Tổ chức cấp / Issuer", clean_text(cert.issuer, 300)))
    rows.append(("Số hiệu / Serial", cert.serial))
    rows.append(
        (
            "Hiệu lực / Valid",
            f"{cert.not_before:%Y-%m-%d %H:%M} → {cert.not_after:%Y-%m-%d %H:%M} UTC",
        )
    )
    now = dt.datetime.now(dt.UTC)
    warning = ""
    if not cert.not_before <= now <= cert.not_after:
        warning = "  !! Chứng thư số không còn hoặc chưa có hiệu lực / The certificate is not valid now !!\n"
    width = max(len(label) for label, _ in rows) + 2
    line = "─" * 72
    # Cleaned again here: whoever builds a summary, nothing in it may steer the terminal.
    body = "".join(f"  {label + ':':<{width}} {clean_text(value, 400)}\n" for label, value in rows)
    return f"\n{line}\nYÊU CẦU KÝ SỐ / SIGNING REQUEST\n{body}{warning}{line}\n"


# --- The HTTP server ----------------------------------------------------------------------------


def normalise_origin(origin: str) -> str:
    """`scheme://host[:port]` as browsers send it in the Origin header (lowercase, default port
    dropped); ValueError for anything else (paths, wildcards, "null")."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"not an http(s) origin: {origin!r}")
    if (
        parts.path not in {"", "/"}
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
    ):
        raise ValueError(f"an origin has no path, query or user: {origin!r}")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


class SigningAgent:
    """The agent's server. `start()` serves in a background thread (tests); `serve_forever()` in
    the calling one (the command). Binds 127.0.0.1 only; port 0 picks a free port."""

    def __init__(
        self,
        source: KeySource,
        confirmer: Confirmer,
        origins: list[str],
        *,
        host: str = LOOPBACK,
        port: int = DEFAULT_PORT,
        max_body: int = DEFAULT_MAX_BODY,
        log: TextIO | None = None,
    ) -> None:
        if host != LOOPBACK:
            raise ValueError(f"the signing agent listens on {LOOPBACK} only, not {host!r}")
        if not origins:
            raise ValueError("at least one allowed origin is required")
        self.source = source
        self.confirmer = confirmer
        self.origins = frozenset(normalise_origin(origin) for origin in origins)
        self.max_body = max_body
        self.log_stream = log or sys.stderr
        self.busy = threading.Lock()  # one signing request at a time (409 for the next)
        self.token = threading.Lock()  # one token session at a time (listing waits for signing)
        self.httpd = _Server((LOOPBACK, port), _Handler, self)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def allowed_hosts(self) -> frozenset[str]:
        return frozenset({f"{LOOPBACK}:{self.port}", f"localhost:{self.port}"})

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> SigningAgent:
        self._thread = threading.Thread(target=self.serve_forever, name="ebhxh-signer", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
            self._thread = None
        self.httpd.server_close()

    def __enter__(self) -> SigningAgent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def log(self, text: str) -> None:
        self.log_stream.write(f"[{dt.datetime.now():%H:%M:%S}] {clean_text(text, 400)}\n")  # noqa: DTZ005  local clock for the person
        self.log_stream.flush()

    # -- endpoints --

    def info(self) -> dict[str, Any]:
        return {
            "agent": AGENT_NAME,
            "version": PROTOCOL_VERSION,
            "mode": self.source.mode,
            "max_body": self.max_body,
        }

    def certificates(self) -> dict[str, Any]:
        return {"certificates": [cert.as_json() for cert in self._available()]}

    def _available(self) -> list[AgentCertificate]:
        with self.token:
            try:
                return self.source.certificates()
            except SignatureError as exc:
                raise AgentError.from_signature_error(exc) from None

    def sign(self, request: Any, origin: str) -> dict[str, Any]:
        if not isinstance(request, dict):
            raise AgentError(400, "AGENT-BAD-REQUEST")
        document_b64 = request.get("document")
        cert_id = request.get("certificate")
        container = request.get("container")
        reference = request.get("reference")
        if (
            not isinstance(document_b64, str)
            or not isinstance(cert_id, str)
            or not isinstance(container, str | None)
            or not isinstance(reference, str | None)
        ):
            raise AgentError(400, "AGENT-BAD-REQUEST")
        try:
            document = base64.b64decode(document_b64, validate=True)
        except (binascii.Error, ValueError):
            raise AgentError(400, "AGENT-BAD-REQUEST") from None
        try:
            root = xmldsig.parse_secure(document)
        except SignatureError as exc:
            raise AgentError.from_signature_error(exc) from None
        chosen = next((c for c in self._available() if c.id == cert_id.strip().lower()), None)
        if chosen is None:
            raise AgentError(404, "SIGN-TOKEN")
        try:
            # A dry run without the key: a missing signature node or a document that cannot take
            # a signature is refused now, not after the person has confirmed and typed the PIN.
            xmldsig.prepare(document, certificate=chosen.certificate, container=container or None)
        except SignatureError as exc:
            raise AgentError.from_signature_error(exc) from None
        summary = summarise(
            document,
            root,
            origin=origin,
            reference=reference,
            container=container or None,
            certificate=chosen,
            mode=self.source.mode,
        )
        if not self.busy.acquire(blocking=False):
            raise AgentError(409, "AGENT-BUSY")
        try:
            return self._confirm_and_sign(document, summary, chosen, container or None)
        finally:
            self.busy.release()

    def _confirm_and_sign(
        self,
        document: bytes,
        summary: SignRequestSummary,
        chosen: AgentCertificate,
        container: str | None,
    ) -> dict[str, Any]:
        self.log(f"yêu cầu ký / signing request from {summary.origin}: {summary.size} bytes")
        if not self.confirmer.confirm(summary):
            self.log("từ chối / refused")
            raise AgentError(403, "SIGN-REFUSED")
        for attempt in range(1, PIN_ATTEMPTS + 1):
            secret = self.confirmer.pin(attempt)
            if secret is None:
                self.log("hủy khi nhập PIN / cancelled at the PIN prompt")
                raise AgentError(403, "SIGN-REFUSED")
            try:
                if not secret and self.source.mode == "pkcs11":
                    # No token has an empty PIN: do not spend one of the token's own retries on it.
                    raise SignatureError("SIGN-KEY", "empty PIN")
                signed = self._sign_with(document, chosen, secret, container)
            except SignatureError as exc:
                if exc.code == "SIGN-KEY" and attempt < PIN_ATTEMPTS:
                    self.log(f"sai PIN / wrong PIN ({attempt}/{PIN_ATTEMPTS})")
                    continue
                self.log(f"không ký được / not signed: {exc.code}")
                raise AgentError.from_signature_error(exc) from None
            finally:
                del secret  # not kept beyond the login
            self.log(f"đã ký / signed with {chosen.id[:16]}…")
            return {"signed": base64.b64encode(signed).decode(), "certificate": chosen.id}
        raise AgentError(401, "SIGN-KEY")  # pragma: no cover  (the loop raises on the last attempt)

    def _sign_with(
        self, document: bytes, chosen: AgentCertificate, secret: str, container: str | None
    ) -> bytes:
        with self.token:
            signer = self.source.open(chosen, secret)
            try:
                return xmldsig.sign(document, signer, container=container)
            finally:
                close: Callable[[], None] | None = getattr(signer, "close", None)
                if close is not None:
                    close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], agent: SigningAgent
    ) -> None:
        self.agent = agent
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection
    server_version = "ebhxh-signer/1"
    sys_version = ""
    timeout = 60  # seconds of socket silence; the person's answer is not bounded by it

    @property
    def agent(self) -> SigningAgent:
        return self.server.agent

    # -- plumbing --

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the agent writes its own access line (never bodies) in _reply

    def _reply(self, status: int, body: dict[str, Any], *, cors_origin: str | None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if cors_origin is not None:
            self.send_header("Access-Control-Allow-Origin", cors_origin)
            self.send_header("Vary", "Origin")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self._access(status)

    def _access(self, status: int) -> None:
        origin = self.headers.get("Origin", "-") if self.headers else "-"
        self.agent.log(
            f"{self.command} {self.path.split('?', 1)[0][:100]} {status} origin={origin}"
        )

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests (stdlib parser): a JSON error, no CORS headers."""
        self.close_connection = True
        try:
            body = AgentError(400, "AGENT-BAD-REQUEST").body()
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass

    def _guard(self) -> str | None:
        """The caller's origin when Host and Origin pass; otherwise answers 403 and returns None."""
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in self.agent.allowed_hosts:
            self._reply(403, AgentError(403, "AGENT-HOST").body(), cors_origin=None)
            return None
        origin = self.headers.get("Origin")
        if origin is None or origin not in self.agent.origins:
            self._reply(403, AgentError(403, "AGENT-ORIGIN").body(), cors_origin=None)
            return None
        return origin

    def _route(self) -> str:
        return self.path.split("?", 1)[0]

    # -- methods --

    def do_OPTIONS(self) -> None:  # noqa: N802  stdlib naming
        origin = self._guard()
        if origin is None:
            return
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", origin)
        self.send_header("Vary", "Origin")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Access-Control-Allow-Private-Network", "true")
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()
        self._access(204)

    def do_GET(self) -> None:  # noqa: N802
        origin = self._guard()
        if origin is None:
            return
        route = self._route()
        try:
            if route == "/v1/info":
                body = self.agent.info()
            elif route == "/v1/certificates":
                body = self.agent.certificates()
            elif route == "/v1/sign":
                raise AgentError(405, "AGENT-METHOD")
            else:
                raise AgentError(404, "AGENT-NOT-FOUND")
        except AgentError as exc:
            self._reply(exc.status, exc.body(), cors_origin=origin)
            return
        except Exception as exc:  # never a traceback to the page
            self.agent.log(f"lỗi / error: {type(exc).__name__}")
            self._reply(500, AgentError(500, "AGENT-INTERNAL").body(), cors_origin=origin)
            return
        self._reply(200, body, cors_origin=origin)

    def do_POST(self) -> None:  # noqa: N802
        origin = self._guard()
        if origin is None:
            self._discard_small_body()
            return
        try:
            route = self._route()
            if route != "/v1/sign":
                self._discard_small_body()
                if route in {"/v1/info", "/v1/certificates"}:
                    raise AgentError(405, "AGENT-METHOD")
                raise AgentError(404, "AGENT-NOT-FOUND")
            request = self._read_json()
            body = self.agent.sign(request, origin)
        except AgentError as exc:
            self._reply(exc.status, exc.body(), cors_origin=origin)
            return
        except Exception as exc:
            self.agent.log(f"lỗi / error: {type(exc).__name__}")
            self._reply(500, AgentError(500, "AGENT-INTERNAL").body(), cors_origin=origin)
            return
        self._reply(200, body, cors_origin=origin)

    def _method_not_allowed(self) -> None:
        origin = self._guard()
        if origin is not None:
            self._reply(405, AgentError(405, "AGENT-METHOD").body(), cors_origin=origin)

    do_PUT = do_DELETE = do_PATCH = do_HEAD = _method_not_allowed  # noqa: N815

    def _content_length(self) -> int | None:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return None
        return length if length >= 0 else None

    def _discard_small_body(self) -> None:
        """Read away a small rejected body so closing the socket does not reset the answer."""
        length = self._content_length()
        if length is not None and length <= 64 * 1024:
            with contextlib.suppress(OSError):
                self.rfile.read(length)

    def _read_json(self) -> Any:
        length = self._content_length()
        if length is None:
            raise AgentError(411, "AGENT-BAD-REQUEST")
        if length > self.agent.max_body:
            self.close_connection = True
            raise AgentError(413, "AGENT-TOO-LARGE")
        content_type = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        data = self.rfile.read(length)
        if content_type != "application/json":
            raise AgentError(415, "AGENT-CONTENT-TYPE")
        if len(data) != length:
            raise AgentError(400, "AGENT-BAD-REQUEST")
        try:
            return json.loads(data)
        except (UnicodeDecodeError, ValueError):
            raise AgentError(400, "AGENT-BAD-REQUEST") from None


__all__ = [
    "AgentCertificate",
    "AgentError",
    "Confirmer",
    "KeySource",
    "Pkcs11Source",
    "Pkcs12Source",
    "SignRequestSummary",
    "SigningAgent",
    "TerminalConfirmer",
    "describe_document",
    "fingerprint",
    "format_summary",
    "normalise_origin",
]
