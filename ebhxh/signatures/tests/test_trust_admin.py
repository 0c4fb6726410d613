"""The admin adds roots and uploads CRLs through the services, and never deletes."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse

from ebhxh.audit.models import AuditEvent
from ebhxh.signatures.models import (
    IntermediateCertificate,
    OcspResponseCache,
    RegisteredCertificate,
    RevocationList,
    TrustedRoot,
)
from ebhxh.signatures.testing.pki import TestPKI
from ebhxh.signatures.trust import (
    add_intermediate_certificate,
    add_trusted_root,
    register_certificate,
)
from tests.personas import verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def test_pki() -> TestPKI:
    return TestPKI()


@pytest.fixture
def admin_client(sysadmin) -> Client:
    return verified_login(Client(), sysadmin)


def test_it_adds_a_pasted_root_through_the_service(admin_client, test_pki, sysadmin):
    response = admin_client.post(
        reverse("admin:signatures_trustedroot_add"),
        {"pem_text": test_pki.root.cert_pem.decode(), "note": "dán"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    root = TrustedRoot.objects.get()
    assert root.note == "dán" and root.added_by == sysadmin
    assert AuditEvent.objects.filter(tag="trust:root:add", actor=sysadmin).count() == 1


def test_it_adds_an_uploaded_root(admin_client, test_pki):
    upload = SimpleUploadedFile("root.der", test_pki.root.cert_der)

    response = admin_client.post(
        reverse("admin:signatures_trustedroot_add"), {"pem_file": upload, "note": ""}
    )

    assert response.status_code == 302
    assert TrustedRoot.objects.count() == 1


def test_it_shows_the_refusal_of_a_non_ca_in_the_form(admin_client, test_pki):
    response = admin_client.post(
        reverse("admin:signatures_trustedroot_add"),
        {"pem_text": test_pki.issue("Lá").cert_pem.decode(), "note": ""},
    )

    assert response.status_code == 200
    assert "BasicConstraints" in response.content.decode()
    assert not TrustedRoot.objects.exists()


def test_the_root_list_and_page_show_and_the_action_disables(admin_client, test_pki, sysadmin):
    root = add_trusted_root(test_pki.root.cert_pem, actor=sysadmin)

    listing = admin_client.get(reverse("admin:signatures_trustedroot_changelist"))
    assert listing.status_code == 200 and root.fingerprint[:16] in listing.content.decode()
    assert (
        admin_client.get(reverse("admin:signatures_trustedroot_change", args=[root.pk])).status_code
        == 200
    )

    response = admin_client.post(
        reverse("admin:signatures_trustedroot_changelist"),
        {"action": "disable_selected", "_selected_action": [root.pk]},
    )

    assert response.status_code == 302
    root.refresh_from_db()
    assert not root.enabled
    assert AuditEvent.objects.filter(tag="trust:root:disable", actor=sysadmin).exists()


def test_it_uploads_a_crl_through_the_service(admin_client, test_pki, sysadmin):
    add_trusted_root(test_pki.root.cert_pem, actor=sysadmin)
    add_intermediate_certificate(test_pki.issuing.cert_pem, actor=sysadmin)

    response = admin_client.post(
        reverse("admin:signatures_revocationlist_add"),
        {"crl_file": SimpleUploadedFile("ca.crl", test_pki.crl())},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    row = RevocationList.objects.get()
    assert row.uploaded_by == sysadmin
    assert AuditEvent.objects.filter(tag="trust:crl:upload", actor=sysadmin).exists()
    assert (
        admin_client.get(
            reverse("admin:signatures_revocationlist_change", args=[row.pk])
        ).status_code
        == 200
    )


def test_a_crl_of_an_unknown_ca_is_refused_in_the_form(admin_client, test_pki):
    response = admin_client.post(
        reverse("admin:signatures_revocationlist_add"),
        {"crl_file": SimpleUploadedFile("ca.crl", test_pki.crl())},
    )

    assert response.status_code == 200
    assert not RevocationList.objects.exists()


@pytest.mark.parametrize(
    "model",
    [
        TrustedRoot,
        RevocationList,
        IntermediateCertificate,
        OcspResponseCache,
        RegisteredCertificate,
    ],
)
def test_nothing_can_be_deleted(model, sysadmin):
    request = RequestFactory().get("/")
    request.user = sysadmin
    model_admin = site._registry[model]

    assert not model_admin.has_delete_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_registered_certificates_are_a_read_only_list(admin_client, test_pki, unit_a, sysadmin):
    row = register_certificate(unit_a, test_pki.issue("Sao Mai").cert_der, actor=sysadmin)
    request = RequestFactory().get("/")
    request.user = sysadmin
    model_admin = site._registry[RegisteredCertificate]

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, row)
    response = admin_client.get(
        reverse("admin:signatures_registeredcertificate_changelist"),
        {"q": unit_a.code, "status": "active"},
    )
    assert response.status_code == 200
    assert row.serial in response.content.decode()
