"""Shared fixtures of the trust, validation and revocation tests (no tests here).

A local CRL/OCSP server on 127.0.0.1 (stdlib http.server in a thread, free port) answers
from the test PKI and counts requests, so caching can be asserted without the network.
Import the fixtures by name into a test module.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization

from ebhxh.signatures.models import TrustedRoot
from ebhxh.signatures.testing.pki import Issued, TestPKI
from ebhxh.signatures.trust import add_trusted_root

UTC = dt.UTC


@dataclass
class RevocationServer:
    host: str
    port: int
    pki: TestPKI | None = None
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def crl_url(self) -> str:
        return f"http://{self.host}:{self.port}/issuing.crl"

    @property
    def ocsp_url(self) -> str:
        return f"http://{self.host}:{self.port}/ocsp"

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for _method, p in self.requests if p == path)

    def issue(
        self, pki: TestPKI, name: str, *, crl: bool = True, ocsp: bool = False, **kw
    ) -> Issued:
        """A signer certificate naming this server's CRL and/or OCSP responder."""
        return pki.issue(
            name,
            crl_url=self.crl_url if crl else None,
            ocsp_url=self.ocsp_url if ocsp else None,
            **kw,
        )


def _handler(state: RevocationServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - stdlib signature
            pass  # keep test output clean

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 - stdlib name
            with state.lock:
                state.requests.append(("GET", self.path))
            if self.path == "/issuing.crl" and state.pki is not None:
                # Issued "now" (time-machine moves this thread's clock too), valid 7 days.
                now = dt.datetime.now(UTC).replace(microsecond=0)
                crl = state.pki.crl(last_update=now - dt.timedelta(minutes=1))
                self._reply(200, crl, "application/pkix-crl")
            elif self.path == "/ftp.crl":
                self.send_response(302)
                self.send_header("Location", "ftp://127.0.0.1/issuing.crl")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._reply(404, b"not found", "text/plain")

        def do_POST(self):  # noqa: N802 - stdlib name
            with state.lock:
                state.requests.append(("POST", self.path))
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/ocsp" and state.pki is not None:
                self._reply(200, state.pki.ocsp_response(body), "application/ocsp-response")
            else:
                self._reply(404, b"not found", "text/plain")

    return Handler


@pytest.fixture
def revocation_server() -> Iterator[RevocationServer]:
    state = RevocationServer(host="127.0.0.1", port=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def dead_url() -> str:
    """An http URL on a local port nobody listens on (connection refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/gone.crl"


@pytest.fixture
def pki(revocation_server: RevocationServer) -> TestPKI:
    pki = TestPKI()
    revocation_server.pki = pki
    return pki


@pytest.fixture
def trusted_root(db, pki: TestPKI, sysadmin) -> TrustedRoot:
    return add_trusted_root(pki.root.cert_pem, actor=sysadmin, note="test PKI")


def pem(issued_or_cert) -> bytes:
    cert = getattr(issued_or_cert, "certificate", issued_or_cert)
    return cert.public_bytes(serialization.Encoding.PEM)
