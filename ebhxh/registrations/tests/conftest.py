from __future__ import annotations

from typing import Any

import pytest

from ebhxh.legacy.models import LegacyAccount
from ebhxh.signatures.signers import KeySigner
from ebhxh.signatures.testing.pki import Issued, TestPKI
from ebhxh.signatures.trust import add_trusted_root

TAX_CODE = "0312345673"


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return TestPKI(name="ebhxh Registration Test")


@pytest.fixture
def trusted(pki: TestPKI, sysadmin: Any) -> TestPKI:
    add_trusted_root(pki.root.cert_pem, actor=sysadmin)
    return pki


@pytest.fixture(scope="module")
def token_cert(pki: TestPKI) -> Issued:
    return pki.issue("Công ty TNHH Đăng Ký Mới", tax_code=TAX_CODE)


def signer_of(issued: Issued, pki: TestPKI) -> KeySigner:
    return KeySigner(issued.key, issued.certificate, list(issued.chain))  # type: ignore[arg-type]


@pytest.fixture
def declaration(base_agency: Any) -> dict[str, Any]:
    return {
        "unit_name": "Công ty TNHH Đăng Ký Mới",
        "tax_code": TAX_CODE,
        "unit_code": "",
        "unit_type": "private_enterprise",
        "registered_address": "12 Nguyễn Huệ, Phường Sài Gòn, TP. Hồ Chí Minh",
        "contact_address": "",
        "head_name": "Trần Văn Giám Đốc",
        "contact_person": "Lê Thị Kế Toán",
        "email": "ketoan@dangkymoi.vn",
        "phone": "028 3822 0000",
        "contact_phone": "0909 123 456",
        "managing_agency": base_agency,
        "wage_region": 1,
        "procedures": ["600"],
        "delivery": "electronic",
        "uses_signature": True,
    }


@pytest.fixture
def legacy_account(db: Any) -> LegacyAccount:
    return LegacyAccount.objects.create(
        username="ts24_0301234562",
        unit_code="TS0024A",
        tax_code="0301234562",
        unit_name="Công ty Cổ phần Cũ TS24",
        email="cu@ts24.vn",
        agency_code="79901",
    )


@pytest.fixture(autouse=True)
def agency_seal(settings: Any, tmp_path_factory: Any, pki: TestPKI) -> None:
    """An agency seal key file for the notices (PKCS#12 without a password)."""
    path = tmp_path_factory.mktemp("seal") / "seal.p12"
    path.write_bytes(pki.issue("Bảo hiểm xã hội Thử nghiệm").pkcs12(None))
    settings.SEAL_PKCS12_FILE = str(path)
    settings.SEAL_PKCS12_PASSWORD = ""


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def read(field: Any) -> bytes:
    with field.open("rb") as f:
        data: bytes = f.read()
    return data


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
    )
