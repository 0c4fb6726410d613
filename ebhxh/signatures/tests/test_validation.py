"""validate_certificate: path, time, key usage, registration and revocation, as stable codes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from django.utils import timezone

from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.models import IntermediateCertificate, RevocationList
from ebhxh.signatures.testing.pki import TestPKI
from ebhxh.signatures.trust import disable_trusted_root, register_certificate, withdraw_certificate
from ebhxh.signatures.validation import CertPolicy, validate_certificate

# The PKI, the local CRL/OCSP server and the trusted-root fixtures.
pytest_plugins = ["ebhxh.signatures.tests.test_trust_support"]
pytestmark = pytest.mark.django_db

HARD = CertPolicy(revocation="hard-fail", fetch=True, timeout=5)
SOFT = CertPolicy(revocation="soft-fail", fetch=True, timeout=5)


def check(issued, *, policy=HARD, moment=None, unit=None, with_chain=True):
    return validate_certificate(
        issued.certificate,
        intermediates=issued.chain[:-1] if with_chain else (),
        moment=moment or timezone.now(),
        unit=unit,
        policy=policy,
    )


def test_it_accepts_a_good_certificate_with_crl_evidence(pki, revocation_server, trusted_root):
    good = revocation_server.issue(pki, "Công ty TNHH Sao Mai", tax_code="0310000017")

    report = check(good)

    assert report.ok, report
    assert report.code is None
    assert report.signer.tax_code == "0310000017"
    assert report.signer.fingerprint == hashlib.sha256(good.cert_der).hexdigest()
    assert [link.fingerprint for link in report.chain][-1] == trusted_root.fingerprint
    assert len(report.chain) == 3
    [evidence] = report.revocation
    assert evidence.source == "crl"
    assert evidence.url == revocation_server.crl_url
    assert evidence.status == "good"
    assert evidence.cached is False
    assert report.registered is None
    assert report.policy.mode == "hard-fail"
    # The report is plain JSON.
    data = json.loads(json.dumps(report.as_dict()))
    assert data["ok"] is True
    assert data["revocation"][0]["source"] == "crl"
    assert data["signer"]["serial"] == f"{good.certificate.serial_number:X}".rjust(
        len(data["signer"]["serial"]), "0"
    )


def test_it_learns_the_intermediate_so_later_paths_need_no_chain(
    pki, revocation_server, trusted_root
):
    good = revocation_server.issue(pki, "Sao Mai")
    assert check(good).ok
    assert IntermediateCertificate.objects.filter(subject__contains="Issuing CA").exists()

    assert check(good, with_chain=False).ok


def test_it_refuses_a_certificate_revoked_on_the_crl(pki, revocation_server, trusted_root):
    revoked = revocation_server.issue(pki, "Bị thu hồi")
    pki.revoke(revoked)

    report = check(revoked)

    assert report.code == "CERT-REVOKED"
    assert not report.ok
    assert report.revocation[0].status == "revoked"
    with pytest.raises(SignatureError) as excinfo:
        report.raise_for_error()
    assert excinfo.value.code == "CERT-REVOKED"
    assert report.as_dict()["message_vi"] == "Chứng thư số đã bị thu hồi."


def test_it_refuses_a_certificate_revoked_by_ocsp(pki, revocation_server, trusted_root):
    revoked = revocation_server.issue(pki, "Thu hồi OCSP", crl=False, ocsp=True)
    pki.revoke(revoked)

    report = check(revoked)

    assert report.code == "CERT-REVOKED"
    assert report.revocation[0].source == "ocsp"
    assert revocation_server.count("/ocsp") == 1


def test_it_accepts_a_good_certificate_by_ocsp_and_caches_the_answer(
    pki, revocation_server, trusted_root, settings
):
    settings.SIGNATURE_CACHE_SECONDS = 0  # the revocation cache itself, not remembered decisions
    good = revocation_server.issue(pki, "OCSP tốt", crl=False, ocsp=True)

    first = check(good)
    second = check(good)

    assert first.ok and second.ok
    assert first.revocation[0].source == "ocsp" and first.revocation[0].status == "good"
    assert second.revocation[0].cached is True
    assert revocation_server.count("/ocsp") == 1


def test_unreachable_crl_under_hard_fail_is_revocation_unknown(pki, trusted_root, dead_url):
    cert = pki.issue("Không tải được CRL", crl_url=dead_url)

    report = check(cert, policy=HARD)

    assert report.code == "CERT-REVOCATION-UNKNOWN"
    assert any(dead_url in w for w in report.warnings)


def test_unreachable_crl_under_soft_fail_is_accepted_with_a_warning(pki, trusted_root, dead_url):
    cert = pki.issue("Không tải được CRL", crl_url=dead_url)

    report = check(cert, policy=SOFT)

    assert report.ok
    assert report.revocation == ()
    assert any(dead_url in w for w in report.warnings)
    assert any("soft-fail" in w for w in report.warnings)


def test_without_fetching_and_without_a_cached_crl_it_is_revocation_unknown(
    pki, revocation_server, trusted_root
):
    cert = revocation_server.issue(pki, "Không tải")

    report = check(cert, policy=CertPolicy(revocation="hard-fail", fetch=False))

    assert report.code == "CERT-REVOCATION-UNKNOWN"
    assert revocation_server.count("/issuing.crl") == 0


def test_it_refuses_a_certificate_expired_at_the_signing_moment(
    pki, revocation_server, trusted_root
):
    now = timezone.now()
    old = revocation_server.issue(
        pki,
        "Hết hạn",
        not_before=now - dt.timedelta(days=200),
        not_after=now - dt.timedelta(days=1),
    )

    report = check(old, moment=now)

    assert report.code == "CERT-EXPIRED"
    assert revocation_server.count("/issuing.crl") == 0  # refused before any fetch


def test_it_refuses_a_certificate_not_yet_valid_at_the_signing_moment(
    pki, revocation_server, trusted_root
):
    now = timezone.now()
    future = revocation_server.issue(
        pki,
        "Chưa hiệu lực",
        not_before=now + dt.timedelta(days=1),
        not_after=now + dt.timedelta(days=300),
    )

    assert check(future, moment=now).code == "CERT-NOT-YET-VALID"


def test_a_certificate_expired_now_is_valid_at_an_earlier_signing_moment(
    pki, revocation_server, trusted_root
):
    now = timezone.now()
    old = revocation_server.issue(
        pki,
        "Hết hạn hôm qua",
        not_before=now - dt.timedelta(days=200),
        not_after=now - dt.timedelta(days=10),
    )

    report = check(old, moment=now - dt.timedelta(days=30))

    assert report.ok, report
    assert report.revocation[0].source == "crl"


def test_a_certificate_revoked_after_the_signing_moment_was_good_at_that_moment(
    pki, revocation_server, trusted_root
):
    cert = revocation_server.issue(pki, "Thu hồi sau khi ký")
    pki.revoke(cert, when=pki.now - dt.timedelta(hours=1))

    assert check(cert, moment=timezone.now() - dt.timedelta(hours=2)).ok
    assert check(cert, moment=timezone.now()).code == "CERT-REVOKED"


def test_it_refuses_a_certificate_without_signing_key_usage(pki, revocation_server, trusted_root):
    cert = revocation_server.issue(
        pki, "Sai mục đích", digital_signature=False, non_repudiation=False
    )

    report = check(cert)

    assert report.code == "CERT-KEY-USAGE"
    assert revocation_server.count("/issuing.crl") == 0


def test_non_repudiation_alone_is_enough(pki, revocation_server, trusted_root):
    cert = revocation_server.issue(
        pki, "Chỉ chống chối bỏ", digital_signature=False, non_repudiation=True
    )

    assert check(cert).ok


def test_digital_signature_alone_is_enough(pki, revocation_server, trusted_root):
    cert = revocation_server.issue(pki, "Chỉ ký số", digital_signature=True, non_repudiation=False)

    assert check(cert).ok


def test_it_refuses_a_self_signed_outsider(pki, trusted_root):
    outsider = pki.self_signed("Kẻ lạ")

    report = check(outsider)

    assert report.code == "CERT-UNTRUSTED"
    assert len(report.chain) == 1


def test_an_empty_trust_store_trusts_nothing(pki, revocation_server):
    good = revocation_server.issue(pki, "Sao Mai")

    assert check(good).code == "CERT-UNTRUSTED"


def test_a_certificate_of_another_pki_is_untrusted(pki, revocation_server, trusted_root):
    other = TestPKI(name="Khác")
    cert = other.issue("Ngoài kho tin cậy", crl_url=revocation_server.crl_url)

    assert check(cert).code == "CERT-UNTRUSTED"


def test_a_disabled_root_trusts_nothing(pki, revocation_server, trusted_root, sysadmin):
    good = revocation_server.issue(pki, "Sao Mai")
    assert check(good).ok

    disable_trusted_root(trusted_root, actor=sysadmin)

    assert check(good).code == "CERT-UNTRUSTED"


def test_the_certificate_must_be_registered_to_the_unit(
    pki, revocation_server, trusted_root, unit_a, unit_b, sysadmin
):
    cert = revocation_server.issue(pki, "Đơn vị B")
    register_certificate(unit_b, cert.cert_der, actor=sysadmin)

    report = check(cert, unit=unit_a)
    assert report.code == "CERT-NOT-REGISTERED"
    assert report.registered is False
    assert revocation_server.count("/issuing.crl") == 0

    report = check(cert, unit=unit_b)
    assert report.ok
    assert report.registered is True


def test_a_withdrawn_registration_no_longer_counts(
    pki, revocation_server, trusted_root, unit_a, sysadmin
):
    cert = revocation_server.issue(pki, "Đơn vị A")
    registered = register_certificate(unit_a, cert.cert_pem, actor=sysadmin)
    assert check(cert, unit=unit_a).ok

    withdraw_certificate(registered, actor=sysadmin)

    assert check(cert, unit=unit_a).code == "CERT-NOT-REGISTERED"


def test_untrusted_wins_over_not_registered(pki, trusted_root, unit_a):
    outsider = pki.self_signed("Kẻ lạ")

    report = check(outsider, unit=unit_a)

    assert report.code == "CERT-UNTRUSTED"
    assert report.registered is False


def test_require_mode_demands_revocation_info_for_the_intermediate_too(
    pki, revocation_server, trusted_root
):
    good = revocation_server.issue(pki, "Sao Mai")

    report = check(good, policy=CertPolicy(revocation="require", fetch=True, timeout=5))

    assert report.code == "CERT-REVOCATION-UNKNOWN"
    assert "intermediate" in report.detail


def test_the_policy_defaults_come_from_the_settings(settings):
    settings.SIGNATURE_REVOCATION_MODE = "soft-fail"
    settings.SIGNATURE_FETCH_REVOCATION = False
    settings.SIGNATURE_FETCH_TIMEOUT = 3

    policy = CertPolicy()

    assert (policy.revocation, policy.fetch, policy.timeout) == ("soft-fail", False, 3.0)


def test_an_unknown_policy_mode_is_refused():
    with pytest.raises(ValueError, match="revocation mode"):
        CertPolicy(revocation="maybe")


def test_a_naive_moment_is_a_programming_error(pki, trusted_root):
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_certificate(pki.issuing.certificate, moment=dt.datetime(2026, 1, 1))


def test_validation_only_writes_caches(pki, revocation_server, trusted_root):
    from ebhxh.audit.models import AuditEvent

    events = AuditEvent.objects.count()
    check(revocation_server.issue(pki, "Sao Mai"))

    assert AuditEvent.objects.count() == events
    assert RevocationList.objects.filter(source_url=revocation_server.crl_url).count() == 1


def test_decisions_are_remembered_and_forgotten_when_the_trust_store_changes(
    pki, trusted_root, settings, sysadmin
):
    from ebhxh.signatures import validation
    from ebhxh.signatures.trust import disable_trusted_root

    settings.SIGNATURE_CACHE_SECONDS = 60
    validation.clear_decisions()
    issued = pki.issue("Nhớ quyết định", not_before=timezone.now() - dt.timedelta(days=1))
    moment = (timezone.now() + dt.timedelta(minutes=1)).replace(second=5, microsecond=0)
    calls = []
    real = validation.check_certificate

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    validation.check_certificate = counting
    try:
        chain = issued.chain[:-1]
        first = validation.validate_certificate(
            issued.certificate, intermediates=chain, moment=moment
        )
        again = validation.validate_certificate(
            issued.certificate, intermediates=chain, moment=moment + dt.timedelta(seconds=30)
        )
        assert first.ok and again is first and len(calls) == 1
        disable_trusted_root(trusted_root, actor=sysadmin)  # a save clears the decisions
        after = validation.validate_certificate(
            issued.certificate, intermediates=chain, moment=moment
        )
        assert len(calls) == 2 and after.code == "CERT-UNTRUSTED"
    finally:
        validation.check_certificate = real
