"""The signature services the rest of ebhxh calls: verify a signed document into a report that is
stored with the dossier, and seal the agency's notices.

Verification is two independent steps, both required: the XML signature itself (xmldsig.verify,
strict profile, pinned to the certificate it carries) and that certificate (validation: trust store,
validity at the moment, key usage, revocation, registration to the unit).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from ebhxh.signatures import xmldsig
from ebhxh.signatures.errors import PROBLEMS, SignatureError
from ebhxh.signatures.profile import Policy
from ebhxh.signatures.signers import Pkcs12Signer, Signer
from ebhxh.signatures.validation import CertPolicy, validate_certificate
from ebhxh.units.models import Unit

logger = logging.getLogger("ebhxh.signatures")

# A claimed SigningTime is not covered by the VSS profile's signature; allow only small clock skew.
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class VerificationReport:
    """What was checked and what came out; JSON-serialisable, stored with the dossier."""

    valid: bool
    code: str | None
    message_vi: str
    message_en: str
    document_sha256: str
    checked_at: str
    moment: str
    signature: dict[str, Any] = field(default_factory=dict)
    certificate: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2, sort_keys=True)


def _policy_dict(unit: Unit | None, moment_rule: str, cert_policy: CertPolicy) -> dict[str, Any]:
    return {
        "allow_sha1": settings.SIGNATURE_ALLOW_SHA1,
        "revocation_mode": cert_policy.revocation,
        "fetch_revocation": cert_policy.fetch,
        "moment": moment_rule,
        "unit": (unit.code or unit.tax_code) if unit else None,
    }


def verify_document(
    data: bytes,
    *,
    container: str | None = None,
    unit: Unit | None = None,
    at: dt.datetime | None = None,
    use_signing_time: bool = False,
    cert_policy: CertPolicy | None = None,
) -> tuple[VerificationReport, xmldsig.VerifiedXml | None]:
    """Verify a signed XML document under the configured policy.

    The certificate is judged at `at` (default: now, the moment of receipt). The VSS profile's
    SigningTime is not covered by the signature, so trusting it would let a holder of a revoked or
    expired key backdate; only archive checks (`use_signing_time=True`) use it.
    Returns the report and, when valid, the verified document (use only that, never the input).
    """
    now = timezone.now()
    cert_policy = cert_policy or CertPolicy()
    moment_rule = "signing_time" if use_signing_time else "receipt"
    base: dict[str, Any] = {
        "document_sha256": hashlib.sha256(data).hexdigest(),
        "checked_at": now.isoformat(),
        "policy": _policy_dict(unit, moment_rule, cert_policy),
    }
    try:
        verified = xmldsig.verify(
            data, container=container, policy=Policy(allow_sha1=settings.SIGNATURE_ALLOW_SHA1)
        )
    except SignatureError as exc:
        return _failed(exc, moment=(at or now), **base), None

    signature = {
        "method": verified.signature_method,
        "digest": verified.digest_method,
        "c14n": verified.c14n_method,
        "signing_time": verified.signing_time.isoformat() if verified.signing_time else None,
        "root": verified.root.tag,
    }
    if verified.signing_time and verified.signing_time > now + CLOCK_SKEW:
        error = SignatureError(
            "SIG-SIGNING-TIME", f"signing time {verified.signing_time.isoformat()} is in the future"
        )
        return _failed(error, moment=(at or now), signature=signature, **base), None
    moment = (
        (verified.signing_time if use_signing_time and verified.signing_time else None) or at or now
    )

    chain = validate_certificate(
        verified.certificate,
        intermediates=list(verified.embedded_certificates),
        moment=moment,
        unit=unit,
        policy=cert_policy,
    )
    if not chain.ok:
        problem = PROBLEMS[chain.code or "CERT-UNTRUSTED"]
        report = VerificationReport(
            valid=False,
            code=problem.code,
            message_vi=problem.message_vi,
            message_en=problem.message_en,
            moment=moment.isoformat(),
            signature=signature,
            certificate=chain.as_dict(),
            detail=getattr(chain, "detail", "") or "",
            **base,
        )
        return report, None
    report = VerificationReport(
        valid=True,
        code=None,
        message_vi="Chữ ký số hợp lệ.",
        message_en="The signature is valid.",
        moment=moment.isoformat(),
        signature=signature,
        certificate=chain.as_dict(),
        **base,
    )
    return report, verified


def _failed(
    exc: SignatureError,
    *,
    moment: dt.datetime,
    signature: dict[str, Any] | None = None,
    **base: Any,
) -> VerificationReport:
    return VerificationReport(
        valid=False,
        code=exc.code,
        message_vi=exc.message_vi,
        message_en=exc.message_en,
        moment=moment.isoformat(),
        signature=signature or {},
        detail=exc.detail,
        **base,
    )


# The seal read from its PKCS#12 file, kept per process: loading the file (its MAC key derivation)
# costs about 30 ms, more than the signature itself. Keyed by the file's identity and the
# password, so a replaced file or a new password is read again.
_PKCS12_SEALS: dict[tuple[str, int, int, int, str], Pkcs12Signer] = {}


def _pkcs12_seal(path: str, password: bytes | None) -> Pkcs12Signer:
    stat = os.stat(path)
    key = (
        path,
        stat.st_ino,
        stat.st_mtime_ns,
        stat.st_size,
        hashlib.sha256(password or b"").hexdigest(),
    )
    signer = _PKCS12_SEALS.get(key)
    if signer is None:
        signer = Pkcs12Signer.from_file(path, password)
        _PKCS12_SEALS.clear()
        _PKCS12_SEALS[key] = signer
    return signer


def agency_signer() -> Signer:
    """The agency seal from the settings: PKCS#11 (an HSM in production), a PKCS#12 file, or the demo seal."""
    if settings.SEAL_PKCS11_MODULE:
        from ebhxh.signatures.pkcs11 import Pkcs11Signer

        return Pkcs11Signer(
            settings.SEAL_PKCS11_MODULE,
            token_label=settings.SEAL_PKCS11_TOKEN,
            key_label=settings.SEAL_PKCS11_KEY_LABEL or None,
            pin=settings.SEAL_PKCS11_PIN,
        )
    if settings.SEAL_PKCS12_FILE:
        return _pkcs12_seal(
            settings.SEAL_PKCS12_FILE, (settings.SEAL_PKCS12_PASSWORD or "").encode() or None
        )
    demo = Path(settings.DEMO_PKI_DIR) / "agency-seal.p12"
    if demo.exists():
        logger.warning(
            "no agency seal configured (SEAL_PKCS11_MODULE / SEAL_PKCS12_FILE): using the DEMO seal %s",
            demo,
        )
        return _pkcs12_seal(str(demo), None)
    raise ImproperlyConfigured(
        "Chưa cấu hình con dấu điện tử của cơ quan BHXH / no agency seal configured: set SEAL_PKCS11_MODULE or SEAL_PKCS12_FILE"
    )


def seal(xml: bytes, *, container: str | None = None, signer: Signer | None = None) -> bytes:
    """Sign an agency notice with the agency seal (into the notice's designated node).

    A signer passed in stays the caller's; the one made here from the settings is closed again,
    so a PKCS#11 seal does not keep a session and a login on the HSM per notice.
    """
    if signer is not None:
        return xmldsig.sign(xml, signer, container=container)
    own = agency_signer()
    try:
        return xmldsig.sign(xml, own, container=container)
    finally:
        close = getattr(own, "close", None)
        if close is not None:
            close()
