"""issue_registration_confirmation end to end: the sealed XML verifies with ebhxh's verifier and with
the independent `xmlsec1` CLI, a changed field breaks it, and the PDF shows the seal.

The test PKI's CRL is served on 127.0.0.1 by the fixtures of signatures' trust tests.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree
from pypdf import PdfReader

from ebhxh.notices import tbgd
from ebhxh.notices.services import IssuedNotice, issue_registration_confirmation
from ebhxh.notices.testing import (
    TRANSACTION_CODE,
    UNIT_NAME,
    accepted_notice,
    refused_notice,
    weasyprint_unavailable_reason,
)
from ebhxh.signatures import profile, xmldsig
from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.services import verify_document
from ebhxh.signatures.signers import KeySigner
from ebhxh.signatures.testing.pki import Issued
from ebhxh.signatures.tests.test_trust_support import pem
from ebhxh.signatures.tests.test_xmldsig_interop import needs_xmlsec1, xmlsec1
from ebhxh.signatures.validation import CertPolicy

# The PKI, the local CRL server and the trusted-root fixtures.
pytest_plugins = ["ebhxh.signatures.tests.test_trust_support"]
_REASON = weasyprint_unavailable_reason()  # every notice has its PDF
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(_REASON is not None, reason=_REASON or ""),
]

HARD = CertPolicy(revocation="hard-fail", fetch=True, timeout=5)
DS = f"{{{profile.DS_NS}}}"
SEAL_NAME = "Bảo hiểm xã hội Việt Nam — con dấu điện tử"


@pytest.fixture
def seal_issued(pki, revocation_server) -> Issued:
    return revocation_server.issue(pki, SEAL_NAME)


@pytest.fixture
def seal_signer(seal_issued) -> KeySigner:
    return KeySigner(seal_issued.key, seal_issued.certificate, seal_issued.chain[:-1])  # type: ignore[arg-type]


@pytest.fixture
def issued(seal_signer) -> IssuedNotice:
    return issue_registration_confirmation(accepted_notice(), signer=seal_signer)


def pdf_text(pdf: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


# --- the sealed XML ---------------------------------------------------------------------------


def test_the_seal_is_in_its_slot_and_the_notice_still_validates(issued):
    root = etree.fromstring(issued.xml)
    [signature] = root.iter(f"{DS}Signature")

    assert signature.getparent() is root.find(tbgd.SIGNATURE_SLOT)
    assert signature.get("Id") == profile.SIGNATURE_ID
    assert tbgd.schema_errors(issued.xml) == []
    assert tbgd.decode(issued.xml) == issued.notice
    assert issued.sha256 == hashlib.sha256(issued.xml).hexdigest()


def test_ebhxhs_verifier_accepts_the_seal_and_returns_the_notice(
    issued, seal_issued, trusted_root, revocation_server
):
    report, verified = verify_document(issued.xml, container=tbgd.CONTAINER, cert_policy=HARD)

    assert report.valid, report
    assert report.document_sha256 == issued.sha256
    assert report.signature["root"] == "BHXH"
    assert (
        report.certificate["signer"]["fingerprint"]
        == hashlib.sha256(seal_issued.cert_der).hexdigest()
    )
    assert verified is not None
    assert tbgd.decode(verified.content) == accepted_notice()  # decode only what was verified


def test_without_the_container_the_verifier_does_not_guess(issued):
    # BHXH is also the root of unit-signed forms (04/ĐK-IVAN): the seal's node is named explicitly.
    with pytest.raises(SignatureError) as excinfo:
        xmldsig.verify(issued.xml)
    assert excinfo.value.code == "SIG-CONTAINER"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (UNIT_NAME.encode(), "Công ty TNHH Dệt may Sao Mại".encode()),
        (b"<MA_KQUA>1</MA_KQUA>", b"<MA_KQUA>2</MA_KQUA>"),
        (TRANSACTION_CODE.encode(), TRANSACTION_CODE.replace("123", "124").encode()),
        (b"<MA_LOI/>", b"<MA_LOI>E</MA_LOI>"),
    ],
    ids=["unit-name", "result", "transaction-code", "error-added"],
)
def test_changing_a_field_breaks_the_seal(issued, old, new, trusted_root, revocation_server):
    assert issued.xml.count(old) == 1
    tampered = issued.xml.replace(old, new)

    with pytest.raises(SignatureError) as excinfo:
        xmldsig.verify(tampered, container=tbgd.CONTAINER)
    report, verified = verify_document(tampered, container=tbgd.CONTAINER, cert_policy=HARD)

    assert excinfo.value.code == "SIG-DIGEST"
    assert (report.valid, report.code, verified) == (False, "SIG-DIGEST", None)


# --- the independent implementation -------------------------------------------------------------


@pytest.fixture
def pem_files(pki, seal_issued, tmp_path) -> Path:
    (tmp_path / "root.pem").write_bytes(pem(pki.root))
    (tmp_path / "ca.pem").write_bytes(pem(pki.issuing))
    (tmp_path / "seal.pem").write_bytes(pem(seal_issued))
    return tmp_path


@needs_xmlsec1
def test_xmlsec1_verifies_the_sealed_notice(issued, pem_files):
    path = pem_files / "01-TB-GD.xml"
    path.write_bytes(issued.xml)
    root, ca, seal_pem = (str(pem_files / name) for name in ("root.pem", "ca.pem", "seal.pem"))

    chain = xmlsec1("--verify", "--trusted-pem", root, "--untrusted-pem", ca, str(path))
    pinned = xmlsec1(
        "--verify", "--pubkey-cert-pem", seal_pem, "--enabled-key-data", "key-name", str(path)
    )

    assert chain.returncode == 0, chain.stderr
    assert pinned.returncode == 0, pinned.stderr


@needs_xmlsec1
def test_xmlsec1_refuses_a_changed_notice(issued, pem_files):
    path = pem_files / "tampered.xml"
    path.write_bytes(issued.xml.replace(b"<MST>0310000017</MST>", b"<MST>0310000018</MST>"))

    result = xmlsec1(
        "--verify",
        "--trusted-pem",
        str(pem_files / "root.pem"),
        "--untrusted-pem",
        str(pem_files / "ca.pem"),
        str(path),
    )

    assert result.returncode != 0


# --- the PDF ----------------------------------------------------------------------------------


def test_the_pdf_shows_the_notice_and_its_seal(issued, seal_issued):
    text = pdf_text(issued.pdf)
    compact = "".join(text.split())

    assert UNIT_NAME in text
    assert TRANSACTION_CODE in text
    assert "Chữ ký số cơ quan BHXH xác nhận" in text
    assert issued.sha256 in compact
    assert issued.seal_subject == seal_issued.certificate.subject.rfc4514_string()
    assert SEAL_NAME in issued.seal_subject
    assert "".join(issued.seal_subject.split()) in compact
    assert issued.seal_serial == format(seal_issued.certificate.serial_number, "X")
    assert issued.seal_serial in compact
    assert issued.signed_at is not None


def test_a_refusal_is_sealed_and_rendered_too(seal_signer):
    notice = refused_notice()

    issued = issue_registration_confirmation(notice, signer=seal_signer)

    assert xmldsig.verify(issued.xml, container=tbgd.CONTAINER).certificate
    assert tbgd.decode(issued.xml) == notice
    assert "DK-CERT-EXPIRED" in pdf_text(issued.pdf)


# --- the seal from the settings -----------------------------------------------------------------


def test_it_uses_the_configured_agency_seal_and_writes_nothing(settings, seal_issued, tmp_path):
    key_file = tmp_path / "seal.p12"
    key_file.write_bytes(seal_issued.pkcs12(b"Seal-pw-2026"))
    settings.SEAL_PKCS11_MODULE = ""
    settings.SEAL_PKCS12_FILE = str(key_file)
    settings.SEAL_PKCS12_PASSWORD = "Seal-pw-2026"

    with CaptureQueriesContext(connection) as queries:
        issued = issue_registration_confirmation(accepted_notice())

    assert (
        xmldsig.verify(issued.xml, container=tbgd.CONTAINER).certificate == seal_issued.certificate
    )
    assert len(queries) == 0  # the caller stores the files in its own transaction
