"""Trust-store and registration services: what they refuse, and the audit events they write."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization

from ebhxh.audit.models import AuditEvent
from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.models import IntermediateCertificate, RegisteredCertificate, TrustedRoot
from ebhxh.signatures.testing.pki import TestPKI
from ebhxh.signatures.trust import (
    TrustStoreError,
    add_intermediate_certificate,
    add_trusted_root,
    disable_trusted_root,
    normalise_fingerprint,
    register_certificate,
    withdraw_certificate,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def test_pki() -> TestPKI:
    return TestPKI()


def test_the_trust_store_ships_empty():
    assert not TrustedRoot.objects.exists()


def test_it_adds_a_root_with_its_facts_and_an_audit_event(test_pki, sysadmin):
    root = add_trusted_root(test_pki.root.cert_pem, actor=sysadmin, note="Root CA thử nghiệm")

    assert root.enabled
    assert root.subject == "CN=ebhxh Test Root CA,O=ebhxh test PKI,C=VN"
    assert len(root.fingerprint) == 64
    assert root.not_after == test_pki.root.certificate.not_valid_after_utc
    assert root.added_by == sysadmin
    assert root.certificate() == test_pki.root.certificate
    event = AuditEvent.objects.get(tag="trust:root:add")
    assert event.actor == sysadmin
    assert event.subject_id == str(root.pk)
    assert event.data["after"]["fingerprint"] == root.fingerprint


def test_it_accepts_a_der_root(test_pki, sysadmin):
    root = add_trusted_root(test_pki.root.cert_der, actor=sysadmin)

    assert root.pem.startswith("-----BEGIN CERTIFICATE-----")


def test_it_refuses_a_signer_certificate_as_root(test_pki, sysadmin):
    leaf = test_pki.issue("Không phải CA")

    with pytest.raises(TrustStoreError) as excinfo:
        add_trusted_root(leaf.cert_pem, actor=sysadmin)

    assert excinfo.value.code == "not_ca"
    assert "BasicConstraints" in excinfo.value.message_en
    assert "tổ chức chứng thực" in excinfo.value.message_vi
    assert not TrustedRoot.objects.exists()
    assert not AuditEvent.objects.filter(tag="trust:root:add").exists()


def test_it_refuses_a_self_signed_non_ca(test_pki, sysadmin):
    with pytest.raises(TrustStoreError) as excinfo:
        add_trusted_root(test_pki.self_signed("Tự ký").cert_pem, actor=sysadmin)

    assert excinfo.value.code == "not_ca"


def test_it_refuses_an_intermediate_as_root(test_pki, sysadmin):
    with pytest.raises(TrustStoreError) as excinfo:
        add_trusted_root(test_pki.issuing.cert_pem, actor=sysadmin)

    assert excinfo.value.code == "not_self_signed"


def test_it_refuses_garbage(sysadmin):
    with pytest.raises(TrustStoreError) as excinfo:
        add_trusted_root(
            b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n", actor=sysadmin
        )

    assert excinfo.value.code == "malformed"


def test_it_refuses_a_root_already_trusted(test_pki, sysadmin):
    add_trusted_root(test_pki.root.cert_pem, actor=sysadmin)

    with pytest.raises(TrustStoreError) as excinfo:
        add_trusted_root(test_pki.root.cert_pem, actor=sysadmin)

    assert excinfo.value.code == "duplicate"
    assert "already trusted" in excinfo.value.bilingual()


def test_disabling_a_root_keeps_it_and_is_audited(test_pki, sysadmin):
    root = add_trusted_root(test_pki.root.cert_pem, actor=sysadmin)

    disable_trusted_root(root, actor=sysadmin)
    disable_trusted_root(root, actor=sysadmin)  # twice: no second event

    root.refresh_from_db()
    assert not root.enabled and root.disabled_at is not None
    assert AuditEvent.objects.filter(tag="trust:root:disable").count() == 1


def test_adding_a_disabled_root_again_re_enables_it(test_pki, sysadmin):
    root = add_trusted_root(test_pki.root.cert_pem, actor=sysadmin)
    disable_trusted_root(root, actor=sysadmin)

    again = add_trusted_root(test_pki.root.cert_pem, actor=sysadmin)

    assert again.pk == root.pk and again.enabled and again.disabled_at is None
    assert TrustedRoot.objects.count() == 1
    assert AuditEvent.objects.filter(tag="trust:root:enable").count() == 1


def test_an_intermediate_must_chain_to_an_enabled_root(test_pki, sysadmin):
    with pytest.raises(TrustStoreError) as excinfo:
        add_intermediate_certificate(test_pki.issuing.cert_pem, actor=sysadmin)
    assert excinfo.value.code == "untrusted_ca"

    add_trusted_root(test_pki.root.cert_pem, actor=sysadmin)
    row = add_intermediate_certificate(test_pki.issuing.cert_pem, actor=sysadmin)

    assert row.source == IntermediateCertificate.Source.ADMIN
    assert AuditEvent.objects.filter(tag="trust:intermediate:add", subject_id=str(row.pk)).exists()
    assert add_intermediate_certificate(test_pki.issuing.cert_pem, actor=sysadmin).pk == row.pk


def test_an_intermediate_must_be_a_ca(test_pki, sysadmin):
    add_trusted_root(test_pki.root.cert_pem, actor=sysadmin)

    with pytest.raises(TrustStoreError) as excinfo:
        add_intermediate_certificate(test_pki.issue("Lá").cert_pem, actor=sysadmin)

    assert excinfo.value.code == "not_ca"


def test_it_registers_a_certificate_to_a_unit(test_pki, unit_a, sysadmin):
    cert = test_pki.issue("Công ty TNHH Sao Mai", tax_code="0310000017")

    row = register_certificate(unit_a, cert.cert_pem, actor=sysadmin)

    assert row.unit == unit_a
    assert row.status == RegisteredCertificate.Status.ACTIVE
    assert row.tax_code == "0310000017"
    assert int(row.serial, 16) == cert.certificate.serial_number
    assert row.serial == row.serial.upper()
    assert bytes(row.der) == cert.cert_der
    assert row.certificate() == cert.certificate
    event = AuditEvent.objects.get(tag="unit:certificate:register")
    assert event.actor == sysadmin
    assert event.data["after"]["unit"] == unit_a.pk
    assert event.data["after"]["fingerprint"] == row.fingerprint


def test_the_same_certificate_may_be_registered_to_two_units(test_pki, unit_a, unit_b, sysadmin):
    cert = test_pki.issue("Dùng chung")

    register_certificate(unit_a, cert.cert_der, actor=sysadmin)
    register_certificate(unit_b, cert.cert_der, actor=sysadmin)

    assert RegisteredCertificate.objects.count() == 2


def test_it_refuses_registering_twice(test_pki, unit_a, sysadmin):
    cert = test_pki.issue("Hai lần")
    register_certificate(unit_a, cert.cert_der, actor=sysadmin)

    with pytest.raises(TrustStoreError) as excinfo:
        register_certificate(unit_a, cert.cert_der, actor=sysadmin)

    assert excinfo.value.code == "already_registered"


def test_it_refuses_a_ca_certificate_as_a_signer(test_pki, unit_a, sysadmin):
    with pytest.raises(TrustStoreError) as excinfo:
        register_certificate(unit_a, test_pki.issuing.cert_der, actor=sysadmin)

    assert excinfo.value.code == "ca_not_signer"


def test_it_refuses_an_unreadable_certificate(unit_a, sysadmin):
    with pytest.raises(SignatureError) as excinfo:
        register_certificate(unit_a, b"\x30\x03garbage", actor=sysadmin)

    assert excinfo.value.code == "CERT-MALFORMED"


def test_withdrawing_is_audited_and_registering_again_reactivates(test_pki, unit_a, sysadmin):
    cert = test_pki.issue("Ngừng rồi dùng lại")
    row = register_certificate(unit_a, cert.cert_der, actor=sysadmin)

    withdrawn = withdraw_certificate(row, actor=sysadmin)
    withdraw_certificate(row, actor=sysadmin)  # twice: no second event

    assert withdrawn.status == RegisteredCertificate.Status.WITHDRAWN
    assert withdrawn.withdrawn_by == sysadmin and withdrawn.withdrawn_at is not None
    assert AuditEvent.objects.filter(tag="unit:certificate:withdraw").count() == 1

    again = register_certificate(unit_a, cert.cert_der, actor=sysadmin)

    assert again.pk == row.pk
    assert again.status == RegisteredCertificate.Status.ACTIVE and again.withdrawn_at is None
    assert AuditEvent.objects.filter(tag="unit:certificate:register").count() == 2


def test_fingerprints_are_accepted_as_openssl_prints_them(test_pki):
    from ebhxh.signatures.validation import fingerprint

    fp = fingerprint(test_pki.root.certificate)
    colons = ":".join(fp[i : i + 2] for i in range(0, 64, 2)).upper()

    assert normalise_fingerprint(colons) == fp


def test_pem_round_trip_of_the_stored_root(test_pki, sysadmin):
    root = add_trusted_root(test_pki.root.cert_pem, actor=sysadmin)

    assert root.pem.encode() == test_pki.root.certificate.public_bytes(serialization.Encoding.PEM)
