"""Revocation information: CRLs and OCSP answers, fetched over HTTP, cached in the database.

For every certificate of a validated path (except the root) ``collect_revocation_info``
looks for, in order: a fresh cached CRL (fetched from one of the certificate's distribution
points, or uploaded for its issuer), a fresh cached OCSP answer, then, when fetching is
allowed, a CRL from the distribution points and finally an OCSP answer from the AIA
responder. "Fresh" means before its nextUpdate: nothing is fetched again before that
(big national CRLs cost 150-370 ms to process and may be slow to download; stack-notes §3).

Fetching is a small synchronous urllib client with a timeout, not pyhanko's fetchers: those
cannot be used for point-in-time validation (``moment``), do not cache across requests, and
the aiohttp backend needs session management in every caller. What is fetched is checked
against the issuer of the path *before* it is cached, so a forged or replayed answer cannot
poison the cache until its claimed nextUpdate; pyhanko then validates it again in full.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    ExtendedKeyUsageOID,
    SignatureAlgorithmOID,
)
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ebhxh.audit.services import record_event
from ebhxh.signatures.models import (
    IntermediateCertificate,
    OcspResponseCache,
    RevocationList,
    TrustedRoot,
)
from ebhxh.signatures.trust import TrustStoreError
from ebhxh.signatures.validation import ca_chain_problem, fingerprint, serial_hex

__all__ = [
    "MAX_RESPONSE_BYTES",
    "RevocationEvidence",
    "RevocationFetchError",
    "RevocationMaterial",
    "check_crl_upload",
    "collect_revocation_info",
    "key_id",
    "revocation_sources",
    "upload_crl",
]

# A national CA's full CRL is a few MB; refuse anything absurd rather than fill memory.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
USER_AGENT = "ebhxh-revocation/1"


class RevocationFetchError(Exception):
    """A CRL or OCSP answer could not be fetched, or was not acceptable."""


def key_id(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's SubjectPublicKeyInfo: identifies a CA key across re-issues."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()


def _http_urls(values: Iterable[x509.GeneralName]) -> list[str]:
    return [
        v.value
        for v in values
        if isinstance(v, x509.UniformResourceIdentifier)
        and urlsplit(v.value).scheme.lower() in {"http", "https"}
    ]


def revocation_sources(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    """The HTTP(S) CRL distribution points and OCSP responders the certificate names."""
    crl_urls: list[str] = []
    ocsp_urls: list[str] = []
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        points = None
    for point in points or []:
        crl_urls.extend(_http_urls(point.full_name or []))
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        access = None
    for description in access or []:
        if description.access_method == AuthorityInformationAccessOID.OCSP:
            ocsp_urls.extend(_http_urls([description.access_location]))
    return list(dict.fromkeys(crl_urls)), list(dict.fromkeys(ocsp_urls))


# --- HTTP ---------------------------------------------------------------------------------


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would also follow a redirect to ftp://; a CRL server has no business sending one.
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if urlsplit(newurl).scheme.lower() not in {"http", "https"}:
            return None  # urllib then raises HTTPError for the 3xx
        return super().redirect_request(req, fp, code, msg, headers, newurl)


# Honours the usual http(s)_proxy / no_proxy environment variables (outbound proxies).
_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


def _http(url: str, *, timeout: float, body: bytes | None = None, content_type: str = "") -> bytes:
    if urlsplit(url).scheme.lower() not in {"http", "https"}:
        raise RevocationFetchError(f"{url}: only http and https are fetched")
    headers = {"User-Agent": USER_AGENT}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - scheme checked above
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            data = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the error response open
        raise RevocationFetchError(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise RevocationFetchError(f"{url}: {exc}") from exc
    if len(data) > MAX_RESPONSE_BYTES:
        raise RevocationFetchError(f"{url}: response larger than {MAX_RESPONSE_BYTES} bytes")
    return data


# --- checking what was fetched or uploaded -----------------------------------------------


def _load_crl(data: bytes) -> x509.CertificateRevocationList:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def _crl_signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    if crl.issuer != issuer.subject:
        return False
    try:
        return crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (TypeError, UnsupportedAlgorithm):
        return False


def _verify_signature(
    public_key: Any,
    signature: bytes,
    data: bytes,
    algorithm: hashes.HashAlgorithm | None,
    algorithm_oid: x509.ObjectIdentifier,
) -> None:
    """Raise InvalidSignature (or UnsupportedAlgorithm) unless ``signature`` is valid."""
    if isinstance(public_key, rsa.RSAPublicKey) and algorithm is not None:
        if algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS:
            pad: padding.AsymmetricPadding = padding.PSS(
                mgf=padding.MGF1(algorithm), salt_length=padding.PSS.AUTO
            )
        else:
            pad = padding.PKCS1v15()
        public_key.verify(signature, data, pad, algorithm)
    elif isinstance(public_key, ec.EllipticCurvePublicKey) and algorithm is not None:
        public_key.verify(signature, data, ec.ECDSA(algorithm))
    elif isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        public_key.verify(signature, data)
    else:
        raise UnsupportedAlgorithm(f"cannot verify a signature with {type(public_key).__name__}")


def _ocsp_signer(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> x509.Certificate:
    """The certificate that signed the answer: the issuing CA or a responder it delegated to."""
    issuer_key_hash = x509.SubjectKeyIdentifier.from_public_key(issuer.public_key()).digest

    def names(cert: x509.Certificate) -> bool:
        if response.responder_key_hash is not None:
            own = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
            return response.responder_key_hash == own
        return response.responder_name == cert.subject

    if response.responder_key_hash == issuer_key_hash or response.responder_name == issuer.subject:
        return issuer
    for candidate in response.certificates:
        if not names(candidate):
            continue
        try:
            candidate.verify_directly_issued_by(issuer)
            usage = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING in usage:
            return candidate
    raise RevocationFetchError("the OCSP answer is not signed by the issuer or its responder")


def _check_ocsp(
    der: bytes, cert: x509.Certificate, issuer: x509.Certificate
) -> tuple[ocsp.OCSPResponse, ocsp.OCSPSingleResponse]:
    try:
        response = ocsp.load_der_ocsp_response(der)
    except ValueError as exc:
        raise RevocationFetchError(f"not an OCSP response: {exc}") from exc
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise RevocationFetchError(f"OCSP responder answered {response.response_status.name}")
    signer = _ocsp_signer(response, issuer)
    try:
        _verify_signature(
            signer.public_key(),
            response.signature,
            response.tbs_response_bytes,
            response.signature_hash_algorithm,
            response.signature_algorithm_oid,
        )
    except (InvalidSignature, UnsupportedAlgorithm) as exc:
        raise RevocationFetchError("the OCSP answer's signature is not valid") from exc
    for single in response.responses:
        if single.serial_number == cert.serial_number and _same_issuer_hash(single, issuer):
            return response, single
    raise RevocationFetchError("the OCSP answer is about another certificate")


def _key_bits(cert: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING contents: what an OCSP CertID's issuerKeyHash covers."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return bytes(asn1_keys.PublicKeyInfo.load(spki)["public_key"].contents[1:])  # skip unused-bits


def _same_issuer_hash(single: ocsp.OCSPSingleResponse, issuer: x509.Certificate) -> bool:
    def digest(data: bytes) -> bytes:
        h = hashes.Hash(single.hash_algorithm)
        h.update(data)
        return h.finalize()

    return single.issuer_key_hash == digest(_key_bits(issuer)) and (
        single.issuer_name_hash == digest(issuer.subject.public_bytes())
    )


# --- the cache ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RevocationEvidence:
    """What was used to decide one certificate's revocation status."""

    subject: str
    fingerprint: str
    serial: str
    source: str  # "crl" or "ocsp"
    url: str  # empty for an uploaded CRL
    this_update: dt.datetime
    next_update: dt.datetime | None
    status: str  # "good", "revoked" or "unknown", as that source says
    revoked_at: dt.datetime | None
    fetched_at: dt.datetime
    cached: bool  # True: taken from the database, nothing fetched now
    uploaded: bool = False


@dataclass
class RevocationMaterial:
    crls: list[bytes] = field(default_factory=list)
    ocsps: list[bytes] = field(default_factory=list)
    evidence: list[RevocationEvidence] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _crl_fields(crl: x509.CertificateRevocationList, der: bytes) -> dict[str, Any]:
    try:
        number = str(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
    except x509.ExtensionNotFound:
        number = ""
    return {
        "issuer": crl.issuer.rfc4514_string(),
        "der": der,
        "sha256": hashlib.sha256(der).hexdigest(),
        "this_update": crl.last_update_utc,
        "next_update": crl.next_update_utc,
        "crl_number": number,
        "revoked_count": len(crl),
    }


def _newer_or_same(new: x509.CertificateRevocationList, row: RevocationList) -> bool:
    """False for a CRL older than the stored one (a replay would un-revoke certificates)."""
    return new.last_update_utc >= row.this_update


def _store_fetched_crl(
    url: str, der: bytes, crl: x509.CertificateRevocationList, issuer: x509.Certificate
) -> RevocationList:
    values = {
        **_crl_fields(crl, der),
        "issuer_key_id": key_id(issuer),
        "fetched_at": timezone.now(),
    }
    existing = RevocationList.objects.filter(source_url=url).first()
    if existing is not None:
        if not _newer_or_same(crl, existing):
            raise RevocationFetchError(f"{url}: served a CRL older than the cached one")
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()
        return existing
    try:
        with transaction.atomic():  # savepoint: another worker may store the same URL meanwhile
            return RevocationList.objects.create(source_url=url, **values)
    except IntegrityError:
        return RevocationList.objects.get(source_url=url)


def _ocsp_status(single: ocsp.OCSPSingleResponse) -> str:
    return {
        ocsp.OCSPCertStatus.GOOD: OcspResponseCache.Status.GOOD,
        ocsp.OCSPCertStatus.REVOKED: OcspResponseCache.Status.REVOKED,
    }.get(single.certificate_status, OcspResponseCache.Status.UNKNOWN)


def _store_ocsp(
    url: str,
    der: bytes,
    response: ocsp.OCSPResponse,
    single: ocsp.OCSPSingleResponse,
    cert: x509.Certificate,
    issuer: x509.Certificate,
) -> OcspResponseCache:
    values = {
        "source_url": url,
        "der": der,
        "status": _ocsp_status(single),
        "revoked_at": single.revocation_time_utc,
        "produced_at": response.produced_at_utc,
        "this_update": single.this_update_utc,
        "next_update": single.next_update_utc,
        "fetched_at": timezone.now(),
    }
    issuer_key, serial = key_id(issuer), serial_hex(cert.serial_number)
    existing = OcspResponseCache.objects.filter(issuer_key_id=issuer_key, serial=serial).first()
    if existing is not None and single.this_update_utc < existing.this_update:
        raise RevocationFetchError(f"{url}: served an OCSP answer older than the cached one")
    try:
        with transaction.atomic():  # savepoint: another worker may store the same answer meanwhile
            row, _created = OcspResponseCache.objects.update_or_create(
                issuer_key_id=issuer_key, serial=serial, defaults=values
            )
    except IntegrityError:
        row = OcspResponseCache.objects.get(issuer_key_id=issuer_key, serial=serial)
    return row


def _crl_evidence(
    row: RevocationList, cert: x509.Certificate, *, cached: bool
) -> RevocationEvidence:
    crl = x509.load_der_x509_crl(bytes(row.der))
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    return RevocationEvidence(
        subject=cert.subject.rfc4514_string(),
        fingerprint=fingerprint(cert),
        serial=serial_hex(cert.serial_number),
        source="crl",
        url=row.source_url,
        this_update=row.this_update,
        next_update=row.next_update,
        status="revoked" if entry is not None else "good",
        revoked_at=entry.revocation_date_utc if entry is not None else None,
        fetched_at=row.fetched_at,
        cached=cached,
        uploaded=row.uploaded,
    )


def _ocsp_evidence(
    row: OcspResponseCache, cert: x509.Certificate, *, cached: bool
) -> RevocationEvidence:
    return RevocationEvidence(
        subject=cert.subject.rfc4514_string(),
        fingerprint=fingerprint(cert),
        serial=row.serial,
        source="ocsp",
        url=row.source_url,
        this_update=row.this_update,
        next_update=row.next_update,
        status=row.status,
        revoked_at=row.revoked_at,
        fetched_at=row.fetched_at,
        cached=cached,
    )


def _fetch_crl(
    urls: Sequence[str], issuer: x509.Certificate, timeout: float, warnings: list[str]
) -> RevocationList | None:
    for url in urls:
        try:
            der = _http(url, timeout=timeout)
            try:
                crl = _load_crl(der)
            except ValueError as exc:
                raise RevocationFetchError(f"{url}: not a CRL ({exc})") from exc
            if not _crl_signed_by(crl, issuer):
                raise RevocationFetchError(
                    f"{url}: the CRL is not signed by {issuer.subject.rfc4514_string()}"
                )
            der = crl.public_bytes(serialization.Encoding.DER)
            return _store_fetched_crl(url, der, crl, issuer)
        except RevocationFetchError as exc:
            warnings.append(f"CRL: {exc}")
    return None


def _fetch_ocsp(
    urls: Sequence[str],
    cert: x509.Certificate,
    issuer: x509.Certificate,
    timeout: float,
    warnings: list[str],
) -> OcspResponseCache | None:
    # SHA-1 CertID: the only hash RFC 5019 responders must accept; it identifies, it does not sign.
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()  # noqa: S303
    body = request.public_bytes(serialization.Encoding.DER)
    for url in urls:
        try:
            der = _http(url, timeout=timeout, body=body, content_type="application/ocsp-request")
            response, single = _check_ocsp(der, cert, issuer)
            return _store_ocsp(url, der, response, single, cert, issuer)
        except RevocationFetchError as exc:
            warnings.append(f"OCSP: {exc}")
    return None


def collect_revocation_info(
    pairs: Sequence[tuple[x509.Certificate, x509.Certificate]],
    *,
    fetch: bool,
    timeout: float,
) -> RevocationMaterial:
    """CRLs and OCSP answers for each (certificate, issuer) of a path, from cache or fetched."""
    material = RevocationMaterial()
    now = timezone.now()
    for cert, issuer in pairs:
        crl_urls, ocsp_urls = revocation_sources(cert)
        issuer_key = key_id(issuer)
        crl_rows = list(
            RevocationList.objects.filter(issuer_key_id=issuer_key).filter(
                Q(source_url__in=crl_urls) | Q(source_url="")
            )
        )
        ocsp_row = OcspResponseCache.objects.filter(
            issuer_key_id=issuer_key, serial=serial_hex(cert.serial_number)
        ).first()

        fetched: RevocationList | OcspResponseCache | None = None
        fresh_crls = [row for row in crl_rows if row.is_fresh(now)]
        if fresh_crls:
            used_crls: list[RevocationList] = fresh_crls
            used_ocsp: OcspResponseCache | None = None
        elif ocsp_row is not None and ocsp_row.is_fresh(now):
            used_crls, used_ocsp = [], ocsp_row
        else:
            if fetch and crl_urls:
                fetched = _fetch_crl(crl_urls, issuer, timeout, material.warnings)
            if fetched is None and fetch and ocsp_urls:
                fetched = _fetch_ocsp(ocsp_urls, cert, issuer, timeout, material.warnings)
            # Whatever is cached goes along even when stale: pyhanko decides whether it covers
            # the moment (an old signing time may well be covered by an expired CRL). A row
            # just refreshed in place is passed once, as fetched.
            refreshed = fetched.pk if isinstance(fetched, RevocationList) else None
            used_crls = [r for r in crl_rows if r.pk != refreshed]
            used_ocsp = None if isinstance(fetched, OcspResponseCache) else ocsp_row

        for row in used_crls:
            material.crls.append(bytes(row.der))
            material.evidence.append(_crl_evidence(row, cert, cached=True))
        if used_ocsp is not None:
            material.ocsps.append(bytes(used_ocsp.der))
            material.evidence.append(_ocsp_evidence(used_ocsp, cert, cached=True))
        if isinstance(fetched, RevocationList):
            material.crls.append(bytes(fetched.der))
            material.evidence.append(_crl_evidence(fetched, cert, cached=False))
        elif isinstance(fetched, OcspResponseCache):
            material.ocsps.append(bytes(fetched.der))
            material.evidence.append(_ocsp_evidence(fetched, cert, cached=False))
    return material


# --- administrator upload ----------------------------------------------------------------


def _known_issuers(name: x509.Name) -> list[tuple[x509.Certificate, bool]]:
    """Enabled roots and known intermediates with this subject: (certificate, is_root)."""
    found: list[tuple[x509.Certificate, bool]] = []
    for root in TrustedRoot.objects.filter(enabled=True):
        cert = root.certificate()
        if cert.subject == name:
            found.append((cert, True))
    for intermediate in IntermediateCertificate.objects.all():
        cert = intermediate.certificate()
        if cert.subject == name:
            found.append((cert, False))
    return found


def check_crl_upload(
    der_or_pem: bytes,
) -> tuple[x509.CertificateRevocationList, x509.Certificate]:
    """Parse an uploaded CRL and find the known CA that signed it; raise TrustStoreError."""
    try:
        crl = _load_crl(der_or_pem)
    except ValueError as exc:
        raise TrustStoreError(
            "crl_malformed",
            _("Tệp không phải danh sách chứng thư bị thu hồi (CRL) hợp lệ."),
            "The file is not a valid certificate revocation list (CRL).",
        ) from exc
    for candidate, is_root in _known_issuers(crl.issuer):
        if _crl_signed_by(crl, candidate) and (is_root or ca_chain_problem(candidate) is None):
            break
    else:
        raise TrustStoreError(
            "crl_unknown_issuer",
            _(
                "CRL không do một tổ chức chứng thực đã biết ký (cần chứng thư gốc tin cậy hoặc CA trung gian đã biết): %(issuer)s"
            ),
            "The CRL is not signed by a known certification authority (a trusted root or a known intermediate CA is needed): %(issuer)s",
            issuer=crl.issuer.rfc4514_string(),
        )
    stored = RevocationList.objects.filter(issuer_key_id=key_id(candidate), source_url="").first()
    if stored is not None and not _newer_or_same(crl, stored):
        raise _outdated(stored)
    return crl, candidate


def _outdated(stored: RevocationList) -> TrustStoreError:
    return TrustStoreError(
        "crl_outdated",
        _("CRL tải lên cũ hơn CRL đang lưu (phát hành lúc %(stored)s)."),
        "The uploaded CRL is older than the stored one (issued %(stored)s).",
        stored=stored.this_update.isoformat(),
    )


@transaction.atomic
def upload_crl(der_or_pem: bytes, *, actor: Any) -> RevocationList:
    """Store a CRL an administrator uploaded, after checking it is signed by a known CA.

    It replaces the previous upload for the same CA key (never with an older CRL) and is
    used instead of fetching until its nextUpdate.
    """
    crl, issuer = check_crl_upload(der_or_pem)
    der = crl.public_bytes(serialization.Encoding.DER)
    issuer_key = key_id(issuer)
    values = {**_crl_fields(crl, der), "fetched_at": timezone.now(), "uploaded_by": actor}
    row = (
        RevocationList.objects.select_for_update()
        .filter(issuer_key_id=issuer_key, source_url="")
        .first()
    )
    before = None
    if row is not None:
        if not _newer_or_same(crl, row):  # re-checked under the lock
            raise _outdated(row)
        before = {
            "sha256": row.sha256,
            "this_update": row.this_update.isoformat(),
            "crl_number": row.crl_number,
        }
        for name, value in values.items():
            setattr(row, name, value)
        row.save()
    else:
        row = RevocationList.objects.create(issuer_key_id=issuer_key, source_url="", **values)
    record_event(
        "trust:crl:upload",
        actor=actor,
        subject=row,
        before=before,
        after={
            "issuer": row.issuer,
            "issuer_key_id": issuer_key,
            "sha256": row.sha256,
            "this_update": row.this_update.isoformat(),
            "next_update": row.next_update.isoformat() if row.next_update else None,
            "crl_number": row.crl_number,
            "revoked_count": row.revoked_count,
        },
    )
    return row
