"""Is this signer certificate acceptable at the signing moment? Path, time, key usage, revocation.

``validate_certificate`` builds the path to an enabled ``TrustedRoot`` with
pyhanko-certvalidator, checks the key usage (digitalSignature OR nonRepudiation), the
unit's registration, and revocation through CRL/OCSP (``revocation.py``: cached in the
database, fetched over HTTP only when the cache has nothing fresh). Every failure becomes
a stable code of ``errors.py``; the result is a JSON-serialisable ``ChainReport``.

Two pyhanko passes run: the first builds and checks the path without revocation data, so
that nothing is fetched for a certificate that does not chain to a trusted root (no fetching
of attacker-chosen URLs); the second repeats it with the CRLs/OCSP answers for exactly that
path. pyhanko itself never fetches (``allow_fetching=False``): it cannot fetch for a past
``moment`` anyway, and the cache must be ours.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as pv_errors
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from ebhxh.signatures.errors import PROBLEMS, SignatureError
from ebhxh.signatures.models import IntermediateCertificate, RegisteredCertificate, TrustedRoot

if TYPE_CHECKING:
    from ebhxh.signatures.revocation import RevocationEvidence
    from ebhxh.units.models import Unit

__all__ = [
    "REVOCATION_MODES",
    "CertPolicy",
    "CertSummary",
    "ChainLink",
    "ChainReport",
    "ca_chain_problem",
    "certificate_der",
    "fingerprint",
    "load_certificate",
    "serial_hex",
    "summarise",
    "tax_code_of",
    "validate_certificate",
]

RevocationMode = Literal["hard-fail", "soft-fail", "require"]
REVOCATION_MODES: tuple[str, ...] = ("hard-fail", "soft-fail", "require")


# --- certificate facts (pure) ------------------------------------------------------------


def load_certificate(data: bytes) -> x509.Certificate:
    """A certificate from PEM or DER bytes; CERT-MALFORMED otherwise."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise SignatureError("CERT-MALFORMED", str(exc)) from exc


def certificate_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, lower-case hex (the form stored everywhere)."""
    return hashlib.sha256(certificate_der(cert)).hexdigest()


def serial_hex(serial: int) -> str:
    """Upper-case hex with an even number of digits, as CA portals print serials."""
    text = f"{serial:X}"
    return text if len(text) % 2 == 0 else "0" + text


def tax_code_of(cert: x509.Certificate) -> str | None:
    """The tax code of a unit certificate: Vietnamese CAs put "MST:<code>" in the subject UID."""
    for attribute in cert.subject.get_attributes_for_oid(NameOID.USER_ID):
        value = attribute.value if isinstance(attribute.value, str) else ""
        if value.upper().startswith("MST:"):
            return value[4:].strip() or None
    return None


def _name(name: x509.Name) -> str:
    return name.rfc4514_string()


@dataclass(frozen=True)
class CertSummary:
    subject: str
    serial: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint: str
    tax_code: str | None


def summarise(cert: x509.Certificate) -> CertSummary:
    return CertSummary(
        subject=_name(cert.subject),
        serial=serial_hex(cert.serial_number),
        issuer=_name(cert.issuer),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        fingerprint=fingerprint(cert),
        tax_code=tax_code_of(cert),
    )


# --- policy and report ---------------------------------------------------------------------


def _setting_mode() -> str:
    return getattr(settings, "SIGNATURE_REVOCATION_MODE", "hard-fail")


def _setting_fetch() -> bool:
    return bool(getattr(settings, "SIGNATURE_FETCH_REVOCATION", True))


def _setting_timeout() -> float:
    return float(getattr(settings, "SIGNATURE_FETCH_TIMEOUT", 10))


@dataclass(frozen=True)
class CertPolicy:
    """How strict revocation checking is; defaults come from the settings at construction time.

    ``hard-fail``: refuse when a certificate names a CRL/OCSP source and no usable answer is
    available; ``soft-fail``: accept then, with a warning in the report; ``require``: every
    certificate of the path (intermediates too) must have revocation information.
    """

    revocation: str = field(default_factory=_setting_mode)
    fetch: bool = field(default_factory=_setting_fetch)
    timeout: float = field(default_factory=_setting_timeout)

    def __post_init__(self) -> None:
        if self.revocation not in REVOCATION_MODES:
            raise ValueError(
                f"revocation mode {self.revocation!r} is not one of {', '.join(REVOCATION_MODES)}"
            )
        if self.timeout <= 0:
            raise ValueError("the revocation fetch timeout must be positive")


@dataclass(frozen=True)
class ChainLink:
    subject: str
    fingerprint: str


@dataclass(frozen=True)
class AppliedPolicy:
    mode: str
    fetch: bool
    moment: dt.datetime


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


@dataclass(frozen=True)
class ChainReport:
    """The outcome of ``validate_certificate``; ``code`` is None exactly when ``ok``."""

    ok: bool
    code: str | None
    detail: str
    signer: CertSummary
    chain: tuple[ChainLink, ...]  # signer first, trusted root last
    revocation: tuple[RevocationEvidence, ...]
    policy: AppliedPolicy
    registered: bool | None  # None when no unit was given
    warnings: tuple[str, ...] = ()

    @property
    def error(self) -> SignatureError | None:
        return None if self.code is None else SignatureError(self.code, self.detail)

    def raise_for_error(self) -> None:
        """Raise the SignatureError of a failed report; do nothing when ok."""
        if self.code is not None:
            raise SignatureError(self.code, self.detail)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON data (datetimes as ISO-8601); messages in both languages on failure."""
        data: dict[str, Any] = _json(asdict(self))
        if self.code is not None:
            problem = PROBLEMS[self.code]
            data["message_vi"] = problem.message_vi
            data["message_en"] = problem.message_en
        return data


# --- pyhanko plumbing ------------------------------------------------------------------


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate_der(cert))


def _crypto(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def _enabled_roots() -> list[x509.Certificate]:
    return [root.certificate() for root in TrustedRoot.objects.filter(enabled=True)]


def _known_intermediates() -> list[x509.Certificate]:
    # A handful of rows (one per CA); path building only uses them, trust still ends at a root.
    return [row.certificate() for row in IntermediateCertificate.objects.all()]


def _declares_revinfo(cert: x509.Certificate) -> bool:
    """The certificate names a CRL distribution point or an OCSP responder (any scheme)."""
    try:
        cert.extensions.get_extension_for_class(x509.CRLDistributionPoints)
        return True
    except x509.ExtensionNotFound:
        pass
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return False
    return any(d.access_method == AuthorityInformationAccessOID.OCSP for d in access)


def _revinfo_policy(mode: str, signer_declares: bool) -> CertRevTrustPolicy:
    rules = RevocationCheckingPolicy.from_legacy(mode)
    if mode == "hard-fail" and signer_declares:
        # Legacy hard-fail (CHECK_IF_DECLARED) only looks at the *kind* of source the
        # certificate names, so an uploaded CRL would not count for a certificate naming only
        # an OCSP responder. "Either CRL or OCSP" is the same rule without that gap.
        rules = RevocationCheckingPolicy(
            ee_certificate_rule=RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
            intermediate_ca_cert_rule=rules.intermediate_ca_cert_rule,
        )
    # A CRL published after the signing moment still tells whether the certificate was
    # revoked *at* that moment (stack-notes §3; pitfall 9).
    return CertRevTrustPolicy(rules, retroactive_revinfo=True)


def _context(
    roots: Sequence[x509.Certificate],
    others: Sequence[x509.Certificate],
    *,
    moment: dt.datetime,
    policy: CertRevTrustPolicy,
    crls: Sequence[bytes] = (),
    ocsps: Sequence[bytes] = (),
) -> ValidationContext:
    return ValidationContext(
        trust_roots=[_asn1(c) for c in roots],  # a list, never None: None means the OS store
        other_certs=[_asn1(c) for c in others],
        moment=moment,
        crls=list(crls),
        ocsps=list(ocsps),
        revinfo_policy=policy,
        allow_fetching=False,
    )


# Pass 1 and CA checks: path and validity only, revocation left to pass 2.
_NO_REVOCATION = CertRevTrustPolicy(RevocationCheckingPolicy.from_legacy("none"))


async def _validate_path(
    cert: asn1_x509.Certificate, context: ValidationContext
) -> list[asn1_x509.Certificate]:
    path = await CertificateValidator(cert, validation_context=context).async_validate_path()
    return list(path.iter_certs(include_root=True))


def _run_path(cert: x509.Certificate, context: ValidationContext) -> list[x509.Certificate]:
    """Root first, signer last. Raises pyhanko's errors."""
    return [_crypto(c) for c in asyncio.run(_validate_path(_asn1(cert), context))]


def _describe(exc: Exception) -> str:
    return getattr(exc, "failure_msg", None) or str(exc) or type(exc).__name__


def _code_for(exc: Exception) -> str:
    """The stable code of a pyhanko failure (subclasses before their bases)."""
    if isinstance(exc, pv_errors.RevokedError):
        return "CERT-REVOKED"
    if isinstance(exc, pv_errors.InsufficientRevinfoError):
        return "CERT-REVOCATION-UNKNOWN"
    if isinstance(exc, pv_errors.ExpiredError):
        return "CERT-EXPIRED"
    if isinstance(exc, pv_errors.NotYetValidError):
        return "CERT-NOT-YET-VALID"
    # PathBuildingError (no trusted root), bad signatures, constraints, disallowed algorithms.
    return "CERT-UNTRUSTED"


def ca_chain_problem(cert: x509.Certificate, *, moment: dt.datetime | None = None) -> str | None:
    """Why a CA certificate does not chain to an enabled trusted root now (None when it does)."""
    roots = _enabled_roots()
    if not roots:
        return "the trust store is empty"
    context = _context(
        roots, _known_intermediates(), moment=moment or timezone.now(), policy=_NO_REVOCATION
    )
    try:
        _run_path(cert, context)
    except (pv_errors.PathBuildingError, pv_errors.ValidationError) as exc:
        return _describe(exc)
    return None


def _learn_intermediates(path: Sequence[x509.Certificate]) -> None:
    """Keep the CA certificates of a path that chained to a trusted root, for later paths."""
    for cert in path[1:-1]:
        fp = fingerprint(cert)
        if IntermediateCertificate.objects.filter(fingerprint=fp).exists():
            continue
        try:
            with transaction.atomic():  # a savepoint: a concurrent insert must not break the caller
                IntermediateCertificate.objects.create(
                    der=certificate_der(cert),
                    subject=_name(cert.subject),
                    issuer=_name(cert.issuer),
                    fingerprint=fp,
                    not_before=cert.not_valid_before_utc,
                    not_after=cert.not_valid_after_utc,
                    source=IntermediateCertificate.Source.VALIDATION,
                )
        except IntegrityError:
            pass


def _key_usage_problem(cert: x509.Certificate) -> str | None:
    # pyhanko's validate_usage demands *all* listed usages; signing needs either one.
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return "the certificate has no KeyUsage extension"
    if usage.digital_signature or usage.content_commitment:
        return None
    return "KeyUsage has neither digitalSignature nor nonRepudiation"


def _is_registered(unit: Unit, fp: str) -> bool:
    return RegisteredCertificate.objects.filter(
        unit=unit, fingerprint=fp, status=RegisteredCertificate.Status.ACTIVE
    ).exists()


# --- the check ---------------------------------------------------------------------------


# Decisions on certificates, kept per process for SIGNATURE_CACHE_SECONDS: the path and revocation
# check costs about 10 ms, and every dossier brings the same few certificates twice (envelope and
# form). The key holds everything the decision depends on (the certificate, the intermediates
# offered, the unit, the policy, the minute of the moment); a change to the trust store, the
# intermediates, CRLs, OCSP answers or registered certificates clears it in the process that makes
# it (signals below). Other processes see such a change within SIGNATURE_CACHE_SECONDS at most.
_DECISIONS: dict[tuple[Any, ...], tuple[float, ChainReport]] = {}
_DECISIONS_MAX = 1024


def clear_decisions(*_args: Any, **_kwargs: Any) -> None:
    _DECISIONS.clear()


def validate_certificate(
    cert: x509.Certificate,
    *,
    intermediates: Sequence[x509.Certificate] = (),
    moment: dt.datetime,
    unit: Unit | None = None,
    policy: CertPolicy | None = None,
) -> ChainReport:
    """`check_certificate`, remembered for SIGNATURE_CACHE_SECONDS (0: never)."""
    import time

    ttl = getattr(settings, "SIGNATURE_CACHE_SECONDS", 0)
    policy = policy or CertPolicy()
    margin = dt.timedelta(minutes=2)  # near a validity boundary the minute bucket would blur it
    if (
        ttl <= 0
        or moment.tzinfo is None
        or abs(cert.not_valid_after_utc - moment) < margin
        or abs(cert.not_valid_before_utc - moment) < margin
    ):
        return check_certificate(
            cert, intermediates=intermediates, moment=moment, unit=unit, policy=policy
        )
    key = (
        fingerprint(cert),
        tuple(fingerprint(c) for c in intermediates),
        unit.pk if unit is not None else None,
        policy.revocation,
        policy.fetch,
        moment.astimezone(dt.UTC).replace(second=0, microsecond=0),
    )
    now = time.monotonic()
    hit = _DECISIONS.get(key)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    report = check_certificate(
        cert, intermediates=intermediates, moment=moment, unit=unit, policy=policy
    )
    if len(_DECISIONS) >= _DECISIONS_MAX:
        _DECISIONS.clear()
    _DECISIONS[key] = (now, report)
    return report


def check_certificate(
    cert: x509.Certificate,
    *,
    intermediates: Sequence[x509.Certificate] = (),
    moment: dt.datetime,
    unit: Unit | None = None,
    policy: CertPolicy | None = None,
) -> ChainReport:
    """Check a signer certificate at ``moment`` (the signing time) and report the outcome.

    Order of checks, first failure wins: path to an enabled root and validity at ``moment``
    (CERT-UNTRUSTED / CERT-EXPIRED / CERT-NOT-YET-VALID), key usage (CERT-KEY-USAGE), the
    unit's registration (CERT-NOT-REGISTERED), then revocation (CERT-REVOKED /
    CERT-REVOCATION-UNKNOWN). Local checks come first so nothing is fetched for a certificate
    that is refused anyway. Writes only caches (fetched CRL/OCSP answers, learned
    intermediates); never raises for a bad certificate.
    """
    from ebhxh.signatures.revocation import collect_revocation_info  # revocation imports us

    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("moment must be timezone-aware")
    policy = policy or CertPolicy()
    applied = AppliedPolicy(mode=policy.revocation, fetch=policy.fetch, moment=moment)
    signer = summarise(cert)
    registered = _is_registered(unit, signer.fingerprint) if unit is not None else None
    warnings: list[str] = []

    def report(
        code: str | None,
        detail: str = "",
        chain: Sequence[x509.Certificate] = (cert,),
        evidence: Sequence[RevocationEvidence] = (),
    ) -> ChainReport:
        return ChainReport(
            ok=code is None,
            code=code,
            detail=detail,
            signer=signer,
            chain=tuple(ChainLink(_name(c.subject), fingerprint(c)) for c in chain),
            revocation=tuple(evidence),
            policy=applied,
            registered=registered,
            warnings=tuple(warnings),
        )

    try:
        _asn1(cert).native  # noqa: B018 - parse fully now: asn1crypto is lazy
    except (ValueError, TypeError) as exc:
        return report("CERT-MALFORMED", str(exc))

    roots = _enabled_roots()
    if not roots:
        return report("CERT-UNTRUSTED", "the trust store has no enabled root")
    others = [*intermediates, *_known_intermediates()]

    # Pass 1: path and validity at the moment, no revocation data.
    try:
        path = _run_path(cert, _context(roots, others, moment=moment, policy=_NO_REVOCATION))
    except (pv_errors.PathBuildingError, pv_errors.ValidationError) as exc:
        return report(_code_for(exc), _describe(exc))
    path.reverse()  # signer first
    _learn_intermediates(path)

    problem = _key_usage_problem(cert)
    if problem:
        return report("CERT-KEY-USAGE", problem, path)
    if registered is False:
        return report("CERT-NOT-REGISTERED", "not among the unit's active certificates", path)

    # Pass 2: the same path with the revocation information of every non-root certificate.
    material = collect_revocation_info(
        [(path[i], path[i + 1]) for i in range(len(path) - 1)],
        fetch=policy.fetch,
        timeout=policy.timeout,
    )
    warnings.extend(material.warnings)
    context = _context(
        roots,
        others,
        moment=moment,
        policy=_revinfo_policy(policy.revocation, _declares_revinfo(cert)),
        crls=material.crls,
        ocsps=material.ocsps,
    )
    # pyhanko's hard-fail/soft-fail rules ignore revocation data for a certificate that names
    # no source (e.g. an intermediate listed on the root's uploaded CRL): a revocation we hold
    # signed proof of refuses in every mode.
    proof = next(
        (e for e in material.evidence if e.revoked_at is not None and e.revoked_at <= moment),
        None,
    )
    proof_detail = (
        f"{proof.source.upper()} {proof.url or '(uploaded)'} lists {proof.subject} "
        f"as revoked at {proof.revoked_at.isoformat()}"
        if proof is not None and proof.revoked_at is not None
        else ""
    )
    try:
        _run_path(cert, context)
    except (pv_errors.PathBuildingError, pv_errors.ValidationError) as exc:
        code = _code_for(exc)
        if proof is not None and code != "CERT-REVOKED":
            return report("CERT-REVOKED", proof_detail, path, material.evidence)
        return report(code, _describe(exc), path, material.evidence)
    if proof is not None:
        return report("CERT-REVOKED", proof_detail, path, material.evidence)
    warnings.extend(_describe(exc) for exc in context.soft_fail_exceptions)
    if policy.revocation == "soft-fail":
        checked = {e.fingerprint for e in material.evidence}
        for c in path[:-1]:
            if fingerprint(c) not in checked and _declares_revinfo(c):
                warnings.append(
                    f"revocation not checked for {_name(c.subject)}: no CRL/OCSP answer (soft-fail)"
                )
    return report(None, "", path, material.evidence)
