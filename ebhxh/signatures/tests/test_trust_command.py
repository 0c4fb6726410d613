"""manage.py trust: add, list, disable, crl-upload, add-intermediate (bilingual output)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ebhxh.audit.models import AuditEvent
from ebhxh.signatures.models import IntermediateCertificate, RevocationList, TrustedRoot
from ebhxh.signatures.testing.pki import TestPKI
from ebhxh.signatures.validation import fingerprint

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def test_pki() -> TestPKI:
    return TestPKI()


def run(*args: str) -> str:
    out = StringIO()
    call_command("trust", *args, stdout=out)
    return out.getvalue()


def test_list_says_the_store_is_empty():
    output = run("list")

    assert "Kho tin cậy trống" in output and "trust store is empty" in output


def test_add_list_and_disable(tmp_path, test_pki):
    path = tmp_path / "root.pem"
    path.write_bytes(test_pki.root.cert_pem)

    output = run("add", str(path), "--note", "CA thử nghiệm")

    root = TrustedRoot.objects.get()
    assert "Trusted root added" in output and root.fingerprint in output
    assert root.note == "CA thử nghiệm"
    event = AuditEvent.objects.get(tag="trust:root:add")
    assert event.actor is None and event.request_id  # the command runs under acting_as()

    assert root.fingerprint in run("list")

    colons = ":".join(root.fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()
    assert "Root disabled" in run("disable", colons)
    root.refresh_from_db()
    assert not root.enabled
    assert "Already disabled" in run("disable", root.fingerprint)
    assert "disabled" in run("list")


def test_add_takes_a_bundle(tmp_path, sysadmin):
    first, second = TestPKI(name="Một"), TestPKI(name="Hai")
    path = tmp_path / "bundle.pem"
    path.write_bytes(first.root.cert_pem + second.root.cert_pem)

    run("add", str(path))

    assert TrustedRoot.objects.count() == 2


def test_add_refuses_a_non_ca_in_both_languages(tmp_path, test_pki):
    path = tmp_path / "leaf.pem"
    path.write_bytes(test_pki.issue("Lá").cert_pem)

    with pytest.raises(CommandError) as excinfo:
        run("add", str(path))

    message = str(excinfo.value)
    assert "tổ chức chứng thực" in message and "not a certification authority" in message


def test_disable_an_unknown_fingerprint_fails():
    with pytest.raises(CommandError, match="no root with fingerprint"):
        run("disable", "00" * 32)


def test_a_missing_file_fails(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run("add", str(tmp_path / "nope.pem"))


def test_crl_upload_needs_the_issuing_ca_then_stores_the_crl(tmp_path, test_pki):
    (tmp_path / "root.pem").write_bytes(test_pki.root.cert_pem)
    (tmp_path / "ca.pem").write_bytes(test_pki.issuing.cert_pem)
    (tmp_path / "ca.crl").write_bytes(test_pki.crl())
    run("add", str(tmp_path / "root.pem"))

    with pytest.raises(CommandError, match="not signed by a known certification authority"):
        run("crl-upload", str(tmp_path / "ca.crl"))

    assert "Intermediate CA added" in run("add-intermediate", str(tmp_path / "ca.pem"))
    assert IntermediateCertificate.objects.get().fingerprint == fingerprint(
        test_pki.issuing.certificate
    )
    output = run("crl-upload", str(tmp_path / "ca.crl"))

    assert "CRL stored" in output
    assert RevocationList.objects.get().uploaded
    assert AuditEvent.objects.filter(tag="trust:crl:upload").exists()
    assert "Cached CRLs" in run("list")
