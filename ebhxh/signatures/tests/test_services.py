"""services.verify_document (signature + certificate into a report) and the agency seal, end to end.

The test PKI's CRL is served by the local revocation server of test_trust_support; nothing leaves
127.0.0.1. The PKCS#11 seal runs on SoftHSM2 (skipped when it is not installed).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging

import pytest
import xmlsec
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from lxml import etree

from ebhxh.signatures import profile, services, xmldsig
from ebhxh.signatures.errors import PROBLEMS, SignatureError
from ebhxh.signatures.services import VerificationReport, agency_signer, seal, verify_document
from ebhxh.signatures.signers import KeySigner, Pkcs12Signer
from ebhxh.signatures.testing.documents import d02_document
from ebhxh.signatures.testing.pki import Issued
from ebhxh.signatures.testing.softhsm import shared_softhsm, softhsm_unavailable_reason
from ebhxh.signatures.trust import register_certificate
from ebhxh.signatures.validation import CertPolicy

# The PKI, the local CRL/OCSP server and the trusted-root fixtures.
pytest_plugins = ["ebhxh.signatures.tests.test_trust_support"]
pytestmark = pytest.mark.django_db

HARD = CertPolicy(revocation="hard-fail", fetch=True, timeout=5)
DS = f"{{{profile.DS_NS}}}"
SEAL_NAME = "Bảo hiểm xã hội Việt Nam — con dấu điện tử"
NOTICE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<BaoHiemDienTu>\n"
    "  <ThongBao>\n"
    "    <MauSo>02/TB-TS</MauSo>\n"
    "    <SoHoSo>79901-2026-000123</SoHoSo>\n"
    "    <NoiDung>Đã nhận hồ sơ D02-TS của đơn vị TA0001A.</NoiDung>\n"
    "  </ThongBao>\n"
    "</BaoHiemDienTu>\n"
).encode()


def signer_of(issued: Issued) -> KeySigner:
    return KeySigner(issued.key, issued.certificate, issued.chain[:-1])  # type: ignore[arg-type]


def signed_d02(issued: Issued, *, unit_code: str = "TA0001A", **options: object) -> bytes:
    return xmldsig.sign(d02_document(3, unit_code=unit_code), signer_of(issued), **options)  # type: ignore[arg-type]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def unit_signer(pki, revocation_server, trusted_root, unit_a, sysadmin) -> Issued:
    """Unit A's certificate: from the trusted test PKI, with a CRL, registered to unit A."""
    issued = revocation_server.issue(pki, unit_a.name, tax_code=unit_a.tax_code)
    register_certificate(unit_a, issued.cert_der, actor=sysadmin)
    return issued


# --- verify_document -------------------------------------------------------------------------


def test_a_registered_trusted_unrevoked_signature_is_valid(
    unit_signer, unit_a, trusted_root, revocation_server
):
    signed = signed_d02(unit_signer, unit_code=unit_a.code)

    report, verified = verify_document(signed, unit=unit_a, cert_policy=HARD)

    assert report.valid, report
    assert (report.code, report.detail) == (None, "")
    assert report.message_en == "The signature is valid."
    assert report.document_sha256 == sha256_hex(signed)
    assert report.moment == report.checked_at  # judged at receipt
    assert report.signature["method"] == profile.RSA_SHA256
    assert report.signature["digest"] == profile.SHA256
    assert report.signature["c14n"] == profile.C14N
    assert report.signature["root"] == "D02-TS"
    assert report.signature["signing_time"] is not None
    assert report.policy == {
        "allow_sha1": False,
        "revocation_mode": "hard-fail",
        "fetch_revocation": True,
        "moment": "receipt",
        "unit": unit_a.code,
    }
    # Signer, chain and revocation evidence.
    certificate = report.certificate
    assert certificate["ok"] is True
    assert certificate["registered"] is True
    assert certificate["signer"]["fingerprint"] == sha256_hex(unit_signer.cert_der)
    assert certificate["signer"]["tax_code"] == unit_a.tax_code
    assert len(certificate["chain"]) == 3
    assert certificate["chain"][0]["fingerprint"] == sha256_hex(unit_signer.cert_der)
    assert certificate["chain"][-1]["fingerprint"] == trusted_root.fingerprint
    [evidence] = certificate["revocation"]
    assert (evidence["source"], evidence["status"]) == ("crl", "good")
    assert evidence["url"] == revocation_server.crl_url
    # What was verified, and only that.
    assert isinstance(verified, xmldsig.VerifiedXml)
    assert verified.certificate == unit_signer.certificate
    assert verified.root.findtext("ThongTinDonVi/MaDonVi") == unit_a.code
    assert next(verified.root.iter(f"{DS}Signature"), None) is None


def test_the_report_is_json_and_round_trips(unit_signer, unit_a):
    signed = signed_d02(unit_signer, unit_code=unit_a.code)
    report, _ = verify_document(signed, unit=unit_a, cert_policy=HARD)

    text = report.to_json()
    data = json.loads(text)

    assert data == report.as_dict()
    assert VerificationReport(**data) == report
    assert data["document_sha256"] == sha256_hex(signed)
    assert data["valid"] is True
    assert "Chữ ký số hợp lệ." in text  # ensure_ascii=False: Vietnamese stays readable


def test_a_certificate_registered_to_another_unit_is_refused(
    unit_signer, unit_a, unit_b, revocation_server
):
    signed = signed_d02(unit_signer, unit_code=unit_a.code)

    report, verified = verify_document(signed, unit=unit_b, cert_policy=HARD)

    assert not report.valid
    assert report.code == "CERT-NOT-REGISTERED"
    assert report.message_vi == PROBLEMS["CERT-NOT-REGISTERED"].message_vi
    assert report.certificate["registered"] is False
    assert report.policy["unit"] == unit_b.code
    assert verified is None
    assert revocation_server.count("/issuing.crl") == 0  # refused before any fetch


def test_a_tampered_document_is_refused_before_the_certificate(unit_signer, revocation_server):
    signed = signed_d02(unit_signer)
    tampered = signed.replace("Nhân viên kỹ thuật".encode(), "Giám đốc".encode(), 1)
    assert tampered != signed

    report, verified = verify_document(tampered, cert_policy=HARD)

    assert report.code == "SIG-DIGEST"
    assert not report.valid
    assert report.message_en == PROBLEMS["SIG-DIGEST"].message_en
    assert report.signature == {}
    assert report.certificate == {}
    assert report.document_sha256 == sha256_hex(tampered)
    assert verified is None
    assert revocation_server.requests == []
    json.loads(report.to_json())


def test_with_an_empty_trust_store_nothing_is_trusted(pki, revocation_server):
    issued = revocation_server.issue(pki, "Công ty TNHH Sao Mai")

    report, verified = verify_document(signed_d02(issued), cert_policy=HARD)

    assert report.code == "CERT-UNTRUSTED"
    assert verified is None
    assert report.signature["method"] == profile.RSA_SHA256  # the signature itself was fine
    assert report.certificate["ok"] is False
    assert revocation_server.requests == []


def test_a_revoked_certificate_is_refused(pki, revocation_server, trusted_root):
    issued = revocation_server.issue(pki, "Bị thu hồi")
    pki.revoke(issued)

    report, verified = verify_document(signed_d02(issued), cert_policy=HARD)

    assert report.code == "CERT-REVOKED"
    assert verified is None
    assert report.certificate["revocation"][0]["status"] == "revoked"


def sha1_signed(document: bytes, issued: Issued, signing_time: dt.datetime) -> bytes:
    """A legacy RSA-SHA1/SHA-1 signature made by python-xmlsec, as old VSS clients write it:
    X509Data with the chain and the (unsigned) SigningTime object."""
    constants = xmlsec.constants
    root = etree.fromstring(document)
    signature = xmlsec.template.create(
        root, constants.TransformInclC14N, constants.TransformRsaSha1, ns="ds", id="sigid"
    )
    root.find("Cky").append(signature)
    reference = xmlsec.template.add_reference(signature, constants.TransformSha1, uri="")
    xmlsec.template.add_transform(reference, constants.TransformEnveloped)
    key_info = xmlsec.template.ensure_key_info(signature)
    xmlsec.template.x509_data_add_certificate(xmlsec.template.add_x509_data(key_info))
    key = xmlsec.Key.from_memory(issued.key_pem, constants.KeyDataFormatPem)
    key.load_cert_from_memory(issued.cert_pem, constants.KeyDataFormatCertPem)
    ctx = xmlsec.SignatureContext()
    ctx.key = key
    ctx.sign(signature)
    # Re-parsed: lxml's find() does not see the nodes libxmlsec created.
    root = etree.fromstring(etree.tostring(root))
    signature = next(root.iter(f"{DS}Signature"))
    # Neither is covered by the signature: added after signing, as the profile allows.
    x509_data = signature.find(f"{DS}KeyInfo/{DS}X509Data")
    for ca in issued.chain[:-1]:
        etree.SubElement(x509_data, f"{DS}X509Certificate").text = base64.b64encode(
            ca.public_bytes(serialization.Encoding.DER)
        ).decode()
    obj = etree.SubElement(signature, f"{DS}Object")
    properties = etree.SubElement(obj, f"{DS}SignatureProperties", Id="proid")
    prop = etree.SubElement(properties, f"{DS}SignatureProperty", Target="#sigid")
    etree.SubElement(
        prop,
        f"{{{profile.SIGNING_TIME_NS}}}SigningTime",
        nsmap={None: profile.SIGNING_TIME_NS},  # type: ignore[dict-item]
    ).text = signing_time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def test_sha1_is_refused_unless_the_legacy_switch_is_on(
    pki, revocation_server, trusted_root, settings
):
    issued = revocation_server.issue(pki, "Khách hàng dùng token cũ")
    legacy = sha1_signed(d02_document(2), issued, timezone.now())

    settings.SIGNATURE_ALLOW_SHA1 = False
    report, verified = verify_document(legacy, cert_policy=HARD)
    assert (report.code, verified) == ("SIG-SHA1-DISABLED", None)
    assert report.policy["allow_sha1"] is False

    settings.SIGNATURE_ALLOW_SHA1 = True
    report, verified = verify_document(legacy, cert_policy=HARD)
    assert report.valid, report
    assert (report.signature["method"], report.signature["digest"]) == (
        profile.RSA_SHA1,
        profile.SHA1,
    )
    assert report.policy["allow_sha1"] is True
    assert verified is not None and verified.certificate == issued.certificate


def test_a_signing_time_in_the_future_is_refused(pki, revocation_server, trusted_root):
    issued = revocation_server.issue(pki, "Đồng hồ chạy nhanh")
    now = timezone.now()

    future = signed_d02(issued, signing_time=now + dt.timedelta(hours=1))
    report, verified = verify_document(future, cert_policy=HARD)

    assert report.code == "SIG-SIGNING-TIME"
    assert verified is None
    assert "future" in report.detail
    assert report.signature["signing_time"] is not None
    assert report.certificate == {}
    assert revocation_server.requests == []

    # A couple of minutes of clock skew is tolerated.
    skewed = signed_d02(issued, signing_time=now + dt.timedelta(minutes=2))
    assert verify_document(skewed, cert_policy=HARD)[0].valid


def test_backdating_an_expired_certificate_does_not_work_at_intake(
    pki, revocation_server, trusted_root
):
    now = timezone.now()
    expired = revocation_server.issue(
        pki,
        "Hết hạn hôm qua",
        not_before=now - dt.timedelta(days=200),
        not_after=now - dt.timedelta(days=1),
    )
    claimed = (now - dt.timedelta(days=30)).replace(microsecond=0)
    backdated = signed_d02(expired, signing_time=claimed)

    at_receipt, verified = verify_document(backdated, cert_policy=HARD)
    assert at_receipt.code == "CERT-EXPIRED"
    assert verified is None
    assert at_receipt.policy["moment"] == "receipt"

    # An archive check judges at the claimed signing time.
    archive, verified = verify_document(backdated, use_signing_time=True, cert_policy=HARD)
    assert archive.valid, archive
    assert verified is not None
    assert archive.policy["moment"] == "signing_time"
    assert dt.datetime.fromisoformat(archive.moment) == claimed

    # A dossier received (`at`) before the certificate expired was fine then.
    received, _ = verify_document(backdated, at=now - dt.timedelta(days=2), cert_policy=HARD)
    assert received.valid, received


# --- the agency seal ---------------------------------------------------------------------------


@pytest.fixture
def seal_issued(pki, revocation_server) -> Issued:
    return revocation_server.issue(pki, SEAL_NAME)


@pytest.fixture
def no_seal_configured(settings, tmp_path):
    settings.SEAL_PKCS11_MODULE = ""
    settings.SEAL_PKCS11_TOKEN = ""
    settings.SEAL_PKCS11_KEY_LABEL = ""
    settings.SEAL_PKCS11_PIN = ""
    settings.SEAL_PKCS12_FILE = ""
    settings.SEAL_PKCS12_PASSWORD = ""
    settings.DEMO_PKI_DIR = tmp_path / "no-demo-pki"
    return settings


def assert_sealed_by(sealed: bytes, issued: Issued) -> None:
    verified = xmldsig.verify(sealed)
    assert verified.certificate == issued.certificate
    signature = next(etree.fromstring(sealed).iter(f"{DS}Signature"))
    assert signature.getparent().tag == "CKy_CQBHXH"  # the notice's designated node
    report, _ = verify_document(sealed, cert_policy=HARD)
    assert report.valid, report
    assert report.certificate["signer"]["fingerprint"] == sha256_hex(issued.cert_der)


def test_seal_with_an_explicit_signer(seal_issued, trusted_root):
    sealed = seal(NOTICE, signer=signer_of(seal_issued))

    assert_sealed_by(sealed, seal_issued)
    assert b"79901-2026-000123" in sealed


def test_the_seal_from_a_pkcs12_file(no_seal_configured, seal_issued, trusted_root, tmp_path, pki):
    settings = no_seal_configured
    key_file = tmp_path / "seal.p12"
    key_file.write_bytes(seal_issued.pkcs12(b"Seal-pw-2026"))
    settings.SEAL_PKCS12_FILE = str(key_file)
    settings.SEAL_PKCS12_PASSWORD = "Seal-pw-2026"
    # A demo seal lying around must not win over the configured one.
    settings.DEMO_PKI_DIR = tmp_path / "demo-pki"
    settings.DEMO_PKI_DIR.mkdir()
    (settings.DEMO_PKI_DIR / "agency-seal.p12").write_bytes(pki.issue("Demo").pkcs12(None))

    signer = agency_signer()

    assert isinstance(signer, Pkcs12Signer)
    assert signer.certificate() == seal_issued.certificate
    assert_sealed_by(seal(NOTICE), seal_issued)

    settings.SEAL_PKCS12_PASSWORD = "wrong"
    with pytest.raises(SignatureError) as excinfo:
        agency_signer()
    assert excinfo.value.code == "SIGN-KEY"


def test_without_any_seal_it_is_improperly_configured(no_seal_configured):
    with pytest.raises(ImproperlyConfigured, match="SEAL_PKCS11_MODULE or SEAL_PKCS12_FILE"):
        agency_signer()
    with pytest.raises(ImproperlyConfigured):
        seal(NOTICE)


def test_the_demo_seal_is_used_with_a_warning(
    no_seal_configured, seal_issued, trusted_root, tmp_path, caplog
):
    demo_dir = tmp_path / "demo-pki"
    demo_dir.mkdir()
    (demo_dir / "agency-seal.p12").write_bytes(seal_issued.pkcs12(None))
    no_seal_configured.DEMO_PKI_DIR = demo_dir

    with caplog.at_level(logging.WARNING, logger="ebhxh.signatures"):
        signer = agency_signer()

    assert signer.certificate() == seal_issued.certificate
    [record] = [r for r in caplog.records if r.name == "ebhxh.signatures"]
    assert record.levelno == logging.WARNING
    assert "DEMO" in record.getMessage()
    assert str(demo_dir / "agency-seal.p12") in record.getMessage()
    assert_sealed_by(seal(NOTICE), seal_issued)


class _ClosingSigner(KeySigner):
    def __init__(self, issued: Issued) -> None:
        super().__init__(issued.key, issued.certificate, issued.chain[:-1])  # type: ignore[arg-type]
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_seal_closes_the_signer_it_made_but_not_the_callers(seal_issued, monkeypatch):
    made = _ClosingSigner(seal_issued)
    monkeypatch.setattr(services, "agency_signer", lambda: made)
    seal(NOTICE)
    assert made.closed == 1

    mine = _ClosingSigner(seal_issued)
    seal(NOTICE, signer=mine)
    assert mine.closed == 0


PIN = "864213"


def test_the_seal_on_a_pkcs11_token(no_seal_configured, pki, revocation_server, trusted_root):
    reason = softhsm_unavailable_reason()
    if reason:
        pytest.skip(reason)
    from ebhxh.signatures.pkcs11 import Pkcs11Signer

    hsm = shared_softhsm()
    label = hsm.unique_label("seal")
    hsm.init_token(label, PIN)
    on_token = hsm.provision_signer(
        pki,
        label,
        PIN,
        common_name=SEAL_NAME,
        key_label="seal",
        with_chain=True,
        crl_url=revocation_server.crl_url,
    )
    settings = no_seal_configured
    settings.SEAL_PKCS11_MODULE = hsm.module_path
    settings.SEAL_PKCS11_TOKEN = label
    settings.SEAL_PKCS11_KEY_LABEL = "seal"
    settings.SEAL_PKCS11_PIN = PIN

    signer = agency_signer()
    assert isinstance(signer, Pkcs11Signer)
    try:
        assert signer.certificate() == on_token.certificate
        assert signer.key_label == "seal"
    finally:
        signer.close()

    sealed = seal(NOTICE)

    verified = xmldsig.verify(sealed)
    assert verified.certificate == on_token.certificate
    report, _ = verify_document(sealed, cert_policy=HARD)
    assert report.valid, report
    assert report.certificate["signer"]["subject"] == on_token.certificate.subject.rfc4514_string()


def test_the_demo_dir_may_be_a_string(no_seal_configured, seal_issued, tmp_path):
    (tmp_path / "agency-seal.p12").write_bytes(seal_issued.pkcs12(None))
    no_seal_configured.DEMO_PKI_DIR = str(tmp_path)

    assert agency_signer().certificate() == seal_issued.certificate


def test_the_seal_file_is_read_once_per_process_and_again_when_replaced(settings, tmp_path):
    from ebhxh.signatures.services import agency_signer
    from ebhxh.signatures.testing.pki import TestPKI

    pki = TestPKI(name="ebhxh Seal Cache")
    path = tmp_path / "seal.p12"
    path.write_bytes(pki.issue("Con dấu một").pkcs12(None))
    settings.SEAL_PKCS12_FILE = str(path)
    settings.SEAL_PKCS12_PASSWORD = ""
    first = agency_signer()
    assert agency_signer() is first
    replaced = tmp_path / "new.p12"
    replaced.write_bytes(pki.issue("Con dấu hai").pkcs12(None))
    replaced.replace(path)  # a new file at the same path
    second = agency_signer()
    assert second is not first
    assert "Con dấu hai" in second.certificate().subject.rfc4514_string()
