from __future__ import annotations

from typing import Any

import pytest

from ebhxh.dossiers.testing import signed_envelope
from ebhxh.signatures.signers import KeySigner
from ebhxh.signatures.testing.pki import Issued, TestPKI
from ebhxh.signatures.trust import add_trusted_root, register_certificate
from ebhxh.units.models import Unit


@pytest.fixture(scope="session")
def pki() -> TestPKI:
    return TestPKI(name="ebhxh Intake Test")


@pytest.fixture(scope="session")
def seal_p12(pki: TestPKI, tmp_path_factory: Any) -> str:
    path = tmp_path_factory.mktemp("seal") / "seal.p12"
    path.write_bytes(pki.issue("Bảo hiểm xã hội Thử nghiệm").pkcs12(None))
    return str(path)


@pytest.fixture(autouse=True)
def agency_seal(settings: Any, seal_p12: str) -> None:
    settings.SEAL_PKCS12_FILE = seal_p12
    settings.SEAL_PKCS12_PASSWORD = ""


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def procedures(db: Any) -> None:
    from ebhxh.catalog.models import Procedure

    Procedure.objects.create(
        code="600",
        name="Đăng ký, điều chỉnh đóng BHXH, BHYT, BHTN",
        field="collection",
        time_limit_days=5,
    )
    Procedure.objects.create(
        code="604",
        name="Đăng ký, điều chỉnh thông tin đơn vị",
        field="collection",
        time_limit_days=5,
        signature_required=False,
    )


@pytest.fixture
def unit_cert(pki: TestPKI, unit_a: Unit) -> Issued:
    return pki.issue(unit_a.name, tax_code=unit_a.tax_code)


def signer_of(issued: Issued) -> KeySigner:
    return KeySigner(issued.key, issued.certificate, list(issued.chain))  # type: ignore[arg-type]


@pytest.fixture
def active_unit(
    unit_a: Unit, unit_cert: Issued, pki: TestPKI, sysadmin: Any, procedures: None
) -> Unit:
    """Unit A, registered for e-transactions, its token certificate registered and trusted."""
    add_trusted_root(pki.root.cert_pem, actor=sysadmin)
    register_certificate(unit_a, unit_cert.cert_pem, actor=sysadmin)
    unit_a.etx_status = Unit.EtxStatus.ACTIVE
    unit_a.save(update_fields=["etx_status"])
    return unit_a


def envelope_for(unit: Unit, issued: Issued | None, **kwargs: Any) -> bytes:
    values: dict[str, Any] = {
        "unit_name": unit.name,
        "unit_code": unit.code or "",
        "tax_code": unit.tax_code,
        "agency_code": unit.managing_agency.code,
    }
    return signed_envelope(signer_of(issued) if issued is not None else None, **(values | kwargs))


@pytest.fixture
def envelope(active_unit: Unit, unit_cert: Issued) -> bytes:
    """A valid signed 10-row D02-TS dossier of unit A."""
    return envelope_for(active_unit, unit_cert)
