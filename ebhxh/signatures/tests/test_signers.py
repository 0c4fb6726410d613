"""Signers held in memory or in a PKCS#12 file (no database, no token)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import pkcs12

from ebhxh.signatures import signers
from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.signers import KeySigner, Pkcs12Signer, Signer, order_chain
from ebhxh.signatures.testing.pki import Issued, TestPKI, new_key

DATA = b"<ds:SignedInfo>" + "Công ty TNHH Sao Mai ".encode() * 30 + b"</ds:SignedInfo>"
PASSWORD = "mật-khẩu-12".encode()


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return TestPKI()


@pytest.fixture(scope="module")
def good(pki: TestPKI) -> Issued:
    return pki.issue("Công ty TNHH Sao Mai", tax_code="0310000017")


def _p12(
    issued: Issued, cas: list[x509.Certificate] | None, password: bytes | None = PASSWORD
) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(
        b"signer", issued.key, issued.certificate, cas or None, encryption
    )


def _verify_rsa(cert: x509.Certificate, signature: bytes, data: bytes = DATA) -> None:
    cert.public_key().verify(signature, data, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg,union-attr]


# -- PKCS#12


def test_pkcs12_loads_key_certificate_and_chain(good: Issued, pki: TestPKI) -> None:
    signer = Pkcs12Signer.from_bytes(good.pkcs12(PASSWORD), PASSWORD)
    assert signer.certificate() == good.certificate
    assert signer.chain() == [pki.issuing.certificate]
    signature = signer.sign(DATA)
    _verify_rsa(good.certificate, signature)
    # PKCS#1 v1.5 is deterministic: the same bytes as the key in memory
    assert signature == KeySigner(good.key, good.certificate).sign(DATA)


def test_pkcs12_from_file_and_without_password(good: Issued, tmp_path) -> None:
    path = tmp_path / "signer.p12"
    path.write_bytes(_p12(good, None, password=None))
    signer: Signer = Pkcs12Signer.from_file(path, None)
    assert signer.certificate() == good.certificate
    assert signer.chain() == []
    _verify_rsa(good.certificate, signer.sign(DATA))


def test_pkcs12_chain_is_ordered_issuing_ca_first(good: Issued, pki: TestPKI) -> None:
    stranger = TestPKI(name="Other").issue("Người khác").certificate
    scrambled = [stranger, pki.root.certificate, good.certificate, pki.issuing.certificate]
    signer = Pkcs12Signer.from_bytes(_p12(good, scrambled), PASSWORD)
    assert signer.chain() == [pki.issuing.certificate, pki.root.certificate]


def test_pkcs12_sha1_when_asked(good: Issued) -> None:
    signer = Pkcs12Signer.from_bytes(good.pkcs12(PASSWORD), PASSWORD)
    signature = signer.sign(DATA, hash_name="sha1")
    good.certificate.public_key().verify(signature, DATA, padding.PKCS1v15(), hashes.SHA1())  # type: ignore[call-arg,union-attr]  # noqa: S303


def test_pkcs12_ec_key_signs_raw_r_s(pki: TestPKI) -> None:
    issued = pki.issue("Hộ kinh doanh EC", key_kind="ec")
    signer = Pkcs12Signer.from_bytes(issued.pkcs12(PASSWORD), PASSWORD)
    raw = signer.sign(DATA)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public_key = issued.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(der, DATA, ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("password", [b"wrong", None, b""])
def test_pkcs12_wrong_password_is_sign_key(good: Issued, password: bytes | None) -> None:
    with pytest.raises(SignatureError) as info:
        Pkcs12Signer.from_bytes(good.pkcs12(PASSWORD), password)
    assert info.value.code == "SIGN-KEY"
    assert PASSWORD.decode() not in str(info.value)


@pytest.mark.parametrize(
    "data", [b"", b"not a pkcs12 file", b"\x30\x03\x02\x01\x03", b"\x00" * 4096]
)
def test_pkcs12_garbage_is_sign_key(data: bytes) -> None:
    with pytest.raises(SignatureError) as info:
        Pkcs12Signer.from_bytes(data, PASSWORD)
    assert info.value.code == "SIGN-KEY"


def test_pkcs12_certificate_as_pem_is_sign_key(good: Issued) -> None:
    with pytest.raises(SignatureError) as info:
        Pkcs12Signer.from_bytes(good.cert_pem, None)
    assert info.value.code == "SIGN-KEY"


def test_pkcs12_missing_file_is_sign_key(tmp_path) -> None:
    with pytest.raises(SignatureError) as info:
        Pkcs12Signer.from_file(tmp_path / "nowhere.p12", PASSWORD)
    assert info.value.code == "SIGN-KEY"


def test_pkcs12_without_key_is_sign_key(pki: TestPKI) -> None:
    certs_only = pkcs12.serialize_key_and_certificates(
        None, None, None, [pki.issuing.certificate], serialization.NoEncryption()
    )
    with pytest.raises(SignatureError) as info:
        Pkcs12Signer.from_bytes(certs_only, None)
    assert info.value.code == "SIGN-KEY"


def test_pkcs12_key_not_matching_certificate_is_sign_key(good: Issued, monkeypatch) -> None:
    # cryptography (and openssl pkcs12 -export) refuse to write such a file; other tools do not.
    other_key = new_key()
    monkeypatch.setattr(
        signers.pkcs12,
        "load_key_and_certificates",
        lambda data, password: (other_key, good.certificate, []),
    )
    with pytest.raises(SignatureError) as info:
        Pkcs12Signer.from_bytes(b"...", PASSWORD)
    assert info.value.code == "SIGN-KEY"


# -- chain ordering


def test_order_chain_skips_a_same_name_ca_with_another_key(pki: TestPKI, good: Issued) -> None:
    """A renewed CA keeps its name but not its key: only the certificate whose key actually
    signed comes next in the chain."""
    impostor_key = new_key()
    ca = pki.issuing.certificate
    impostor = (
        x509.CertificateBuilder()
        .subject_name(ca.subject)
        .issuer_name(ca.issuer)
        .public_key(impostor_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(pki.now - dt.timedelta(days=1))
        .not_valid_after(pki.now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(pki.root.key, hashes.SHA256())
    )
    assert order_chain(good.certificate, [impostor, pki.root.certificate, ca]) == [
        ca,
        pki.root.certificate,
    ]
    assert order_chain(good.certificate, [impostor, pki.root.certificate]) == []


def test_order_chain_stops_at_a_missing_link(pki: TestPKI, good: Issued) -> None:
    assert order_chain(good.certificate, [pki.root.certificate]) == []
    assert order_chain(good.certificate, []) == []
    assert order_chain(pki.root.certificate, [pki.root.certificate, pki.issuing.certificate]) == []


def test_pkcs12_signer_keeps_no_password(good: Issued) -> None:
    signer = Pkcs12Signer.from_bytes(good.pkcs12(PASSWORD), PASSWORD)
    assert "Sao Mai" in repr(signer)
    assert PASSWORD.decode() not in repr(signer)
    assert PASSWORD not in repr(vars(signer)).encode()
