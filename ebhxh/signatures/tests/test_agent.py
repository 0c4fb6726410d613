"""The browser signing agent (ebhxh/signatures/agent.py): protocol, security checks, confirmation.

No database. The agent runs in-process on a free port with a scripted Confirmer; one test runs the
real `manage.py signer` as a subprocess and answers its terminal through a pipe.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import xmlsec
from cryptography.hazmat.primitives import serialization
from lxml import etree

from ebhxh.signatures import agent as agent_module
from ebhxh.signatures.agent import (
    AgentCertificate,
    Pkcs12Source,
    SigningAgent,
    SignRequestSummary,
    TerminalConfirmer,
    clean_text,
    describe_document,
    fingerprint,
    format_summary,
    normalise_origin,
)
from ebhxh.signatures.testing.documents import d02_document
from ebhxh.signatures.testing.pki import TestPKI

ROOT = Path(__file__).resolve().parents[3]
ORIGIN = "https://ebhxh.example.gov.vn"
PASSWORD = "Pw-7319-only-in-the-agent"
WRONG = "Wrong-4402-password"
DSIG = "http://www.w3.org/2000/09/xmldsig#"


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def issued():
    return TestPKI().issue("Công ty TNHH Dệt may Sao Mai", tax_code="0310000017")


@pytest.fixture(scope="module")
def p12_path(issued, tmp_path_factory):
    path = tmp_path_factory.mktemp("agent") / "signer.p12"
    path.write_bytes(issued.pkcs12(PASSWORD.encode()))
    return path


@pytest.fixture(scope="module")
def source(p12_path):
    return Pkcs12Source.from_file(p12_path, PASSWORD.encode())


class Scripted:
    """A Confirmer that answers from a script and records what it was asked."""

    def __init__(self, accept: bool = True, pins: list[str | None] | None = None) -> None:
        self.accept = accept
        self.pins = list(pins if pins is not None else [PASSWORD])
        self.summaries: list[SignRequestSummary] = []
        self.attempts: list[int] = []

    def confirm(self, summary: SignRequestSummary) -> bool:
        self.summaries.append(summary)
        return self.accept

    def pin(self, attempt: int) -> str | None:
        self.attempts.append(attempt)
        return self.pins.pop(0) if self.pins else None


@pytest.fixture
def confirmer():
    return Scripted()


@pytest.fixture
def log():
    return io.StringIO()


@pytest.fixture
def agent(source, confirmer, log):
    with SigningAgent(source, confirmer, [ORIGIN], port=0, log=log) as running:
        yield running


def call(agent, method, path, body=None, *, origin=ORIGIN, host=None, headers=None, raw=None):
    """(status, headers, parsed JSON body or None) of one request to the agent."""
    conn = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host or f"127.0.0.1:{agent.port}")
        if origin is not None:
            conn.putheader("Origin", origin)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        all_headers = dict(headers or {})
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
            all_headers.setdefault("Content-Length", str(len(data)))
        for name, value in all_headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        if data is not None:
            conn.send(data)
        response = conn.getresponse()
        content = response.read()
        parsed = json.loads(content) if content else None
        return response.status, response.headers, parsed
    finally:
        conn.close()


def sign_request(document: bytes, certificate_id: str, **extra) -> dict:
    return {"document": base64.b64encode(document).decode(), "certificate": certificate_id, **extra}


def verify_signed(signed: bytes, certificate, container: str | None = None) -> None:
    """The returned document carries one valid enveloped signature by `certificate`."""
    from ebhxh.signatures import xmldsig

    verified = xmldsig.verify(signed, container=container)  # the strict VSS profile
    assert fingerprint(verified.certificate) == fingerprint(certificate)
    # Independently of our own code: python-xmlsec with the certificate's key.
    root = etree.fromstring(signed)
    signatures = root.findall(f".//{{{DSIG}}}Signature")
    assert len(signatures) == 1
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(
        certificate.public_bytes(serialization.Encoding.PEM), xmlsec.constants.KeyDataFormatCertPem
    )
    ctx.verify(signatures[0])


# --- info and certificates --------------------------------------------------------------------


def test_info(agent):
    status, headers, body = call(agent, "GET", "/v1/info")
    assert status == 200
    assert body["agent"] == "ebhxh-signer"
    assert body["version"] == 1
    assert body["mode"] == "pkcs12"
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Vary"] == "Origin"
    assert headers["Content-Type"].startswith("application/json")


def test_certificates_describe_the_key_files_certificate(agent, issued):
    status, _, body = call(agent, "GET", "/v1/certificates")
    assert status == 200
    [cert] = body["certificates"]
    der = issued.cert_der
    assert cert["id"] == hashlib.sha256(der).hexdigest()
    assert base64.b64decode(cert["certificate"]) == der
    assert cert["label"] == "signer.p12"
    assert "Công ty TNHH Dệt may Sao Mai" in cert["subject"]
    assert "Issuing CA" in cert["issuer"]
    assert int(cert["serial"], 16) == issued.certificate.serial_number
    assert cert["not_before"] == issued.certificate.not_valid_before_utc.isoformat()
    assert cert["not_after"] == issued.certificate.not_valid_after_utc.isoformat()


# --- signing ----------------------------------------------------------------------------------


def test_sign_round_trip(agent, confirmer, issued, log):
    document = d02_document(3)
    cert_id = fingerprint(issued.certificate)
    status, headers, body = call(
        agent,
        "POST",
        "/v1/sign",
        sign_request(document, cert_id, reference="Hồ sơ 600 tháng 07/2026"),
    )
    assert status == 200, body
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert body["certificate"] == cert_id
    signed = base64.b64decode(body["signed"])
    verify_signed(signed, issued.certificate)
    assert etree.fromstring(signed).find(f"Cky/{{{DSIG}}}Signature") is not None  # the form's node

    [summary] = confirmer.summaries
    assert summary.origin == ORIGIN
    assert summary.reference == "Hồ sơ 600 tháng 07/2026"
    assert summary.root == "D02-TS"
    assert summary.container == "D02-TS/Cky"  # the form's designated node
    assert summary.unit_name == "Công ty TNHH Dệt may Sao Mai"
    assert summary.unit_code == "DM0001A"
    assert summary.tax_code == "0310000017"
    assert summary.period == "07/2026"
    assert (summary.rows, summary.row_element) == (3, "NguoiLaoDong")
    assert summary.size == len(document)
    assert summary.sha256 == hashlib.sha256(document).hexdigest()
    assert summary.certificate.id == cert_id
    assert confirmer.attempts == [1]
    # The access log has no content, no PIN. The server thread writes its access line after the
    # response is sent, so wait for it rather than race it.
    deadline = time.monotonic() + 5
    while "POST /v1/sign 200" not in log.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    text = log.getvalue()
    assert "POST /v1/sign 200" in text
    assert PASSWORD not in text
    assert "Sao Mai" not in text and "NguoiLaoDong" not in text
    assert body["signed"][:40] not in text


def test_refusal_signs_nothing(agent, source, issued):
    agent.confirmer = refusing = Scripted(accept=False)
    status, headers, body = call(
        agent, "POST", "/v1/sign", sign_request(d02_document(1), fingerprint(issued.certificate))
    )
    assert status == 403
    assert body["code"] == "SIGN-REFUSED"
    assert set(body) == {"code", "message_vi", "message_en"}
    assert "signed" not in body
    assert refusal_asked_no_pin(refusing)
    assert headers["Access-Control-Allow-Origin"] == ORIGIN  # the page may read why


def refusal_asked_no_pin(confirmer: Scripted) -> bool:
    return len(confirmer.summaries) == 1 and confirmer.attempts == []


def test_cancel_at_the_pin_prompt_is_a_refusal(agent, issued):
    agent.confirmer = cancelling = Scripted(pins=[None])
    status, _, body = call(
        agent, "POST", "/v1/sign", sign_request(d02_document(1), fingerprint(issued.certificate))
    )
    assert (status, body["code"]) == (403, "SIGN-REFUSED")
    assert cancelling.attempts == [1]


def test_wrong_password_then_right_one(agent, issued):
    agent.confirmer = retrying = Scripted(pins=[WRONG, PASSWORD])
    status, _, body = call(
        agent, "POST", "/v1/sign", sign_request(d02_document(2), fingerprint(issued.certificate))
    )
    assert status == 200, body
    assert retrying.attempts == [1, 2]
    verify_signed(base64.b64decode(body["signed"]), issued.certificate)


def test_three_wrong_passwords_fail_with_sign_key(agent, issued, log):
    agent.confirmer = wrong = Scripted(pins=[WRONG, WRONG + "2", WRONG + "3", PASSWORD])
    status, _, body = call(
        agent, "POST", "/v1/sign", sign_request(d02_document(1), fingerprint(issued.certificate))
    )
    assert status == 401
    assert body["code"] == "SIGN-KEY"
    assert wrong.attempts == [1, 2, 3]  # never a fourth
    assert WRONG not in log.getvalue()


def test_unknown_certificate_is_404_sign_token(agent, confirmer):
    status, _, body = call(agent, "POST", "/v1/sign", sign_request(d02_document(1), "ab" * 32))
    assert (status, body["code"]) == (404, "SIGN-TOKEN")
    assert confirmer.summaries == []


def test_doctype_document_is_refused_before_asking(agent, confirmer, issued):
    evil = b'<?xml version="1.0"?>\n<!DOCTYPE D02-TS [<!ENTITY x "boom">]>\n<D02-TS><A>&x;</A><Cky/></D02-TS>'
    status, headers, body = call(
        agent, "POST", "/v1/sign", sign_request(evil, fingerprint(issued.certificate))
    )
    assert (status, body["code"]) == (400, "SIG-XML-DOCTYPE")
    assert set(body) == {"code", "message_vi", "message_en"}
    assert confirmer.summaries == []


def test_a_document_without_a_signature_node_is_refused_before_asking(agent, confirmer, issued):
    request = sign_request(b"<Unknown><A>1</A></Unknown>", fingerprint(issued.certificate))
    status, _, body = call(agent, "POST", "/v1/sign", request)
    assert (status, body["code"]) == (400, "SIG-CONTAINER")
    assert confirmer.summaries == []
    request["container"] = "Unknown/Cky"  # the page names the node: it is created
    status, _, body = call(agent, "POST", "/v1/sign", request)
    assert status == 200, body
    assert confirmer.summaries[0].container == "Unknown/Cky"
    verify_signed(base64.b64decode(body["signed"]), issued.certificate, "Unknown/Cky")


def test_malformed_document(agent, confirmer, issued):
    status, _, body = call(
        agent,
        "POST",
        "/v1/sign",
        sign_request(b"<D02-TS><A></D02-TS>", fingerprint(issued.certificate)),
    )
    assert (status, body["code"]) == (400, "SIG-XML-MALFORMED")
    assert confirmer.summaries == []


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "AGENT-BAD-REQUEST"),
        (b"[]", "application/json", 400, "AGENT-BAD-REQUEST"),
        (b'{"document": "***", "certificate": "x"}', "application/json", 400, "AGENT-BAD-REQUEST"),
        (
            b'{"document": "PEEvPg==", "certificate": 5}',
            "application/json",
            400,
            "AGENT-BAD-REQUEST",
        ),
        (b'{"document": "PEEvPg==", "certificate": "x"}', "text/plain", 415, "AGENT-CONTENT-TYPE"),
    ],
)
def test_bad_requests(agent, confirmer, raw, content_type, status, code):
    got, _, body = call(agent, "POST", "/v1/sign", raw=raw, headers={"Content-Type": content_type})
    assert (got, body["code"]) == (status, code)
    assert confirmer.summaries == []


def test_a_post_without_content_length_is_411(agent, confirmer):
    conn = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=30)
    try:
        conn.putrequest("POST", "/v1/sign", skip_host=True)
        conn.putheader("Host", f"127.0.0.1:{agent.port}")
        conn.putheader("Origin", ORIGIN)
        conn.putheader("Content-Type", "application/json")
        conn.endheaders()
        response = conn.getresponse()
        body = json.loads(response.read())
    finally:
        conn.close()
    assert (response.status, body["code"]) == (411, "AGENT-BAD-REQUEST")


def test_oversize_body_is_413_without_reading_it(agent, confirmer):
    conn = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=30)
    try:
        conn.putrequest("POST", "/v1/sign", skip_host=True)
        conn.putheader("Host", f"127.0.0.1:{agent.port}")
        conn.putheader("Origin", ORIGIN)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(agent.max_body + 1))  # announced, never sent
        conn.endheaders()
        response = conn.getresponse()
        body = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 413
    assert body["code"] == "AGENT-TOO-LARGE"
    assert confirmer.summaries == []


def test_a_second_signing_request_gets_409_while_the_first_is_being_confirmed(agent, issued):
    asked, release = threading.Event(), threading.Event()

    class Slow(Scripted):
        def confirm(self, summary):
            asked.set()
            assert release.wait(20)
            return super().confirm(summary)

    agent.confirmer = Slow()
    request = sign_request(d02_document(1), fingerprint(issued.certificate))
    first: dict = {}
    thread = threading.Thread(
        target=lambda: first.update(result=call(agent, "POST", "/v1/sign", request))
    )
    thread.start()
    try:
        assert asked.wait(20)
        status, _, body = call(agent, "POST", "/v1/sign", request)
        assert (status, body["code"]) == (409, "AGENT-BUSY")
        assert call(agent, "GET", "/v1/info")[0] == 200  # reading still works
    finally:
        release.set()
        thread.join(30)
    assert first["result"][0] == 200


# --- origin, host, preflight --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS"])
@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://ebhxh.example.gov.vn",
        "https://ebhxh.example.gov.vn.evil.example",
        "null",
    ],
)
def test_disallowed_origin_is_403_without_cors_headers(agent, confirmer, issued, method, origin):
    path = "/v1/sign" if method == "POST" else "/v1/certificates"
    body = (
        sign_request(d02_document(1), fingerprint(issued.certificate)) if method == "POST" else None
    )
    status, headers, payload = call(agent, method, path, body, origin=origin)
    assert status == 403
    assert payload["code"] == "AGENT-ORIGIN"
    assert "Access-Control-Allow-Origin" not in headers
    assert "Access-Control-Allow-Private-Network" not in headers
    assert confirmer.summaries == []


@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS"])
def test_missing_origin_is_403(agent, confirmer, issued, method):
    body = (
        sign_request(d02_document(1), fingerprint(issued.certificate)) if method == "POST" else None
    )
    status, headers, payload = call(
        agent, method, "/v1/sign" if body else "/v1/info", body, origin=None
    )
    assert (status, payload["code"]) == (403, "AGENT-ORIGIN")
    assert "Access-Control-Allow-Origin" not in headers
    assert confirmer.summaries == []


def test_preflight_from_an_allowed_origin_answers_cors_and_private_network_access(agent):
    status, headers, body = call(
        agent,
        "OPTIONS",
        "/v1/sign",
        headers={
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert status == 204
    assert body is None
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Vary"] == "Origin"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "content-type" in headers["Access-Control-Allow-Headers"].lower()
    assert headers["Access-Control-Allow-Private-Network"] == "true"


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "127.0.0.2:{port}", ""]
)
def test_bad_host_header_is_403(agent, host):
    status, headers, body = call(agent, "GET", "/v1/info", host=host.format(port=agent.port) or " ")
    assert (status, body["code"]) == (403, "AGENT-HOST")
    assert "Access-Control-Allow-Origin" not in headers


def test_localhost_host_header_is_accepted(agent):
    assert call(agent, "GET", "/v1/info", host=f"localhost:{agent.port}")[0] == 200


def test_unknown_path_and_method(agent):
    assert call(agent, "GET", "/v2/info")[2]["code"] == "AGENT-NOT-FOUND"
    assert call(agent, "GET", "/v1/sign")[0] == 405
    assert call(agent, "DELETE", "/v1/info")[0] == 405


# --- configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "localhost", "192.168.1.10", ""])  # noqa: S104  refused
def test_the_agent_binds_loopback_only(source, host):
    with pytest.raises(ValueError, match="127.0.0.1 only"):
        SigningAgent(source, Scripted(), [ORIGIN], host=host, port=0)


@pytest.mark.parametrize(
    "origin", ["*", "null", "ebhxh.example.gov.vn", "https://x.example/path", "ftp://x.example"]
)
def test_origins_must_be_plain_http_origins(source, origin):
    with pytest.raises(ValueError):
        SigningAgent(source, Scripted(), [origin], port=0)


def test_origins_are_normalised_like_browsers_send_them():
    assert normalise_origin("HTTPS://Ebhxh.Example.gov.vn/") == "https://ebhxh.example.gov.vn"
    assert normalise_origin("https://ebhxh.example.gov.vn:443") == "https://ebhxh.example.gov.vn"
    assert normalise_origin("http://127.0.0.1:8000") == "http://127.0.0.1:8000"


# --- what the person sees -----------------------------------------------------------------------


def _summary(issued, **overrides) -> SignRequestSummary:
    document = d02_document(2)
    root = etree.fromstring(document)
    values = {
        "origin": ORIGIN,
        "reference": "Hồ sơ 600",
        "root": "D02-TS",
        "container": None,
        "size": len(document),
        "sha256": hashlib.sha256(document).hexdigest(),
        "certificate": AgentCertificate("signer.p12", issued.certificate),
        "mode": "pkcs12",
        **describe_document(root),
    }
    values.update(overrides)
    return SignRequestSummary(**values)


@pytest.mark.parametrize("answer", ["c", "C", "có", "Có", "co", "y", "yes", " YES "])
def test_terminal_confirmer_accepts_yes(issued, answer):
    out = io.StringIO()
    assert TerminalConfirmer(io.StringIO(answer + "\n"), out).confirm(_summary(issued)) is True


@pytest.mark.parametrize("answer", ["", "k", "không", "n", "no", "cc"])
def test_terminal_confirmer_refuses_anything_else(issued, answer):
    out = io.StringIO()
    assert TerminalConfirmer(io.StringIO(answer + "\n"), out).confirm(_summary(issued)) is False
    assert "Refused" in out.getvalue()


def test_terminal_confirmer_summary_and_pin_from_a_pipe(issued):
    out = io.StringIO()
    confirmer = TerminalConfirmer(io.StringIO(f"c\n{PASSWORD}\n"), out)
    summary = _summary(issued)
    assert confirmer.confirm(summary)
    assert confirmer.pin(1) == PASSWORD
    assert confirmer.pin(2) is None  # end of input: cancel
    text = out.getvalue()
    for expected in (
        ORIGIN,
        "Hồ sơ 600",
        "<D02-TS>",
        "Công ty TNHH Dệt may Sao Mai",
        "DM0001A",
        "0310000017",
        "2 <NguoiLaoDong>",
        summary.sha256,
        format(issued.certificate.serial_number, "x"),
        "Ký tài liệu này? / Sign this document? [c/K]",
        "Mật khẩu tệp khóa / Key file password",
        "lần 2/3",
    ):
        assert expected in text, expected
    assert PASSWORD not in text


def test_terminal_confirmer_does_not_call_getpass_without_a_tty(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("getpass called")

    monkeypatch.setattr(agent_module.getpass, "getpass", fail)
    assert TerminalConfirmer(io.StringIO("1234\n"), io.StringIO()).pin(1) == "1234"


def test_the_page_cannot_drive_the_terminal(issued):
    text = format_summary(
        _summary(issued, reference="OK\x1b[2J\x1b[1;1HKý ngay\r\nKý tài liệu này? c")
    )
    assert "\x1b" not in text and "\r" not in text
    assert clean_text("a\u202eb\u0000c") == "a b c"


def test_describe_the_envelope():
    envelope = etree.fromstring(
        "<Hoso><NoiDung><ThongTinDonVi><TenDoiTuong>Công ty A</TenDoiTuong><MaSoBHXH>TA0001B</MaSoBHXH>"
        "<MaSoThue>0101234567</MaSoThue></ThongTinDonVi><ToKhais><ToKhai><Ma>TK1-TS</Ma></ToKhai>"
        "<ToKhai><Ma>D02-TS</Ma></ToKhai></ToKhais></NoiDung></Hoso>".encode()
    )
    found = describe_document(envelope)
    assert (found["unit_name"], found["unit_code"], found["tax_code"]) == (
        "Công ty A",
        "TA0001B",
        "0101234567",
    )
    assert (found["rows"], found["row_element"]) == (2, "ToKhai")


# --- a real token (SoftHSM) ---------------------------------------------------------------------


def test_sign_with_a_softhsm_token(tmp_path):
    from ebhxh.signatures.testing import softhsm

    reason = softhsm.softhsm_unavailable_reason()
    if reason:
        pytest.skip(reason)
    from ebhxh.signatures.agent import Pkcs11Source

    hsm = softhsm.shared_softhsm()
    label = hsm.unique_label("agent")
    hsm.init_token(label, pin="246810")
    enrolled = hsm.provision_signer(TestPKI(), label, "246810", common_name="Công ty Token")
    confirmer = Scripted(pins=["", "135790", "246810"])
    with SigningAgent(
        Pkcs11Source(hsm.module_path, label), confirmer, [ORIGIN], port=0, log=io.StringIO()
    ) as running:
        assert call(running, "GET", "/v1/info")[2]["mode"] == "pkcs11"
        [cert] = call(running, "GET", "/v1/certificates")[2]["certificates"]
        assert cert["id"] == fingerprint(enrolled.certificate)
        assert cert["label"] == enrolled.key_label
        status, _, body = call(
            running, "POST", "/v1/sign", sign_request(d02_document(2), cert["id"])
        )
    assert status == 200, body
    assert confirmer.attempts == [1, 2, 3]  # empty PIN, wrong PIN, right PIN
    verify_signed(base64.b64decode(body["signed"]), enrolled.certificate)


# --- the real command, end to end -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Remote:
    def __init__(self, port: int) -> None:
        self.port = port


@pytest.mark.integration
def test_the_signer_command_end_to_end(p12_path, issued, tmp_path):
    port = _free_port()
    portal = "http://127.0.0.1:8000"
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    env.update({"DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "signer",
            "--pkcs12",
            str(p12_path),
            "--port",
            str(port),
            "--origin",
            portal,
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    document = d02_document(4, seed=7)
    person_id = etree.fromstring(document).findtext(".//SoDinhDanh")
    try:
        assert proc.stdin is not None
        # start-up: the password to read the certificate; then the signature: yes, wrong, right.
        proc.stdin.write(f"{PASSWORD}\nc\n{WRONG}\n{PASSWORD}\n")
        proc.stdin.flush()
        remote = _Remote(port)
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                status, _, info = call(remote, "GET", "/v1/info", origin=portal)
                break
            except OSError:
                assert time.monotonic() < deadline, "the agent did not start"
                time.sleep(0.2)
        assert (status, info["mode"]) == (200, "pkcs12")
        assert call(remote, "GET", "/v1/info", origin="https://evil.example")[0] == 403
        [cert] = call(remote, "GET", "/v1/certificates", origin=portal)[2]["certificates"]
        status, _, body = call(
            remote,
            "POST",
            "/v1/sign",
            sign_request(document, cert["id"], reference="Hồ sơ thử / test dossier"),
            origin=portal,
        )
        assert status == 200, body
        verify_signed(base64.b64decode(body["signed"]), issued.certificate)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            stdout, stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
    assert proc.returncode == 0, stderr
    assert f"http://127.0.0.1:{port}" in stdout
    assert portal in stdout  # the allowed origins are printed
    assert "Ký tài liệu này? / Sign this document? [c/K]" in stdout
    assert "Hồ sơ thử / test dossier" in stdout
    assert hashlib.sha256(document).hexdigest() in stdout
    assert "lần 2/3" in stdout  # the wrong password was reported in the agent
    output = stdout + stderr
    assert PASSWORD not in output
    assert WRONG not in output
    assert person_id and person_id not in output  # the document's content is not printed or logged
    assert body["signed"][:60] not in output


def test_the_agent_needs_no_django():
    """It runs on a user's PC: neither it nor the signatures modules it imports import Django."""
    import ast

    package = ROOT / "ebhxh" / "signatures"
    seen: set[str] = set()
    pending = ["agent"]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        tree = ast.parse((package / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            modules = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for module in modules:
                assert not module.startswith("django"), f"{name}.py imports {module}"
                if module.startswith("ebhxh.signatures."):
                    pending.append(module.split(".")[2])
                elif module == "ebhxh.signatures":
                    pending.extend(alias.name for alias in node.names)
                else:
                    assert not module.startswith("ebhxh"), f"{name}.py imports {module}"
    assert {"agent", "xmldsig", "signers", "errors", "pkcs11"} <= seen
