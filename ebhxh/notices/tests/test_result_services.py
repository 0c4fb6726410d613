"""issue_result and result_pdf end to end: the sealed 03/TB-TS verifies with ebhxh's verifier and
with the independent `xmlsec1` CLI, one changed byte breaks it (an outcome, a row, a document's
hash), and the PDF is rendered only from what the seal covers.

The test PKI's CRL is served on 127.0.0.1 by the fixtures of signatures' trust tests.
"""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree
from pypdf import PdfReader

from ebhxh.notices import result, tbgd
from ebhxh.notices.result import NoticeError, Outcome
from ebhxh.notices.services import issue_registration_confirmation, issue_result, result_pdf
from ebhxh.notices.testing import (
    DOSSIER_NUMBER,
    RESULT_DOCUMENT_SHA256,
    TRACKING_ID,
    UNIT_NAME,
    accepted_notice,
    result_notice,
    supplement_request,
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
_REASON = weasyprint_unavailable_reason()
pytestmark = pytest.mark.django_db
needs_weasyprint = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")

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
def sealed(seal_signer) -> bytes:
    return issue_result(result_notice(), signer=seal_signer)


def pdf_text(pdf: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


def one_byte_changed(data: bytes, old: bytes, new: bytes) -> bytes:
    """`data` with the single occurrence of `old` replaced by `new`, differing in one byte."""
    assert data.count(old) == 1, old
    changed = data.replace(old, new)
    assert len(changed) == len(data)
    assert sum(a != b for a, b in zip(data, changed, strict=True)) == 1
    return changed


# --- the sealed XML ---------------------------------------------------------------------------


def test_the_seal_is_in_its_slot_and_the_notice_still_validates(sealed):
    root = etree.fromstring(sealed)
    [signature] = root.iter(f"{DS}Signature")

    assert signature.getparent() is root.find(result.SIGNATURE_SLOT)
    assert root[-1].tag == "CKy_CQBHXH"
    assert signature.get("Id") == profile.SIGNATURE_ID
    assert result.schema_errors(sealed) == []
    assert result.decode(sealed) == result_notice()


def test_ebhxhs_verifier_accepts_the_seal_and_returns_the_notice(
    sealed, seal_issued, trusted_root, revocation_server
):
    report, verified = verify_document(sealed, container=result.SEAL_CONTAINER, cert_policy=HARD)

    assert report.valid, report
    assert report.signature["root"] == "BHXH"
    assert verified is not None
    assert verified.certificate == seal_issued.certificate
    assert result.decode(verified.content) == result_notice()  # decode only what was verified


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (DOSSIER_NUMBER.encode(), DOSSIER_NUMBER.replace("00012", "00013").encode()),
        (b"<MA_KQUA>3</MA_KQUA>", b"<MA_KQUA>1</MA_KQUA>"),
        (b"<NGAY_TRA>27/11/2026", b"<NGAY_TRA>28/11/2026"),
        (b"<STT>2</STT>", b"<STT>3</STT>"),
        ("Phạm Minh Đức".encode(), "Phạm Minh Đứb".encode()),
        (
            RESULT_DOCUMENT_SHA256[:8].encode() * 8,
            b"5" + RESULT_DOCUMENT_SHA256[1:8].encode() + RESULT_DOCUMENT_SHA256[:8].encode() * 7,
        ),
        (b"<KICH_THUOC>48213", b"<KICH_THUOC>48214"),
    ],
    ids=[
        "dossier-number",
        "outcome",
        "result-date",
        "row-number",
        "refused-row",
        "document-sha256",
        "document-size",
    ],
)
def test_changing_one_byte_breaks_the_seal(sealed, old, new, trusted_root, revocation_server):
    tampered = one_byte_changed(sealed, old, new)

    with pytest.raises(SignatureError) as excinfo:
        xmldsig.verify(tampered, container=result.SEAL_CONTAINER)
    report, verified = verify_document(tampered, container=result.SEAL_CONTAINER, cert_policy=HARD)

    assert excinfo.value.code == "SIG-DIGEST"
    assert (report.valid, report.code, verified) == (False, "SIG-DIGEST", None)


def test_changing_one_byte_of_the_signature_value_breaks_the_seal(sealed):
    root = etree.fromstring(sealed)
    value = root.find(f".//{DS}SignatureValue").text.strip()
    index = len(value) // 2
    flipped = value[:index] + ("A" if value[index] != "A" else "B") + value[index + 1 :]

    tampered = one_byte_changed(sealed, value.encode(), flipped.encode())

    with pytest.raises(SignatureError):
        xmldsig.verify(tampered, container=result.SEAL_CONTAINER)
    report, _ = verify_document(tampered, container=result.SEAL_CONTAINER, cert_policy=HARD)
    assert not report.valid


def test_a_sealed_01_tb_gd_is_not_a_result_notice(seal_signer):
    # Same root, same seal node: the seal verifies, the decoder refuses.
    issued = issue_registration_confirmation(accepted_notice(), signer=seal_signer)
    verified = xmldsig.verify(issued.xml, container=result.SEAL_CONTAINER)

    with pytest.raises(NoticeError, match="not a valid 03/TB-TS"):
        result.decode(verified.content)
    assert tbgd.CONTAINER == result.SEAL_CONTAINER


# --- the independent implementation -------------------------------------------------------------


@pytest.fixture
def pem_files(pki, seal_issued, tmp_path) -> Path:
    (tmp_path / "root.pem").write_bytes(pem(pki.root))
    (tmp_path / "ca.pem").write_bytes(pem(pki.issuing))
    return tmp_path


@needs_xmlsec1
def test_xmlsec1_verifies_the_sealed_notice_and_refuses_a_changed_byte(sealed, pem_files):
    good = pem_files / "03-TB-TS.xml"
    good.write_bytes(sealed)
    bad = pem_files / "tampered.xml"
    bad.write_bytes(one_byte_changed(sealed, b"<MA_KQUA>3", b"<MA_KQUA>1"))
    trust = ["--trusted-pem", str(pem_files / "root.pem"), "--untrusted-pem"]

    accepted = xmlsec1("--verify", *trust, str(pem_files / "ca.pem"), str(good))
    refused = xmlsec1("--verify", *trust, str(pem_files / "ca.pem"), str(bad))

    assert accepted.returncode == 0, accepted.stderr
    assert refused.returncode != 0


# --- the seal from the settings -----------------------------------------------------------------


def test_it_uses_the_configured_agency_seal_and_writes_nothing(settings, seal_issued, tmp_path):
    key_file = tmp_path / "seal.p12"
    key_file.write_bytes(seal_issued.pkcs12(b"Seal-pw-2026"))
    settings.SEAL_PKCS11_MODULE = ""
    settings.SEAL_PKCS12_FILE = str(key_file)
    settings.SEAL_PKCS12_PASSWORD = "Seal-pw-2026"

    with CaptureQueriesContext(connection) as queries:
        data = issue_result(supplement_request())

    verified = xmldsig.verify(data, container=result.SEAL_CONTAINER)
    assert verified.certificate == seal_issued.certificate
    assert result.decode(data).outcome is Outcome.SUPPLEMENT_REQUESTED
    assert len(queries) == 0  # the caller stores the file in its own transaction


def test_an_invalid_notice_is_refused_before_sealing(seal_signer):
    with pytest.raises(NoticeError):
        issue_result(result_notice(refused_items=()), signer=seal_signer)


# --- the PDF, a rendition of the sealed record -----------------------------------------------


@needs_weasyprint
def test_the_pdf_renders_the_sealed_notice_with_its_seal(sealed, seal_issued):
    pdf = result_pdf(sealed)

    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    compact = "".join(text.split())
    for expected in [
        "THÔNG BÁO",
        UNIT_NAME,
        DOSSIER_NUMBER,
        "Trả kết quả ngày Result date 27/11/2026",
        "Chấp nhận một phần (mã kết quả 3)",
        "Phạm Minh Đức",
        "Chữ ký số cơ quan BHXH xác nhận",
    ]:
        assert expected in text, expected
    assert TRACKING_ID in compact
    assert f"{RESULT_DOCUMENT_SHA256[:16]}…{RESULT_DOCUMENT_SHA256[-8:]}" in text
    assert "".join(seal_issued.certificate.subject.rfc4514_string().split()) in compact
    assert format(seal_issued.certificate.serial_number, "X") in compact


@needs_weasyprint
def test_the_pdf_shows_what_the_seal_covers_not_the_bytes_around_it(sealed):
    # A comment is outside the signed content, so the seal still verifies; read naively, it
    # would cut the unit's name short. The PDF shows the verified content: the whole name.
    commented = sealed.replace(
        "Công ty TNHH Dệt may".encode(), "Công ty TNHH <!-- x -->Dệt may".encode()
    )
    assert result.decode(commented).unit_name == "Công ty TNHH "  # the naive reading

    text = pdf_text(result_pdf(commented))

    assert UNIT_NAME in text


def test_the_pdf_is_refused_for_a_changed_notice(sealed):
    tampered = one_byte_changed(sealed, b"<MA_KQUA>3", b"<MA_KQUA>1")

    with pytest.raises(SignatureError) as excinfo:
        result_pdf(tampered)
    assert excinfo.value.code == "SIG-DIGEST"


def test_the_pdf_is_refused_for_an_unsealed_notice():
    with pytest.raises(SignatureError):
        result_pdf(result.encode(result_notice()))


def test_the_pdf_is_refused_for_a_sealed_notice_of_another_kind(seal_signer):
    issued = issue_registration_confirmation(accepted_notice(), signer=seal_signer)

    with pytest.raises(NoticeError, match="not a valid 03/TB-TS"):
        result_pdf(issued.xml)
