"""Writes to the trust store and to units' registered certificates, each with its audit event.

(The CRL upload service lives in ``revocation.py``.) Refusals raise ``TrustStoreError``: a
Django ``ValidationError`` (forms and the admin show its Vietnamese, gettext-translated
message) that also carries an explicit English text for the command line and API clients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ebhxh.audit.services import record_event
from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.models import IntermediateCertificate, RegisteredCertificate, TrustedRoot
from ebhxh.signatures.validation import (
    ca_chain_problem,
    certificate_der,
    fingerprint,
    load_certificate,
    serial_hex,
    tax_code_of,
)
from ebhxh.units.models import Unit

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

__all__ = [
    "TrustStoreError",
    "add_intermediate_certificate",
    "add_trusted_root",
    "check_intermediate_certificate",
    "check_root_certificate",
    "disable_trusted_root",
    "normalise_fingerprint",
    "register_certificate",
    "withdraw_certificate",
]


class TrustStoreError(ValidationError):
    """A refused trust-store or registration change; ``code`` is stable."""

    def __init__(self, code: str, message_vi: StrOrPromise, message_en: str, **params: Any) -> None:
        super().__init__(message_vi, code=code, params=params or None)
        self.message_en = message_en % params if params else message_en

    @property
    def message_vi(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)

    def bilingual(self) -> str:
        return f"{self.message_vi} / {self.message_en}"


def normalise_fingerprint(value: str) -> str:
    """Accept "AB:CD:…" (as openssl prints it) or plain hex; return lower-case hex."""
    return value.replace(":", "").replace(" ", "").strip().lower()


def _load(data: bytes) -> x509.Certificate:
    try:
        return load_certificate(data)
    except SignatureError as exc:
        raise TrustStoreError(
            "malformed",
            _("Tệp không phải chứng thư số X.509 (PEM hoặc DER) đọc được."),
            "The file is not a readable X.509 certificate (PEM or DER).",
        ) from exc


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _may_sign_certificates(cert: x509.Certificate) -> bool:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True  # no KeyUsage: every use is allowed (RFC 5280 §4.2.1.3)
    return usage.key_cert_sign


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _not_a_ca() -> TrustStoreError:
    return TrustStoreError(
        "not_ca",
        _(
            "Chứng thư số không phải của tổ chức chứng thực (thiếu BasicConstraints CA=TRUE hoặc keyCertSign)."
        ),
        "The certificate is not a certification authority's (no BasicConstraints CA=TRUE or keyCertSign).",
    )


def check_root_certificate(data: bytes) -> x509.Certificate:
    """Parse and check a root for the trust store (a self-signed CA); raise TrustStoreError."""
    cert = _load(data)
    if not (_is_ca(cert) and _may_sign_certificates(cert)):
        raise _not_a_ca()
    if not _self_signed(cert):
        raise TrustStoreError(
            "not_self_signed",
            _(
                "Chứng thư số không tự ký (không phải chứng thư gốc). Thêm chứng thư gốc của tổ chức chứng thực."
            ),
            "The certificate is not self-signed (not a root). Add the certification authority's root certificate.",
        )
    existing = TrustedRoot.objects.filter(fingerprint=fingerprint(cert), enabled=True).first()
    if existing is not None:
        raise TrustStoreError(
            "duplicate",
            _("Chứng thư gốc này đã được tin cậy: %(subject)s"),
            "This root is already trusted: %(subject)s",
            subject=existing.subject,
        )
    return cert


def _root_values(root: TrustedRoot) -> dict[str, Any]:
    return {
        "subject": root.subject,
        "fingerprint": root.fingerprint,
        "not_before": root.not_before.isoformat(),
        "not_after": root.not_after.isoformat(),
        "enabled": root.enabled,
        "note": root.note,
    }


@transaction.atomic
def add_trusted_root(pem: bytes, *, actor: Any, note: str = "") -> TrustedRoot:
    """Add a self-signed CA certificate to the trust store (or re-enable it if it was disabled)."""
    cert = check_root_certificate(pem)
    fp = fingerprint(cert)
    root = TrustedRoot.objects.select_for_update().filter(fingerprint=fp).first()
    if root is not None:  # disabled earlier: trust it again rather than add a second row
        before = _root_values(root)
        root.enabled = True
        root.disabled_at = None
        if note:
            root.note = note
        root.save(update_fields=["enabled", "disabled_at", "note"])
        record_event(
            "trust:root:enable", actor=actor, subject=root, before=before, after=_root_values(root)
        )
        return root
    root = TrustedRoot.objects.create(
        pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        subject=cert.subject.rfc4514_string(),
        fingerprint=fp,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        note=note,
        added_by=actor,
    )
    record_event("trust:root:add", actor=actor, subject=root, after=_root_values(root))
    return root


@transaction.atomic
def disable_trusted_root(root: TrustedRoot, *, actor: Any) -> TrustedRoot:
    """Stop trusting a root; certificates under it become CERT-UNTRUSTED. Kept for the record."""
    root = TrustedRoot.objects.select_for_update().get(pk=root.pk)
    if not root.enabled:
        return root
    root.enabled = False
    root.disabled_at = timezone.now()
    root.save(update_fields=["enabled", "disabled_at"])
    record_event(
        "trust:root:disable",
        actor=actor,
        subject=root,
        before={"enabled": True},
        after={"enabled": False, "fingerprint": root.fingerprint, "subject": root.subject},
    )
    return root


def check_intermediate_certificate(data: bytes) -> x509.Certificate:
    """Parse and check an intermediate CA: a CA certificate that chains to an enabled root."""
    cert = _load(data)
    if not (_is_ca(cert) and _may_sign_certificates(cert)):
        raise _not_a_ca()
    problem = ca_chain_problem(cert)
    if problem is not None:
        raise TrustStoreError(
            "untrusted_ca",
            _("Chứng thư CA không dẫn tới chứng thư gốc tin cậy nào: %(problem)s"),
            "The CA certificate does not chain to a trusted root: %(problem)s",
            problem=problem,
        )
    return cert


@transaction.atomic
def add_intermediate_certificate(data: bytes, *, actor: Any) -> IntermediateCertificate:
    """Record an intermediate CA (so its CRL can be uploaded before any signer was seen)."""
    cert = check_intermediate_certificate(data)
    fp = fingerprint(cert)
    existing = IntermediateCertificate.objects.filter(fingerprint=fp).first()
    if existing is not None:
        return existing
    row = IntermediateCertificate.objects.create(
        der=certificate_der(cert),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        fingerprint=fp,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        source=IntermediateCertificate.Source.ADMIN,
        added_by=actor,
    )
    record_event(
        "trust:intermediate:add",
        actor=actor,
        subject=row,
        after={"subject": row.subject, "issuer": row.issuer, "fingerprint": fp},
    )
    return row


def _registration_values(row: RegisteredCertificate) -> dict[str, Any]:
    return {
        "unit": row.unit_id,
        "fingerprint": row.fingerprint,
        "serial": row.serial,
        "subject": row.subject,
        "issuer": row.issuer,
        "status": row.status,
    }


@transaction.atomic
def register_certificate(
    unit: Unit, cert_der_or_pem: bytes, *, actor: Any
) -> RegisteredCertificate:
    """Register a signer certificate to a unit (re-activates a withdrawn registration).

    Checks only that the certificate is readable and is not a CA certificate: the caller
    (the registration flow) validates it with ``validate_certificate`` first.
    """
    cert = load_certificate(cert_der_or_pem)  # SignatureError CERT-MALFORMED
    if _is_ca(cert):
        raise TrustStoreError(
            "ca_not_signer",
            _(
                "Chứng thư của tổ chức chứng thực không dùng để ký hồ sơ; hãy đăng ký chứng thư số của đơn vị."
            ),
            "A certification authority's certificate does not sign dossiers; register the unit's own certificate.",
        )
    fp = fingerprint(cert)
    row = (
        RegisteredCertificate.objects.select_for_update().filter(unit=unit, fingerprint=fp).first()
    )
    if row is not None and row.status == RegisteredCertificate.Status.ACTIVE:
        raise TrustStoreError(
            "already_registered",
            _("Chứng thư số này đã được đăng ký cho đơn vị."),
            "This certificate is already registered to the unit.",
        )
    if row is not None:  # withdrawn earlier: the same certificate is registered again
        before = _registration_values(row)
        row.status = RegisteredCertificate.Status.ACTIVE
        row.registered_at = timezone.now()
        row.registered_by = actor
        row.withdrawn_at = None
        row.withdrawn_by = None
        row.save()
    else:
        before = None
        row = RegisteredCertificate.objects.create(
            unit=unit,
            der=certificate_der(cert),
            fingerprint=fp,
            serial=serial_hex(cert.serial_number),
            issuer=cert.issuer.rfc4514_string(),
            subject=cert.subject.rfc4514_string(),
            tax_code=tax_code_of(cert) or "",
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            registered_by=actor,
        )
    record_event(
        "unit:certificate:register",
        actor=actor,
        subject=row,
        before=before,
        after={
            **_registration_values(row),
            "unit_code": unit.code,
            "not_after": row.not_after.isoformat(),
        },
    )
    return row


@transaction.atomic
def withdraw_certificate(registered: RegisteredCertificate, *, actor: Any) -> RegisteredCertificate:
    """Stop accepting a registered certificate for its unit (the row stays, withdrawn)."""
    row = RegisteredCertificate.objects.select_for_update().get(pk=registered.pk)
    if row.status == RegisteredCertificate.Status.WITHDRAWN:
        return row
    row.status = RegisteredCertificate.Status.WITHDRAWN
    row.withdrawn_at = timezone.now()
    row.withdrawn_by = actor
    row.save(update_fields=["status", "withdrawn_at", "withdrawn_by"])
    record_event(
        "unit:certificate:withdraw",
        actor=actor,
        subject=row,
        before={"status": RegisteredCertificate.Status.ACTIVE},
        after={"status": row.status, "unit": row.unit_id, "fingerprint": row.fingerprint},
    )
    return row
