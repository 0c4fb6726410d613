"""A complete test PKI built with `cryptography`: root CA → issuing CA → signer certificates.

Used by the tests, the demo and the benchmarks (the trust store ships empty; real deployments add
the roots of Vietnam's licensed CAs). Nothing here is for production keys.

    pki = TestPKI()                                   # root + issuing CA, both RSA-2048
    good = pki.issue("Công ty TNHH Sao Mai", tax_code="0310000017")
    revoked = pki.issue("Bị thu hồi"); pki.revoke(revoked)
    crl_der = pki.crl()                               # signed by the issuing CA
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

UTC = dt.UTC
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass
class Issued:
    """A key pair with its certificate and the chain above it (issuing CA first, root last)."""

    key: PrivateKey
    certificate: x509.Certificate
    chain: list[x509.Certificate] = field(default_factory=list)

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM (what softhsm2-util --import needs)."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def pkcs12(self, password: bytes | None) -> bytes:
        encryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return pkcs12.serialize_key_and_certificates(
            b"ebhxh-test", self.key, self.certificate, self.chain[:-1] or None, encryption
        )


def _name(common_name: str, organisation: str = "ebhxh test PKI", **extra: str) -> x509.Name:
    # X.520 caps these attributes at 64 characters; long unit names are cut.
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
    ]
    if "uid" in extra:
        # Vietnamese CAs put "MST:<tax code>" in the UID attribute of unit certificates.
        attrs.append(x509.NameAttribute(NameOID.USER_ID, extra["uid"]))
    return x509.Name(attrs)


def new_key(kind: str = "rsa") -> PrivateKey:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class TestPKI:
    __test__ = False  # not a pytest class

    def __init__(
        self,
        *,
        name: str = "ebhxh Test",
        crl_url: str | None = None,
        ocsp_url: str | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        self.now = now or dt.datetime.now(UTC).replace(microsecond=0)
        self.crl_url = crl_url
        self.ocsp_url = ocsp_url
        self.revoked: dict[int, dt.datetime] = {}
        root_key = new_key()
        root_cert = self._ca_cert(f"{name} Root CA", root_key, None, None, path_length=1, years=20)
        self.root = Issued(root_key, root_cert, [])
        ca_key = new_key()
        ca_cert = self._ca_cert(
            f"{name} Issuing CA", ca_key, self.root, root_key, path_length=0, years=10
        )
        self.issuing = Issued(ca_key, ca_cert, [root_cert])

    def _ca_cert(
        self,
        cn: str,
        key: PrivateKey,
        parent: Issued | None,
        parent_key: PrivateKey | None,
        *,
        path_length: int,
        years: int,
    ) -> x509.Certificate:
        subject = _name(cn)
        issuer = parent.certificate.subject if parent else subject
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - dt.timedelta(days=365))
            .not_valid_after(self.now + dt.timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
        )
        if parent is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.certificate.public_key()),  # type: ignore[arg-type]
                critical=False,
            )
        return builder.sign(parent_key or key, hashes.SHA256())

    def issue(
        self,
        common_name: str,
        *,
        tax_code: str | None = None,
        key_kind: str = "rsa",
        key: PrivateKey | None = None,
        public_key: object | None = None,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        digital_signature: bool = True,
        non_repudiation: bool = True,
        crl_url: str | None = None,
        ocsp_url: str | None = None,
    ) -> Issued:
        """A signer certificate from the issuing CA. `public_key` certifies a key held elsewhere (a token)."""
        if key is None and public_key is None:
            key = new_key(key_kind)
        pub = public_key if public_key is not None else key.public_key()  # type: ignore[union-attr]
        crl = crl_url or self.crl_url
        ocsp = ocsp_url or self.ocsp_url
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                _name(common_name, common_name, **({"uid": f"MST:{tax_code}"} if tax_code else {}))
            )
            .issuer_name(self.issuing.certificate.subject)
            .public_key(pub)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or self.now - dt.timedelta(days=30))
            .not_valid_after(not_after or self.now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature,
                    non_repudiation,
                    key_kind == "rsa" and digital_signature,
                    False,
                    False,
                    False,
                    False,
                    False,
                    False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.issuing.certificate.public_key()  # type: ignore[arg-type]
                ),
                critical=False,
            )
        )
        if crl:
            builder = builder.add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier(crl)], None, None, None
                        )
                    ]
                ),
                critical=False,
            )
        if ocsp:
            builder = builder.add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp)
                        )
                    ]
                ),
                critical=False,
            )
        cert = builder.sign(self.issuing.key, hashes.SHA256())
        return Issued(key, cert, [self.issuing.certificate, self.root.certificate])  # type: ignore[arg-type]

    def self_signed(self, common_name: str) -> Issued:
        """An outsider: a self-signed certificate that chains to nothing trusted."""
        key = new_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - dt.timedelta(days=1))
            .not_valid_after(self.now + dt.timedelta(days=365))
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        return Issued(key, cert, [])

    def revoke(self, issued: Issued, when: dt.datetime | None = None) -> None:
        self.revoked[issued.certificate.serial_number] = when or self.now - dt.timedelta(hours=1)

    def crl(
        self,
        *,
        next_update: dt.timedelta = dt.timedelta(days=7),
        last_update: dt.datetime | None = None,
    ) -> bytes:
        """A DER CRL of the issuing CA listing every revoked serial."""
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.issuing.certificate.subject)
            .last_update(last_update or self.now - dt.timedelta(minutes=5))
            .next_update((last_update or self.now) + next_update)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.issuing.certificate.public_key()  # type: ignore[arg-type]
                ),
                critical=False,
            )
            .add_extension(x509.CRLNumber(len(self.revoked) + 1), critical=False)
        )
        for serial, when in self.revoked.items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
            )
        return builder.sign(self.issuing.key, hashes.SHA256()).public_bytes(
            serialization.Encoding.DER
        )

    def ocsp_response(
        self, request_der: bytes, *, next_update: dt.timedelta = dt.timedelta(days=1)
    ) -> bytes:
        """Answer an OCSP request for a certificate of the issuing CA (signed by the CA itself)."""
        from cryptography.x509 import ocsp

        request = ocsp.load_der_ocsp_request(request_der)
        serial = request.serial_number
        revoked_at = self.revoked.get(serial)
        # The responder needs the certificate being asked about; only the serial matters for status.
        cert = self._placeholder_cert(serial)
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=self.issuing.certificate,
                algorithm=hashes.SHA256()
                if isinstance(request.hash_algorithm, hashes.SHA256)
                else hashes.SHA1(),  # noqa: S303  answering a SHA-1 OCSP request in kind
                cert_status=ocsp.OCSPCertStatus.REVOKED if revoked_at else ocsp.OCSPCertStatus.GOOD,
                this_update=self.now - dt.timedelta(minutes=5),
                next_update=self.now + next_update,
                revocation_time=revoked_at,
                revocation_reason=x509.ReasonFlags.key_compromise if revoked_at else None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.issuing.certificate)
        )
        nonce = next((e for e in request.extensions if isinstance(e.value, x509.OCSPNonce)), None)
        if nonce is not None:
            builder = builder.add_extension(nonce.value, critical=False)
        return builder.sign(self.issuing.key, hashes.SHA256()).public_bytes(
            serialization.Encoding.DER
        )

    def _placeholder_cert(self, serial: int) -> x509.Certificate:
        key = self.issuing.key
        return (
            x509.CertificateBuilder()
            .subject_name(_name("ocsp-subject"))
            .issuer_name(self.issuing.certificate.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(self.now - dt.timedelta(days=1))
            .not_valid_after(self.now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256())
        )


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.chmod(mode)
    tmp.replace(path)


def save_ca(pki: TestPKI, directory: Path) -> None:
    """Keep the CA keys and certificates of a demo PKI, so later runs issue from the same CA."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, issued in (("root", pki.root), ("ca", pki.issuing)):
        _write(directory / f"{name}.pem", issued.cert_pem)
        _write(directory / f"{name}-key.pem", issued.key_pem, 0o600)


def load_ca(directory: Path, **options: object) -> TestPKI | None:
    """A TestPKI around the CA saved by save_ca, or None when there is none yet."""
    try:
        loaded = {
            name: Issued(
                serialization.load_pem_private_key(
                    (directory / f"{name}-key.pem").read_bytes(), None
                ),  # type: ignore[arg-type]
                x509.load_pem_x509_certificate((directory / f"{name}.pem").read_bytes()),
            )
            for name in ("root", "ca")
        }
    except FileNotFoundError:
        return None
    pki = TestPKI.__new__(TestPKI)
    pki.now = dt.datetime.now(UTC).replace(microsecond=0)
    pki.crl_url = options.get("crl_url")  # type: ignore[assignment]
    pki.ocsp_url = options.get("ocsp_url")  # type: ignore[assignment]
    pki.revoked = {}
    pki.root = loaded["root"]
    pki.issuing = Issued(loaded["ca"].key, loaded["ca"].certificate, [loaded["root"].certificate])
    return pki
