"""Pkcs11Signer against SoftHSM2 standing in for a VSS USB token (skipped if SoftHSM2 is missing).

The SoftHSM token directory is shared by the whole pytest process (`shared_softhsm()`: SoftHSM
reads its configuration once per process); this module makes its own tokens with unique labels.
"""

from __future__ import annotations

import pickle
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pkcs11 import Attribute, Mechanism, ObjectClass

from ebhxh.signatures import pkcs11 as token_signing
from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.pkcs11 import (
    Pkcs11Signer,
    list_certificates,
    list_tokens,
    logged_in_session,
    reset_module,
)
from ebhxh.signatures.signers import KeySigner, Signer
from ebhxh.signatures.testing.pki import TestPKI
from ebhxh.signatures.testing.softhsm import (
    SoftHSM,
    TokenSigner,
    shared_softhsm,
    softhsm_unavailable_reason,
)

PIN = "246813"
WRONG_PIN = "975310"
SIGNED_INFO = (
    b'<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
    b'<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
    + b"x" * 600
    + b"</ds:SignedInfo>"
)


@dataclass
class Tokens:
    hsm: SoftHSM
    pki: TestPKI
    vss: TokenSigner  # one generated RSA key + its certificate + the CA certificates
    bare: TokenSigner  # one generated RSA key + its certificate, nothing else
    multi_label: str  # an RSA key "rsa" (id 01), an EC key "ec" (id 02), a key without certificate
    rsa: TokenSigner
    ec: TokenSigner
    pin_label: str  # used only by the wrong-PIN tests (nobody stays logged in on it)


@pytest.fixture(scope="module")
def tokens() -> Tokens:
    reason = softhsm_unavailable_reason()
    if reason:
        pytest.skip(reason)
    hsm = shared_softhsm()
    pki = TestPKI()

    def new_token(prefix: str) -> str:
        label = hsm.unique_label(prefix)
        hsm.init_token(label, PIN)
        return label

    vss = hsm.provision_signer(pki, new_token("vss"), PIN, with_chain=True)
    bare = hsm.provision_signer(pki, new_token("bare"), PIN, common_name="Hộ kinh doanh Bến Thành")
    multi = new_token("multi")
    rsa_signer = hsm.provision_signer(pki, multi, PIN, key_label="rsa", key_id=b"\x01")
    ec_signer = hsm.provision_signer(pki, multi, PIN, key_label="ec", key_id=b"\x02", kind="ec")
    hsm.generate_key_on_token(multi, PIN, "orphan", b"\x03")  # no certificate for this one
    pin_label = new_token("pin")
    hsm.provision_signer(pki, pin_label, PIN)
    return Tokens(hsm, pki, vss, bare, multi, rsa_signer, ec_signer, pin_label)


@pytest.fixture
def signer(tokens: Tokens) -> Iterator[Pkcs11Signer]:
    with Pkcs11Signer(tokens.hsm.module_path, token_label=tokens.vss.token_label, pin=PIN) as s:
        yield s


def _verify_rsa(cert: x509.Certificate, signature: bytes, algorithm: hashes.HashAlgorithm) -> None:
    public_key = cert.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, SIGNED_INFO, padding.PKCS1v15(), algorithm)


def _sign_error(make, *args, **kwargs) -> SignatureError:
    with pytest.raises(SignatureError) as info:
        signer = make(*args, **kwargs)
        try:
            signer.sign(SIGNED_INFO)
        finally:
            signer.close()
    return info.value


# -- enrolment on the token


def test_key_is_generated_on_the_token_and_not_extractable(tokens: Tokens) -> None:
    lease = logged_in_session(tokens.hsm.module_path, tokens.vss.token_label, PIN)
    try:
        key = lease.session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=tokens.vss.key_id)
        assert key[Attribute.SENSITIVE] is True
        assert key[Attribute.EXTRACTABLE] is False
        assert key[Attribute.ALWAYS_SENSITIVE] is True
        assert key[Attribute.NEVER_EXTRACTABLE] is True
        assert key[Attribute.LOCAL] is True  # generated inside, not imported
        assert key[Attribute.PRIVATE] is True
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            key[Attribute.PRIVATE_EXPONENT]
    finally:
        lease.release()


def test_certificate_sits_next_to_the_key_with_the_same_id(tokens: Tokens) -> None:
    listed = list_certificates(tokens.hsm.module_path, tokens.vss.token_label)
    by_label = {c.label: c for c in listed}
    assert by_label["signer"].id_hex == "01"
    assert by_label["signer"].certificate == tokens.vss.certificate
    assert {"ca-1", "ca-2"} <= set(by_label)


# -- signing


def test_sign_verifies_with_both_rsa_mechanisms_and_is_byte_identical(tokens: Tokens) -> None:
    common = {"token_label": tokens.vss.token_label, "pin": PIN}
    with (
        Pkcs11Signer(tokens.hsm.module_path, **common) as combined,
        Pkcs11Signer(tokens.hsm.module_path, host_hashing=True, **common) as host,
    ):
        assert combined.mechanism is Mechanism.SHA256_RSA_PKCS  # SoftHSM offers it
        assert combined.mechanism_name == "CKM_SHA256_RSA_PKCS"
        assert combined.host_hashing is False
        assert host.mechanism is Mechanism.RSA_PKCS
        assert host.host_hashing is True
        for hash_name, algorithm in (("sha256", hashes.SHA256()), ("sha1", hashes.SHA1())):  # noqa: S303
            a = combined.sign(SIGNED_INFO, hash_name=hash_name)
            b = host.sign(SIGNED_INFO, hash_name=hash_name)
            _verify_rsa(tokens.vss.certificate, a, algorithm)
            assert a == b, hash_name
        assert combined.mechanism_for("sha1") is Mechanism.SHA1_RSA_PKCS
        assert host.mechanism_for("sha1") is Mechanism.RSA_PKCS


def test_token_without_combined_mechanism_falls_back_to_host_hashing(
    tokens: Tokens, monkeypatch
) -> None:
    """Pitfall 10: many USB tokens list only CKM_RSA_PKCS."""
    real = token_signing._mechanisms

    def usb_token_like(token):
        return real(token) - {Mechanism.SHA256_RSA_PKCS, Mechanism.SHA1_RSA_PKCS}

    monkeypatch.setattr(token_signing, "_mechanisms", usb_token_like)
    common = {"token_label": tokens.bare.token_label, "pin": PIN}
    with Pkcs11Signer(tokens.hsm.module_path, **common) as auto:
        assert auto.mechanism is Mechanism.RSA_PKCS
        assert auto.host_hashing is True
        _verify_rsa(tokens.bare.certificate, auto.sign(SIGNED_INFO), hashes.SHA256())
    forced = Pkcs11Signer(tokens.hsm.module_path, host_hashing=False, **common)
    with pytest.raises(SignatureError) as info:
        forced.sign(SIGNED_INFO)
    assert info.value.code == "SIGN-KEY"
    assert "SHA256_RSA_PKCS" in info.value.detail
    forced.close()


def test_token_signature_equals_in_memory_signature_for_an_imported_key(tokens: Tokens) -> None:
    hsm = tokens.hsm
    label = hsm.unique_label("import")
    hsm.init_token(label, PIN)
    issued = tokens.pki.issue("Công ty Nhập Khóa")
    hsm.import_key(label, PIN, issued.key_pem, "imported", b"\x07")
    hsm.import_certificate(label, PIN, issued.cert_der, "imported", b"\x07")
    expected = KeySigner(issued.key, issued.certificate).sign(SIGNED_INFO)
    for host_hashing in (None, True):
        with Pkcs11Signer(
            hsm.module_path, token_label=label, pin=PIN, host_hashing=host_hashing
        ) as signer:
            assert signer.certificate() == issued.certificate
            assert signer.key_id == b"\x07"
            assert signer.sign(SIGNED_INFO) == expected


def test_ec_key_on_token_signs_raw_r_s(tokens: Tokens) -> None:
    with Pkcs11Signer(
        tokens.hsm.module_path, token_label=tokens.multi_label, key_label="ec", pin=PIN
    ) as signer:
        assert signer.key_type == "ec"
        assert signer.mechanism is Mechanism.ECDSA
        assert signer.host_hashing is True
        assert signer.certificate() == tokens.ec.certificate
        public_key = signer.certificate().public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        for hash_name, algorithm in (("sha256", hashes.SHA256()), ("sha1", hashes.SHA1())):  # noqa: S303
            raw = signer.sign(SIGNED_INFO, hash_name=hash_name)
            assert len(raw) == 64  # P-256: r and s, 32 bytes each, not DER
            r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
            public_key.verify(encode_dss_signature(r, s), SIGNED_INFO, ec.ECDSA(algorithm))


def test_ec_combined_mechanism_only_if_the_token_has_it(tokens: Tokens) -> None:
    signer = Pkcs11Signer(
        tokens.hsm.module_path,
        token_label=tokens.multi_label,
        key_label="ec",
        pin=PIN,
        host_hashing=False,
    )
    try:
        lib = pkcs11.lib(tokens.hsm.module_path)
        offered = lib.get_token(token_label=tokens.multi_label).slot.get_mechanisms()
        if Mechanism.ECDSA_SHA256 in offered:  # newer SoftHSM
            assert len(signer.sign(SIGNED_INFO)) == 64
        else:  # SoftHSM 2.6.1
            with pytest.raises(SignatureError) as info:
                signer.sign(SIGNED_INFO)
            assert info.value.code == "SIGN-KEY"
    finally:
        signer.close()


def test_rsa_key_chosen_by_label_or_id_on_a_multi_key_token(tokens: Tokens) -> None:
    module = tokens.hsm.module_path
    for selector in ({"key_label": "rsa"}, {"key_id": b"\x01"}, {"key_id": "01"}):
        with Pkcs11Signer(module, token_label=tokens.multi_label, pin=PIN, **selector) as signer:
            assert signer.key_type == "rsa"
            assert signer.key_label == "rsa"
            assert signer.certificate() == tokens.rsa.certificate
            _verify_rsa(tokens.rsa.certificate, signer.sign(SIGNED_INFO), hashes.SHA256())


def test_only_key_is_picked_when_no_label_is_given(tokens: Tokens) -> None:
    with Pkcs11Signer(tokens.hsm.module_path, token_label=tokens.bare.token_label, pin=PIN) as s:
        assert s.key_label == "signer"
        assert s.certificate() == tokens.bare.certificate
        _verify_rsa(tokens.bare.certificate, s.sign(SIGNED_INFO), hashes.SHA256())


# -- chain


def test_chain_comes_from_the_token_issuing_ca_first(tokens: Tokens, signer: Pkcs11Signer) -> None:
    assert signer.certificate() == tokens.vss.certificate
    assert signer.chain() == [tokens.pki.issuing.certificate, tokens.pki.root.certificate]


def test_chain_is_empty_when_the_token_holds_only_the_signer_certificate(tokens: Tokens) -> None:
    with Pkcs11Signer(tokens.hsm.module_path, token_label=tokens.bare.token_label, pin=PIN) as s:
        assert s.chain() == []


def test_pkcs11_signer_satisfies_the_signer_protocol(signer: Pkcs11Signer) -> None:
    as_protocol: Signer = signer
    assert as_protocol.certificate() is not None


# -- errors


def test_wrong_pin_is_sign_key_and_not_leaked(tokens: Tokens) -> None:
    error = _sign_error(
        Pkcs11Signer, tokens.hsm.module_path, token_label=tokens.pin_label, pin=WRONG_PIN
    )
    assert error.code == "SIGN-KEY"
    assert "PinIncorrect" in error.detail
    for text in (str(error), repr(error), error.detail, repr(error.__cause__)):
        assert WRONG_PIN not in text
        assert PIN not in text


@pytest.mark.parametrize("pin", ["q", "q" * 300])
def test_pin_of_impossible_length_is_sign_key(tokens: Tokens, pin: str) -> None:
    error = _sign_error(Pkcs11Signer, tokens.hsm.module_path, token_label=tokens.pin_label, pin=pin)
    assert error.code == "SIGN-KEY"
    assert pin not in str(error)


def test_wrong_pin_while_the_token_is_unlocked_is_still_refused(
    tokens: Tokens, signer: Pkcs11Signer
) -> None:
    """PKCS#11 login is per process: a second signer must not ride on the first one's login."""
    assert signer.sign(SIGNED_INFO)
    error = _sign_error(
        Pkcs11Signer, tokens.hsm.module_path, token_label=tokens.vss.token_label, pin=WRONG_PIN
    )
    assert error.code == "SIGN-KEY"
    assert WRONG_PIN not in str(error)
    assert signer.sign(SIGNED_INFO)  # the good signer is untouched


def test_right_pin_after_wrong_pin_works(tokens: Tokens) -> None:
    _sign_error(Pkcs11Signer, tokens.hsm.module_path, token_label=tokens.pin_label, pin=WRONG_PIN)
    with Pkcs11Signer(tokens.hsm.module_path, token_label=tokens.pin_label, pin=PIN) as signer:
        assert signer.sign(SIGNED_INFO)


def test_unknown_token_label_is_sign_token(tokens: Tokens) -> None:
    error = _sign_error(Pkcs11Signer, tokens.hsm.module_path, token_label="no-such-token", pin=PIN)
    assert error.code == "SIGN-TOKEN"
    assert "no-such-token" in error.detail
    with pytest.raises(SignatureError) as info:
        list_certificates(tokens.hsm.module_path, "no-such-token")
    assert info.value.code == "SIGN-TOKEN"


@pytest.mark.parametrize(
    "selector",
    [{"key_label": "no-such-key"}, {"key_id": b"\x99"}, {"key_label": "rsa", "key_id": b"\x02"}],
)
def test_unknown_key_is_sign_token(tokens: Tokens, selector: dict) -> None:
    error = _sign_error(
        Pkcs11Signer, tokens.hsm.module_path, token_label=tokens.multi_label, pin=PIN, **selector
    )
    assert error.code == "SIGN-TOKEN"


def test_several_keys_without_a_label_is_sign_token(tokens: Tokens) -> None:
    error = _sign_error(
        Pkcs11Signer, tokens.hsm.module_path, token_label=tokens.multi_label, pin=PIN
    )
    assert error.code == "SIGN-TOKEN"
    assert "'ec'" in error.detail and "'rsa'" in error.detail


def test_key_without_certificate_is_sign_token(tokens: Tokens) -> None:
    error = _sign_error(
        Pkcs11Signer,
        tokens.hsm.module_path,
        token_label=tokens.multi_label,
        key_label="orphan",
        pin=PIN,
    )
    assert error.code == "SIGN-TOKEN"
    assert "certificate" in error.detail


def test_missing_module_is_sign_token(tmp_path) -> None:
    missing = str(tmp_path / "libvendor-pkcs11.so")
    error = _sign_error(Pkcs11Signer, missing, token_label="x", pin=PIN)
    assert error.code == "SIGN-TOKEN"
    with pytest.raises(SignatureError) as info:
        list_tokens(missing)
    assert info.value.code == "SIGN-TOKEN"


def test_unsupported_hash_is_refused(signer: Pkcs11Signer) -> None:
    with pytest.raises(ValueError, match="md5"):
        signer.sign(SIGNED_INFO, hash_name="md5")


# -- what the signing agent shows


def test_list_tokens_shows_the_tokens(tokens: Tokens) -> None:
    listed = {t.label: t for t in list_tokens(tokens.hsm.module_path)}
    for label in (tokens.vss.token_label, tokens.bare.token_label, tokens.multi_label):
        assert label in listed
        assert listed[label].manufacturer == "SoftHSM project"
        assert listed[label].serial
    assert "" not in listed  # SoftHSM's free, uninitialised slot is not a token


def test_list_certificates_without_and_with_pin(tokens: Tokens) -> None:
    for pin in (None, PIN):
        listed = list_certificates(tokens.hsm.module_path, tokens.multi_label, pin)
        assert {(c.label, c.id_hex) for c in listed} == {("rsa", "01"), ("ec", "02")}
        assert {c.certificate for c in listed} == {tokens.rsa.certificate, tokens.ec.certificate}


# -- the PIN stays inside


def test_pin_is_not_in_repr(tokens: Tokens) -> None:
    signer = Pkcs11Signer(tokens.hsm.module_path, token_label=tokens.vss.token_label, pin=PIN)
    try:
        assert PIN not in repr(signer)
        assert PIN not in repr(vars(signer))
        signer.open()
        assert "SHA256_RSA_PKCS" in repr(signer)
        assert PIN not in repr(signer)
        assert PIN not in repr(vars(signer))
        with pytest.raises(TypeError):
            pickle.dumps(signer._pin)
    finally:
        signer.close()


def test_pin_must_be_a_string(tokens: Tokens) -> None:
    with pytest.raises(TypeError):
        Pkcs11Signer(tokens.hsm.module_path, token_label="x", pin=PIN.encode())  # type: ignore[arg-type]


# -- session lifetime


def test_session_is_lazy_kept_and_closed(tokens: Tokens) -> None:
    signer = Pkcs11Signer(tokens.hsm.module_path, token_label=tokens.bare.token_label, pin=PIN)
    assert not signer.is_open
    first = signer.sign(SIGNED_INFO)
    assert signer.is_open
    assert signer.sign(SIGNED_INFO) == first  # same session, deterministic PKCS#1 v1.5
    signer.close()
    assert not signer.is_open
    signer.close()  # idempotent
    assert signer.sign(SIGNED_INFO) == first  # reopens on use
    signer.close()


def test_closing_one_signer_does_not_log_out_another(tokens: Tokens) -> None:
    module, label = tokens.hsm.module_path, tokens.bare.token_label
    a = Pkcs11Signer(module, token_label=label, pin=PIN).open()
    b = Pkcs11Signer(module, token_label=label, pin=PIN, host_hashing=True).open()
    a.close()
    _verify_rsa(tokens.bare.certificate, b.sign(SIGNED_INFO), hashes.SHA256())
    b.close()


def test_signer_logs_in_again_after_the_module_was_reset(tokens: Tokens) -> None:
    signer = Pkcs11Signer(tokens.hsm.module_path, token_label=tokens.bare.token_label, pin=PIN)
    try:
        before = signer.sign(SIGNED_INFO)
        # What SoftHSM.close() does: every session in the process is gone, the signer notices.
        reset_module(tokens.hsm.module_path)
        assert signer.sign(SIGNED_INFO) == before
    finally:
        signer.close()


def test_second_softhsm_directory_is_refused_while_one_is_active(tokens: Tokens, tmp_path) -> None:
    with pytest.raises(RuntimeError, match="one per process"):
        SoftHSM(tmp_path)


def test_token_gone_while_signing_is_sign_token(tokens: Tokens) -> None:
    """SoftHSM's nearest thing to pulling the USB token out: delete it under a live signer."""
    hsm = tokens.hsm
    label = hsm.unique_label("gone")
    hsm.init_token(label, PIN)
    hsm.provision_signer(tokens.pki, label, PIN)
    signer = Pkcs11Signer(hsm.module_path, token_label=label, pin=PIN)
    try:
        assert signer.sign(SIGNED_INFO)
        subprocess.run(
            ["softhsm2-util", "--delete-token", "--token", label],
            env=hsm.env,
            check=True,
            capture_output=True,
        )
        for _ in range(2):  # the first call finds the key gone, the next one the token
            with pytest.raises(SignatureError) as info:
                signer.sign(SIGNED_INFO)
            assert info.value.code == "SIGN-TOKEN"
        assert not signer.is_open
    finally:
        signer.close()
