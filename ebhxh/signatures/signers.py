"""Where signature values come from: a key in memory, a PKCS#12 file or a PKCS#11 token.

Every signer answers the same three questions, so the XML-DSig code never knows where the key is:
its certificate, the chain above it, and the signature value over some bytes. Signature values are
in XML-DSig form: RSA PKCS#1 v1.5, or ECDSA as the raw r||s concatenation (RFC 4050 / XML-DSig 1.1),
not DER.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import pkcs12

from ebhxh.signatures.errors import SignatureError

HASHES: dict[str, type[hashes.HashAlgorithm]] = {"sha256": hashes.SHA256, "sha1": hashes.SHA1}


class Signer(Protocol):
    def certificate(self) -> x509.Certificate: ...

    def chain(self) -> list[x509.Certificate]:
        """Certificates above the signer's (issuing CA first); may be empty."""
        ...

    def sign(self, data: bytes, *, hash_name: str = "sha256") -> bytes:
        """The signature value over `data` (hashed with `hash_name`) in XML-DSig form."""
        ...


def ecdsa_der_to_raw(der: bytes, key_size_bits: int) -> bytes:
    r, s = decode_dss_signature(der)
    size = (key_size_bits + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


class KeySigner:
    """A private key held in memory (tests, demo, a key file already decrypted)."""

    def __init__(
        self,
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        chain: list[x509.Certificate] | None = None,
    ) -> None:
        self._key = key
        self._certificate = certificate
        self._chain = list(chain or [])

    def certificate(self) -> x509.Certificate:
        return self._certificate

    def chain(self) -> list[x509.Certificate]:
        return list(self._chain)

    def sign(self, data: bytes, *, hash_name: str = "sha256") -> bytes:
        algorithm = HASHES[hash_name]()
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), algorithm)
        der = self._key.sign(data, ec.ECDSA(algorithm))
        return ecdsa_der_to_raw(der, self._key.curve.key_size)


def order_chain(leaf: x509.Certificate, others: list[x509.Certificate]) -> list[x509.Certificate]:
    """The certificates of `others` that lie above `leaf`, issuing CA first, by issuer linkage.

    Starting at `leaf`, each step takes the certificate whose subject is the current certificate's
    issuer and whose key verifies its signature (if the signature cannot be checked, for example
    an unsupported algorithm, the name match alone decides). The walk stops at a self-issued
    certificate or when no issuer is found. `leaf` itself, duplicates and certificates that are
    not on the path (another person's certificate in the same file or token) are left out.
    """
    remaining = [c for c in others if c != leaf]
    path: list[x509.Certificate] = []
    current = leaf
    while current.issuer != current.subject:
        issuer = _find_issuer(current, remaining)
        if issuer is None:
            break
        path.append(issuer)
        remaining = [c for c in remaining if c != issuer]
        current = issuer
    return path


def _find_issuer(
    cert: x509.Certificate, candidates: list[x509.Certificate]
) -> x509.Certificate | None:
    by_name = [c for c in candidates if c.subject == cert.issuer]
    unverifiable: x509.Certificate | None = None
    for candidate in by_name:
        try:
            cert.verify_directly_issued_by(candidate)
        except InvalidSignature:
            continue  # same name, other key (a renewed CA): not this certificate's issuer
        except (ValueError, TypeError, UnsupportedAlgorithm):
            # ValueError is also "issuer name mismatch", excluded above; what is left is an
            # algorithm cryptography cannot check, so the name match has to do.
            unverifiable = unverifiable or candidate
            continue
        return candidate
    return unverifiable


class Pkcs12Signer:
    """A key and its certificate from a PKCS#12 (.p12/.pfx) file, with the chain it carries.

    The chain is the file's additional certificates ordered by issuer linkage from the signer
    upward (issuing CA first); certificates not above the signer are dropped. Signing is
    delegated to `KeySigner`. A wrong password, a file that is not PKCS#12, a file without key or
    certificate, or a key that does not match the certificate raise `SignatureError("SIGN-KEY")`.
    """

    def __init__(self, signer: KeySigner) -> None:
        self._signer = signer

    @classmethod
    def from_bytes(cls, data: bytes, password: bytes | None) -> Pkcs12Signer:
        try:
            key, certificate, additional = pkcs12.load_key_and_certificates(data, password)
        except (ValueError, TypeError) as exc:
            # cryptography says "Invalid password or PKCS12 data" for both; it cannot tell apart.
            raise SignatureError("SIGN-KEY", f"PKCS#12: {exc}") from None
        if key is None or certificate is None:
            raise SignatureError(
                "SIGN-KEY", "PKCS#12: the file holds no private key or no certificate"
            )
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise SignatureError("SIGN-KEY", f"PKCS#12: unsupported key type {type(key).__name__}")
        if key.public_key() != certificate.public_key():
            raise SignatureError(
                "SIGN-KEY", "PKCS#12: the private key does not match the certificate"
            )
        chain = order_chain(certificate, list(additional))
        return cls(KeySigner(key, certificate, chain))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], password: bytes | None) -> Pkcs12Signer:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise SignatureError(
                "SIGN-KEY", f"PKCS#12: cannot read {os.fspath(path)!r}: {exc.strerror}"
            ) from None
        return cls.from_bytes(data, password)

    def certificate(self) -> x509.Certificate:
        return self._signer.certificate()

    def chain(self) -> list[x509.Certificate]:
        return self._signer.chain()

    def sign(self, data: bytes, *, hash_name: str = "sha256") -> bytes:
        return self._signer.sign(data, hash_name=hash_name)

    def __repr__(self) -> str:
        return f"<Pkcs12Signer {self.certificate().subject.rfc4514_string()}>"
