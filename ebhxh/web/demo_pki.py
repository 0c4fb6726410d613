"""The demo's own PKI under DATA_DIR/demo-pki, so a newcomer can sign and verify without hardware:
a demo root CA (added to the trust store), an issuing CA with its CRL (uploaded and served at
/demo-pki/ca.crl), the agency seal, and a key file per demo unit (registered to the unit).

Files: root.pem, ca.pem (+ their keys), ca.crl, agency-seal.p12 (no password) and agency-seal.pem,
<UNIT CODE>.p12 (password: the demo password) and <UNIT CODE>.pem. Idempotent.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings

from ebhxh.accounts.models import User
from ebhxh.signatures.models import RegisteredCertificate, RevocationList, TrustedRoot
from ebhxh.signatures.revocation import upload_crl
from ebhxh.signatures.testing.pki import TestPKI, load_ca, save_ca
from ebhxh.signatures.trust import (
    add_intermediate_certificate,
    add_trusted_root,
    register_certificate,
)
from ebhxh.signatures.validation import fingerprint
from ebhxh.units.models import Unit


def demo_crl_url() -> str:
    return f"{settings.SITE_URL}/demo-pki/ca.crl"


def ensure_demo_pki(units: list[Unit], *, actor: User, password: str) -> dict[str, int]:
    """Create what is missing of the demo PKI; returns counts of what was created."""
    directory: Path = settings.DEMO_PKI_DIR
    created: dict[str, int] = {}
    pki = load_ca(directory, crl_url=demo_crl_url())
    if pki is None:
        pki = TestPKI(name="ebhxh Demo", crl_url=demo_crl_url())
        save_ca(pki, directory)
        created["demo CA"] = 1

    root_fp = fingerprint(pki.root.certificate)
    if not TrustedRoot.objects.filter(fingerprint=root_fp, enabled=True).exists():
        add_trusted_root(
            pki.root.cert_pem, actor=actor, note="Demo CA của ebhxh — chỉ dùng cho dữ liệu minh họa"
        )
        created["trusted roots"] = 1
    add_intermediate_certificate(pki.issuing.cert_pem, actor=actor)

    crl_path = directory / "ca.crl"
    if not crl_path.exists() or not RevocationList.objects.exists():
        crl = pki.crl(next_update=dt.timedelta(days=365))
        crl_path.write_bytes(crl)
        upload_crl(crl, actor=actor)
        created["CRLs"] = 1

    seal = directory / "agency-seal.p12"
    if not seal.exists():
        issued = pki.issue("BHXH Việt Nam - con dấu điện tử (demo)")
        (directory / "agency-seal.pem").write_bytes(issued.cert_pem)
        seal.write_bytes(issued.pkcs12(None))
        seal.chmod(0o600)
        created["agency seal"] = 1

    for unit in units:
        key_file = directory / f"{unit.code}.p12"
        if not key_file.exists():
            issued = pki.issue(unit.name, tax_code=unit.tax_code)
            (directory / f"{unit.code}.pem").write_bytes(issued.cert_pem)
            key_file.write_bytes(issued.pkcs12(password.encode()))
            key_file.chmod(0o600)
            created["unit key files"] = created.get("unit key files", 0) + 1
        cert = x509.load_pem_x509_certificate((directory / f"{unit.code}.pem").read_bytes())
        if not RegisteredCertificate.objects.filter(
            unit=unit, fingerprint=fingerprint(cert)
        ).exists():
            register_certificate(unit, cert.public_bytes(Encoding.PEM), actor=actor)
            created["registered certificates"] = created.get("registered certificates", 0) + 1
    return created
