"""The CRL/OCSP cache (fetch once, reuse until nextUpdate) and the administrator's CRL upload."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from django.utils import timezone

from ebhxh.audit.models import AuditEvent
from ebhxh.signatures.models import OcspResponseCache, RevocationList
from ebhxh.signatures.revocation import key_id, revocation_sources, upload_crl
from ebhxh.signatures.testing.pki import TestPKI
from ebhxh.signatures.trust import TrustStoreError, add_intermediate_certificate
from ebhxh.signatures.validation import CertPolicy, validate_certificate

# The PKI, the local CRL/OCSP server and the trusted-root fixtures.
pytest_plugins = ["ebhxh.signatures.tests.test_trust_support"]
pytestmark = pytest.mark.django_db

HARD = CertPolicy(revocation="hard-fail", fetch=True, timeout=5)
OFFLINE = CertPolicy(revocation="hard-fail", fetch=False, timeout=5)


def check(issued, *, policy=HARD, moment=None):
    return validate_certificate(
        issued.certificate,
        intermediates=issued.chain[:-1],
        moment=moment or timezone.now(),
        policy=policy,
    )


def root_crl(pki: TestPKI, *, revoked=(), next_update=dt.timedelta(days=30)) -> bytes:
    """A CRL of the root CA (the test PKI only makes the issuing CA's)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.root.certificate.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + next_update)
        .add_extension(x509.CRLNumber(1), critical=False)
    )
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(now - dt.timedelta(hours=1))
            .build()
        )
    return builder.sign(pki.root.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_it_reads_the_sources_from_the_certificate(pki, revocation_server):
    cert = revocation_server.issue(pki, "Sao Mai", ocsp=True)

    assert revocation_sources(cert.certificate) == (
        [revocation_server.crl_url],
        [revocation_server.ocsp_url],
    )


def test_the_crl_is_fetched_once_and_reused_until_its_next_update(
    pki, revocation_server, trusted_root, settings
):
    settings.SIGNATURE_CACHE_SECONDS = 0  # the revocation cache itself, not remembered decisions
    good = revocation_server.issue(pki, "Sao Mai")
    other = revocation_server.issue(pki, "Bến Nghé")

    first = check(good)
    second = check(good)
    third = check(other)  # same CA, same distribution point

    assert first.ok and second.ok and third.ok
    assert revocation_server.count("/issuing.crl") == 1
    assert first.revocation[0].cached is False
    assert second.revocation[0].cached is True
    row = RevocationList.objects.get(source_url=revocation_server.crl_url)
    assert row.issuer_key_id == key_id(pki.issuing.certificate)
    assert row.next_update is not None

    with time_machine.travel(row.next_update - dt.timedelta(minutes=1)):
        assert check(good, moment=timezone.now()).ok
        assert revocation_server.count("/issuing.crl") == 1

    with time_machine.travel(row.next_update + dt.timedelta(minutes=1)):
        report = check(good, moment=timezone.now())
        assert report.ok, report
        assert revocation_server.count("/issuing.crl") == 2
        assert report.revocation[0].cached is False
    assert RevocationList.objects.filter(source_url=revocation_server.crl_url).count() == 1


def test_a_revocation_after_the_cached_crl_shows_only_after_its_next_update(
    pki, revocation_server, trusted_root
):
    cert = revocation_server.issue(pki, "Thu hồi muộn")
    assert check(cert).ok
    pki.revoke(cert, when=timezone.now())
    assert check(cert).ok  # the cached CRL is still current: that is what caching means

    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        assert check(cert, moment=timezone.now()).code == "CERT-REVOKED"


def test_a_crl_signed_by_someone_else_is_not_cached(pki, revocation_server, trusted_root):
    cert = revocation_server.issue(pki, "Sao Mai")
    revocation_server.pki = TestPKI(name="Giả mạo")  # the server now signs with another CA

    report = check(cert)

    assert report.code == "CERT-REVOCATION-UNKNOWN"
    assert any("not signed by" in w for w in report.warnings)
    assert not RevocationList.objects.exists()


def test_an_uploaded_crl_is_used_without_fetching(pki, revocation_server, trusted_root, sysadmin):
    add_intermediate_certificate(pki.issuing.cert_pem, actor=sysadmin)
    revoked = revocation_server.issue(pki, "Bị thu hồi")
    good = revocation_server.issue(pki, "Còn hiệu lực")
    pki.revoke(revoked)

    row = upload_crl(pki.crl(), actor=sysadmin)

    assert row.uploaded and row.uploaded_by == sysadmin
    assert row.revoked_count == 1
    assert check(good).ok
    report = check(revoked)
    assert report.code == "CERT-REVOKED"
    assert report.revocation[0].uploaded is True
    assert revocation_server.count("/issuing.crl") == 0


def test_an_uploaded_crl_works_with_fetching_switched_off(
    pki, revocation_server, trusted_root, sysadmin
):
    add_intermediate_certificate(pki.issuing.cert_pem, actor=sysadmin)
    good = revocation_server.issue(pki, "Ngoại tuyến")
    pem_crl = x509.load_der_x509_crl(pki.crl()).public_bytes(serialization.Encoding.PEM)

    upload_crl(pem_crl, actor=sysadmin)

    assert check(good, policy=OFFLINE).ok
    assert revocation_server.requests == []


def test_the_upload_records_an_audit_event(pki, trusted_root, sysadmin):
    add_intermediate_certificate(pki.issuing.cert_pem, actor=sysadmin)

    row = upload_crl(pki.crl(), actor=sysadmin)

    event = AuditEvent.objects.get(tag="trust:crl:upload")
    assert event.actor == sysadmin
    assert event.subject_id == str(row.pk)
    assert event.data["after"]["sha256"] == row.sha256


def test_a_newer_upload_replaces_the_previous_one_and_an_older_one_is_refused(
    pki, trusted_root, sysadmin
):
    add_intermediate_certificate(pki.issuing.cert_pem, actor=sysadmin)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    older = pki.crl(last_update=now - dt.timedelta(days=2))
    newer = pki.crl(last_update=now - dt.timedelta(hours=1))

    first = upload_crl(older, actor=sysadmin)
    second = upload_crl(newer, actor=sysadmin)
    assert second.pk == first.pk
    assert RevocationList.objects.count() == 1

    with pytest.raises(TrustStoreError) as excinfo:
        upload_crl(older, actor=sysadmin)
    assert excinfo.value.code == "crl_outdated"


def test_a_crl_of_an_unknown_ca_is_refused(pki, trusted_root, sysadmin):
    stranger = TestPKI(name="Lạ")

    with pytest.raises(TrustStoreError) as excinfo:
        upload_crl(stranger.crl(), actor=sysadmin)

    assert excinfo.value.code == "crl_unknown_issuer"
    assert "known certification authority" in excinfo.value.message_en
    assert not RevocationList.objects.exists()
    assert not AuditEvent.objects.filter(tag="trust:crl:upload").exists()


def test_the_issuing_ca_must_be_known_before_its_crl_is_uploaded(pki, trusted_root, sysadmin):
    with pytest.raises(TrustStoreError) as excinfo:
        upload_crl(pki.crl(), actor=sysadmin)

    assert excinfo.value.code == "crl_unknown_issuer"


def test_a_crl_under_a_disabled_root_is_refused(pki, trusted_root, sysadmin):
    from ebhxh.signatures.trust import disable_trusted_root

    add_intermediate_certificate(pki.issuing.cert_pem, actor=sysadmin)
    disable_trusted_root(trusted_root, actor=sysadmin)

    with pytest.raises(TrustStoreError):
        upload_crl(pki.crl(), actor=sysadmin)


def test_garbage_is_not_a_crl(trusted_root, sysadmin):
    with pytest.raises(TrustStoreError) as excinfo:
        upload_crl(b"not a crl", actor=sysadmin)

    assert excinfo.value.code == "crl_malformed"


def test_require_mode_is_satisfied_by_the_roots_uploaded_crl(
    pki, revocation_server, trusted_root, sysadmin
):
    good = revocation_server.issue(pki, "Sao Mai")
    require = CertPolicy(revocation="require", fetch=True, timeout=5)
    assert check(good, policy=require).code == "CERT-REVOCATION-UNKNOWN"

    upload_crl(root_crl(pki), actor=sysadmin)

    report = check(good, policy=require)
    assert report.ok, report
    assert {e.subject.split(",")[0] for e in report.revocation} == {
        "CN=Sao Mai",
        "CN=ebhxh Test Issuing CA",
    }


def test_a_revoked_intermediate_revokes_its_signers(pki, revocation_server, trusted_root, sysadmin):
    good = revocation_server.issue(pki, "Sao Mai")

    upload_crl(root_crl(pki, revoked=[pki.issuing.certificate]), actor=sysadmin)

    assert check(good).code == "CERT-REVOKED"


def test_the_ocsp_answer_is_cached_until_its_next_update(pki, revocation_server, trusted_root):
    good = revocation_server.issue(pki, "OCSP", crl=False, ocsp=True)

    assert check(good).ok
    row = OcspResponseCache.objects.get()
    assert row.status == "good"
    assert row.source_url == revocation_server.ocsp_url

    with time_machine.travel(row.next_update - dt.timedelta(minutes=1)):
        check(good, moment=timezone.now())
    assert revocation_server.count("/ocsp") == 1

    with time_machine.travel(row.next_update + dt.timedelta(minutes=1)):
        check(good, moment=timezone.now())
    assert revocation_server.count("/ocsp") == 2
    assert OcspResponseCache.objects.count() == 1


def test_ocsp_is_the_fallback_when_the_crl_cannot_be_fetched(pki, revocation_server, trusted_root):
    cert = pki.issue(
        "CRL hỏng, OCSP tốt",
        crl_url=f"http://127.0.0.1:{revocation_server.port}/missing.crl",
        ocsp_url=revocation_server.ocsp_url,
    )

    report = check(cert)

    assert report.ok, report
    assert [e.source for e in report.revocation] == ["ocsp"]
    assert any("missing.crl" in w for w in report.warnings)


@pytest.mark.parametrize("mode", ["hard-fail", "soft-fail"])
def test_an_uploaded_crl_also_covers_a_certificate_naming_only_ocsp(
    pki, revocation_server, trusted_root, sysadmin, mode
):
    # pyhanko's legacy hard-fail only looks at the kind of source a certificate names.
    add_intermediate_certificate(pki.issuing.cert_pem, actor=sysadmin)
    good = revocation_server.issue(pki, "Chỉ OCSP", crl=False, ocsp=True)
    revoked = revocation_server.issue(pki, "Chỉ OCSP, thu hồi", crl=False, ocsp=True)
    pki.revoke(revoked)
    upload_crl(pki.crl(), actor=sysadmin)
    offline = CertPolicy(revocation=mode, fetch=False)

    assert check(good, policy=offline).ok
    assert check(revoked, policy=offline).code == "CERT-REVOKED"


def _ocsp_answer(pki: TestPKI, subject, *, signer_key, signer_cert, certs=()) -> bytes:
    """An OCSP answer about ``subject`` signed by whoever the test says."""
    from cryptography.x509 import ocsp

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=subject.certificate,
            issuer=pki.issuing.certificate,
            algorithm=hashes.SHA1(),  # noqa: S303 - CertID hash, as responders use
            cert_status=ocsp.OCSPCertStatus.GOOD,
            this_update=now - dt.timedelta(minutes=1),
            next_update=now + dt.timedelta(hours=4),
            revocation_time=None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, signer_cert)
    )
    if certs:
        builder = builder.certificates(list(certs))
    return builder.sign(signer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _responder(pki: TestPKI, *, ocsp_signing: bool = True):
    """A delegated OCSP responder certificate issued by the issuing CA."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    usage = [ExtendedKeyUsageOID.OCSP_SIGNING if ocsp_signing else ExtendedKeyUsageOID.CLIENT_AUTH]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OCSP responder")]))
        .issuer_name(pki.issuing.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
        .sign(pki.issuing.key, hashes.SHA256())
    )
    return key, cert


def test_an_answer_from_a_delegated_responder_is_accepted(pki):
    from ebhxh.signatures.revocation import _check_ocsp

    subject = pki.issue("Ủy quyền OCSP")
    key, cert = _responder(pki)
    der = _ocsp_answer(pki, subject, signer_key=key, signer_cert=cert, certs=[cert])

    _response, single = _check_ocsp(der, subject.certificate, pki.issuing.certificate)

    assert single.serial_number == subject.certificate.serial_number


@pytest.mark.parametrize(
    "case", ["not_delegated", "foreign_responder", "tampered", "other_certificate"]
)
def test_a_forged_ocsp_answer_is_refused(pki, case):
    from ebhxh.signatures.revocation import RevocationFetchError, _check_ocsp

    subject = pki.issue("Giả mạo OCSP")
    genuine = {"signer_key": pki.issuing.key, "signer_cert": pki.issuing.certificate}
    if case == "not_delegated":  # issued by the CA, but not for OCSP signing
        key, cert = _responder(pki, ocsp_signing=False)
        der = _ocsp_answer(pki, subject, signer_key=key, signer_cert=cert, certs=[cert])
    elif case == "foreign_responder":  # an OCSP-signing certificate from another CA
        key, cert = _responder(TestPKI(name="Lạ"))
        der = _ocsp_answer(pki, subject, signer_key=key, signer_cert=cert, certs=[cert])
    elif case == "tampered":  # the signature is the last field when no certificates follow
        der = _ocsp_answer(pki, subject, **genuine)
        der = der[:-1] + bytes([der[-1] ^ 0x01])
    else:  # a genuine answer, about another certificate
        der = _ocsp_answer(pki, pki.issue("Người khác"), **genuine)

    with pytest.raises(RevocationFetchError):
        _check_ocsp(der, subject.certificate, pki.issuing.certificate)


def test_a_redirect_away_from_http_is_not_followed(pki, revocation_server, trusted_root):
    cert = pki.issue("Chuyển hướng", crl_url=f"http://127.0.0.1:{revocation_server.port}/ftp.crl")

    report = check(cert)

    assert report.code == "CERT-REVOCATION-UNKNOWN"
    assert any("HTTP 302" in w for w in report.warnings)
