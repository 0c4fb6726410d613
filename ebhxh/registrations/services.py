"""Registration for e-transactions: every write of the flow, each with its audit event.

start()            the unit fills in 01/ĐK-GĐ (public page, or the unit's own page for a change
                   or a stop); a draft with the unsigned declaration XML
choose_certificate()  the certificate read from the token goes into the declaration
submit_signed()    the signed declaration: signature, certificate and content checked
send_code() / submit_with_code()  the path without a digital signature: a one-time code
                   sent to the e-mail address proves it before the registration counts
approve() / refuse()  the one-stop desk decides; approval creates or updates the unit, its
                   account and certificate, and issues the sealed 01/TB-GD notice
warn_expiring_certificates(), apply_due_stops()  the daily task
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ebhxh.accounts.models import Role, User
from ebhxh.audit.services import record_event
from ebhxh.catalog.models import Agency
from ebhxh.legacy.models import LegacyAccount
from ebhxh.lib import identifiers
from ebhxh.registrations import form01
from ebhxh.registrations.models import CertificateExpiryWarning, Registration
from ebhxh.signatures.models import RegisteredCertificate
from ebhxh.signatures.validation import (
    certificate_der,
    fingerprint,
    load_certificate,
    serial_hex,
    tax_code_of,
    validate_certificate,
)
from ebhxh.units.models import Unit

logger = logging.getLogger(__name__)

CODE_PURPOSE = "registration"
EXPIRY_WARNING_DAYS = 30

# Fields of the declaration copied to the unit on approval (registration field -> unit field).
_UNIT_FIELDS = {
    "unit_name": "name",
    "unit_type": "unit_type",
    "registered_address": "registered_address",
    "contact_address": "contact_address",
    "head_name": "head_name",
    "email": "contact_email",
    "phone": "contact_phone",
    "wage_region": "wage_region",
    "ivan": "ivan",
}
# What a change may carry (the unit's identity — tax code, unit code, agency — does not change here).
CHANGEABLE = (
    "registered_address",
    "contact_address",
    "head_name",
    "contact_person",
    "email",
    "phone",
    "contact_phone",
    "procedures",
    "delivery",
    "ivan",
    "uses_signature",
)


class RegistrationError(Exception):
    """A registration step that cannot be done: stable code, Vietnamese and English message."""

    def __init__(self, code: str, message_vi: str, message_en: str, field: str | None = None):
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en
        self.field = field

    def __str__(self) -> str:
        return f"{self.message_vi} ({self.code})"


def _fail(code: str, field: str | None = None) -> RegistrationError:
    vi, en = error_codes()[code]
    return RegistrationError(code, vi, en, field)


def error_codes() -> dict[str, tuple[str, str]]:
    """The stable codes (docs/registration.md) with Vietnamese (active language) and English."""
    return {
        "REG-STATE": (
            _("Đăng ký không ở trạng thái cho phép thao tác này."),
            "The registration is not in a state that allows this.",
        ),
        "REG-ATTACHMENT-REQUIRED": (
            _("Đơn vị chưa có mã đơn vị phải đính kèm giấy chứng nhận đăng ký doanh nghiệp."),
            "A unit without a unit code must attach its business registration certificate.",
        ),
        "REG-CERT-TAX-CODE": (
            _("Mã số thuế trong chứng thư số khác mã số thuế của đơn vị."),
            "The tax code in the certificate differs from the unit's tax code.",
        ),
        "REG-CERT-INVALID": (
            _("Chứng thư số không hợp lệ."),
            "The certificate is not valid.",
        ),
        "REG-SIGNATURE-INVALID": (
            _("Chữ ký số trên tờ khai không hợp lệ."),
            "The signature on the declaration is not valid.",
        ),
        "REG-CONTENT-MISMATCH": (
            _("Tờ khai đã ký khác tờ khai đơn vị đã lập; hãy ký lại đúng tờ khai."),
            "The signed declaration differs from the one the unit filled in; sign that one.",
        ),
        "REG-CERT-MISMATCH": (
            _("Tờ khai được ký bằng chứng thư số khác chứng thư đã chọn."),
            "The declaration was signed with another certificate than the one chosen.",
        ),
        "REG-CODE-INVALID": (
            _("Mã xác nhận không đúng hoặc đã hết hạn."),
            "The confirmation code is wrong or has expired.",
        ),
        "REG-AGENCY": (
            _("Đăng ký thuộc cơ quan BHXH khác."),
            "The registration belongs to another agency.",
        ),
        "REG-UNIT-CODE": (
            _("Mã đơn vị không hợp lệ hoặc đã được cấp cho đơn vị khác."),
            "The unit code is not valid or is already held by another unit.",
        ),
        "REG-TAX-CODE-TAKEN": (
            _("Mã số thuế đã thuộc một đơn vị khác đang giao dịch điện tử."),
            "The tax code already belongs to another unit doing e-transactions.",
        ),
        "REG-REASON-REQUIRED": (
            _("Cần ghi lý do từ chối."),
            "A reason for the refusal is required.",
        ),
        "REG-OPEN-CHANGE": (
            _("Đơn vị đang có một đăng ký thay đổi chờ duyệt."),
            "The unit already has a change waiting for approval.",
        ),
        "REG-EMAIL-TAKEN": (
            _("Email này đã được dùng cho một tài khoản khác; đơn vị cần đăng ký email riêng."),
            "This e-mail address already belongs to another account; the unit needs its own.",
        ),
        "REG-STOPPED": (
            _("Đơn vị đã ngừng giao dịch điện tử; hãy đăng ký lại."),
            "The unit has stopped e-transactions; register again.",
        ),
    }


# --------------------------------------------------------------------------- building


def _agency_name(agency: Agency) -> str:
    return agency.name


def declaration_of(reg: Registration) -> form01.Declaration:
    certificate = None
    if reg.certificate_der:
        cert = load_certificate(bytes(reg.certificate_der))
        certificate = form01.Certificate(
            serial=serial_hex(cert.serial_number),
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            der=certificate_der(cert),
        )
    attachments: tuple[form01.Attachment, ...] = ()
    if reg.attachment:
        with reg.attachment.open("rb") as f:
            attachments = (
                form01.Attachment(
                    filename=(reg.attachment.name or "").rsplit("/", 1)[-1], content=f.read()
                ),
            )
    return form01.Declaration(
        kind=reg.kind,
        unit_name=reg.unit_name,
        tax_code=reg.tax_code,
        agency_code=reg.managing_agency.code,
        agency_name=_agency_name(reg.managing_agency),
        email=reg.email,
        phone=reg.phone,
        registered_address=reg.registered_address,
        contact_address=reg.contact_address,
        unit_code=reg.unit_code,
        head_name=reg.head_name,
        contact_person=reg.contact_person,
        contact_phone=reg.contact_phone,
        procedures=tuple(reg.procedures),
        delivery=reg.delivery,
        ivan_code=reg.ivan.code if reg.ivan else "",
        ivan_name=reg.ivan.name if reg.ivan else "",
        uses_signature=reg.uses_signature,
        certificate=certificate,
        stop_date=reg.stop_date,
        stop_reason=reg.stop_reason,
        reference=reg.reference,
        made_on=timezone.localdate(reg.created_at) if reg.created_at else timezone.localdate(),
        attachments=attachments,
    )


def _write_document(reg: Registration) -> bytes:
    xml = form01.encode(declaration_of(reg))
    reg.document.save(f"01-DK-GD-{reg.reference}.xml", ContentFile(xml), save=False)
    return xml


def document_bytes(reg: Registration) -> bytes:
    with reg.document.open("rb") as f:
        return f.read()


def _values(reg: Registration) -> dict[str, Any]:
    return {
        "reference": reg.reference,
        "kind": reg.kind,
        "status": reg.status,
        "version": reg.version,
        "tax_code": reg.tax_code,
        "unit_code": reg.unit_code,
        "agency": reg.managing_agency.code,
        "uses_signature": reg.uses_signature,
        "certificate": reg.certificate_fingerprint or None,
    }


def find_legacy(unit_code: str, tax_code: str) -> LegacyAccount | None:
    condition = Q(tax_code=tax_code)
    if unit_code:
        condition |= Q(unit_code=unit_code)
    return LegacyAccount.objects.filter(condition).order_by("pk").first()


# --------------------------------------------------------------------------- the unit's side


@transaction.atomic
def start(
    *,
    data: dict[str, Any],
    attachment: tuple[str, bytes] | None = None,
    unit: Unit | None = None,
    kind: str | None = None,
    actor: User | None = None,
) -> Registration:
    """A draft registration from the 01/ĐK-GĐ fields in `data` (already validated by the form).

    Without `unit` this is a registration from the public page: first-time when there is no unit
    code, a re-registration when the unit is known from TS24, else an existing unit's. With
    `unit` (a logged-in unit admin) it is a change, or a stop when `kind` is "stop"."""
    fields = dict(data)
    legacy = None
    previous = None
    if unit is None:
        legacy = find_legacy(fields.get("unit_code", ""), fields["tax_code"])
        if legacy is not None:
            kind = Registration.Kind.REREGISTRATION
        elif fields.get("unit_code"):
            kind = Registration.Kind.EXISTING
        else:
            kind = Registration.Kind.FIRST
            if attachment is None:
                raise _fail("REG-ATTACHMENT-REQUIRED", "attachment")
        version = 1
    else:
        if kind not in (Registration.Kind.CHANGE, Registration.Kind.STOP):
            kind = Registration.Kind.CHANGE
        if unit.etx_status == Unit.EtxStatus.STOPPED:
            raise _fail("REG-STOPPED")
        previous = current_registration(unit)
        if unit.registrations.filter(status=Registration.Status.SUBMITTED).exists():
            raise _fail("REG-OPEN-CHANGE")
        base = _carried_over(unit, previous)
        base.update({k: v for k, v in fields.items() if k in CHANGEABLE or k.startswith("stop_")})
        fields = base
        version = (previous.version + 1) if previous else 1
        legacy = previous.legacy_account if previous else None
    reg = Registration(
        kind=kind, unit=unit, legacy_account=legacy, previous=previous, version=version
    )
    for name, value in fields.items():
        setattr(reg, name, value)
    reg.submitted_by = actor
    reg.full_clean(exclude=["document", "attachment", "notice_xml", "notice_pdf", "previous"])
    reg.save()
    if attachment is not None:
        name, content = attachment
        reg.attachment.save(name, ContentFile(content), save=False)
    _write_document(reg)
    reg.save()
    record_event("registration:start", actor=actor, subject=reg, after=_values(reg))
    return reg


def _carried_over(unit: Unit, previous: Registration | None) -> dict[str, Any]:
    """The fields of the unit's current registration, the base of a change or a stop."""
    if previous is not None:
        names = [
            "unit_name", "unit_code", "tax_code", "unit_type", "registered_address",
            "contact_address", "head_name", "contact_person", "email", "phone", "contact_phone",
            "managing_agency", "wage_region", "procedures", "delivery", "ivan", "uses_signature",
        ]  # fmt: skip
        values = {name: getattr(previous, name) for name in names}
        if previous.certificate_der and previous.uses_signature:
            values.update(_certificate_fields_of(previous))
        values["unit_code"] = unit.code or ""
        return values
    return {
        "unit_name": unit.name,
        "unit_code": unit.code or "",
        "tax_code": unit.tax_code,
        "unit_type": unit.unit_type,
        "registered_address": unit.registered_address,
        "contact_address": unit.contact_address,
        "head_name": unit.head_name,
        "contact_person": unit.head_name,
        "email": unit.contact_email,
        "phone": unit.contact_phone,
        "managing_agency": unit.managing_agency,
        "wage_region": unit.wage_region,
        "procedures": [],
        "ivan": unit.ivan,
        "uses_signature": unit.certificates.filter(status="active").exists(),
    }


def _certificate_fields_of(reg: Registration) -> dict[str, Any]:
    return {
        "certificate_der": reg.certificate_der,
        "certificate_fingerprint": reg.certificate_fingerprint,
        "certificate_serial": reg.certificate_serial,
        "certificate_subject": reg.certificate_subject,
        "certificate_issuer": reg.certificate_issuer,
        "certificate_not_after": reg.certificate_not_after,
    }


def current_registration(unit: Unit) -> Registration | None:
    """The unit's approved registration that no approved change has followed yet."""
    return (
        unit.registrations.filter(status=Registration.Status.APPROVED)
        .order_by("-decided_at", "-pk")
        .first()
    )


def _lock_draft(reg: Registration) -> Registration:
    reg = Registration.objects.select_for_update().get(pk=reg.pk)
    if reg.status != Registration.Status.DRAFT:
        raise _fail("REG-STATE")
    return reg


@transaction.atomic
def choose_certificate(reg: Registration, cert_der: bytes) -> bytes:
    """Put the certificate read from the token into the declaration; returns the XML to sign.

    The certificate is validated now (trust, validity, key usage, revocation) so that the unit
    learns of a problem before it signs, and must carry the unit's tax code when it has one."""
    reg = _lock_draft(reg)
    try:
        cert = load_certificate(cert_der)
    except Exception as exc:
        raise _fail("REG-CERT-INVALID", "certificate") from exc
    now = timezone.now()
    report = validate_certificate(cert, moment=now)
    # The agent hands over the certificate alone; its issuing CA may be missing from the store
    # and travels with the signature instead, so "untrusted" is judged on the signed document
    # (the dates are checked here all the same).
    problem = report.code if not report.ok else None
    if problem == "CERT-UNTRUSTED":
        problem = None
        if now > cert.not_valid_after_utc:
            problem = "CERT-EXPIRED"
        elif now < cert.not_valid_before_utc:
            problem = "CERT-NOT-YET-VALID"
    if problem:
        error = _fail("REG-CERT-INVALID", "certificate")
        error.message_vi = f"{error.message_vi} ({problem})"
        error.message_en = f"{error.message_en} ({problem})"
        raise error
    found = tax_code_of(cert)
    if found and found.split("-")[0] != reg.tax_code.split("-")[0]:
        raise _fail("REG-CERT-TAX-CODE", "certificate")
    reg.certificate_der = certificate_der(cert)
    reg.certificate_fingerprint = fingerprint(cert)
    reg.certificate_serial = serial_hex(cert.serial_number)
    reg.certificate_subject = cert.subject.rfc4514_string()
    reg.certificate_issuer = cert.issuer.rfc4514_string()
    reg.certificate_not_after = cert.not_valid_after_utc
    xml = _write_document(reg)
    reg.save()
    record_event(
        "registration:certificate",
        subject=reg,
        data={"reference": reg.reference, "certificate": reg.certificate_fingerprint},
    )
    return xml


@transaction.atomic
def submit_signed(reg: Registration, signed: bytes, *, actor: User | None = None) -> Registration:
    """Accept the signed declaration: a valid signature under the signature policy, by the chosen
    certificate (or, uploaded without choosing, by a certificate that then becomes the
    registration's), over exactly the declaration the server built."""
    from ebhxh.signatures.services import verify_document

    reg = _lock_draft(reg)
    report, verified = verify_document(signed, container=form01.CONTAINER)
    if verified is None:
        record_event(
            "registration:signature_refused",
            actor=actor,
            subject=reg,
            data={"reference": reg.reference, "code": report.code},
        )
        error = _fail("REG-SIGNATURE-INVALID", "document")
        error.message_vi = f"{error.message_vi} {report.message_vi} ({report.code})"
        error.message_en = f"{error.message_en} {report.message_en} ({report.code})"
        raise error
    cert = verified.certificate
    if reg.certificate_fingerprint and fingerprint(cert) != reg.certificate_fingerprint:
        raise _fail("REG-CERT-MISMATCH", "document")
    if form01.signed_content(verified.root) != form01.content_of(document_bytes(reg)):
        raise _fail("REG-CONTENT-MISMATCH", "document")
    found = tax_code_of(cert)
    if found and found.split("-")[0] != reg.tax_code.split("-")[0]:
        raise _fail("REG-CERT-TAX-CODE", "document")
    if not reg.certificate_fingerprint:
        reg.certificate_der = certificate_der(cert)
        reg.certificate_fingerprint = fingerprint(cert)
        reg.certificate_serial = serial_hex(cert.serial_number)
        reg.certificate_subject = cert.subject.rfc4514_string()
        reg.certificate_issuer = cert.issuer.rfc4514_string()
        reg.certificate_not_after = cert.not_valid_after_utc
    reg.document.save(f"01-DK-GD-{reg.reference}-signed.xml", ContentFile(signed), save=False)
    reg.verification = report.as_dict()
    return _submit(reg, actor)


def send_code(reg: Registration) -> None:
    """E-mail a one-time code proving the address (the path without a digital signature). A
    change or a stop of a unit goes to the unit's registered address, not the new one."""
    from ebhxh.notify.codes import issue_code

    if reg.status != Registration.Status.DRAFT:
        raise _fail("REG-STATE")
    issue_code(code_address(reg), CODE_PURPOSE, subject_ref=reg.reference)
    record_event("registration:code_sent", subject=reg, data={"reference": reg.reference})


def code_address(reg: Registration) -> str:
    if reg.unit is not None and reg.kind in (Registration.Kind.CHANGE, Registration.Kind.STOP):
        return reg.unit.contact_email
    return reg.email


def submit_with_code(reg: Registration, code: str, *, actor: User | None = None) -> Registration:
    """Submit a draft with the one-time code from the e-mail. The code is checked before the
    transaction, so that a wrong attempt stays counted whatever happens after it."""
    from ebhxh.notify.codes import check_code

    if reg.status != Registration.Status.DRAFT:
        raise _fail("REG-STATE")
    if not check_code(code_address(reg), CODE_PURPOSE, code.strip(), subject_ref=reg.reference):
        record_event(
            "registration:code_refused", actor=actor, subject=reg, data={"reference": reg.reference}
        )
        raise _fail("REG-CODE-INVALID", "code")
    with transaction.atomic():
        reg = _lock_draft(reg)
        reg.email_verified_at = timezone.now()
        return _submit(reg, actor)


def _submit(reg: Registration, actor: User | None) -> Registration:
    from ebhxh.notify.mail import send

    reg.status = Registration.Status.SUBMITTED
    reg.submitted_at = timezone.now()
    if actor is not None:
        reg.submitted_by = actor
    try:
        with transaction.atomic():
            reg.save()
    except IntegrityError as exc:  # another change of the same version got in first
        raise _fail("REG-OPEN-CHANGE") from exc
    record_event("registration:submit", actor=actor, subject=reg, after=_values(reg))
    send(
        "registration_received",
        [reg.email],
        {"reg": reg, "kind": reg.get_kind_display()},
        purpose="registration_received",
        unit=reg.unit,
    )
    return reg


# --------------------------------------------------------------------------- the agency's side


@dataclass(frozen=True)
class Check:
    ok: bool
    label: str
    detail: str = ""


def checks(reg: Registration) -> list[Check]:
    """What the desk looks at before deciding (shown on the review page)."""
    out: list[Check] = []
    tax = identifiers.check_tax_code(reg.tax_code)
    out.append(Check(tax.ok, _("Mã số thuế đúng định dạng và số kiểm tra"), _joined(tax)))
    if reg.unit_code:
        code = identifiers.check_unit_code(reg.unit_code)
        out.append(Check(code.ok, _("Mã đơn vị đúng định dạng"), _joined(code)))
    others = Registration.objects.filter(
        tax_code=reg.tax_code, status=Registration.Status.SUBMITTED
    ).exclude(pk=reg.pk)
    out.append(
        Check(
            not others.exists(),
            _("Không có đăng ký khác đang chờ duyệt với cùng mã số thuế"),
            ", ".join(others.values_list("reference", flat=True)),
        )
    )
    existing = Unit.objects.filter(tax_code=reg.tax_code).first()
    if reg.kind in (
        Registration.Kind.FIRST,
        Registration.Kind.EXISTING,
        Registration.Kind.REREGISTRATION,
    ):
        taken = existing is not None and existing.etx_status == Unit.EtxStatus.ACTIVE
        out.append(
            Check(
                not taken,
                _("Mã số thuế chưa thuộc đơn vị đang giao dịch điện tử"),
                str(existing) if existing else "",
            )
        )
        if reg.unit_code:
            holder = Unit.objects.filter(code=reg.unit_code).exclude(tax_code=reg.tax_code).first()
            out.append(
                Check(
                    holder is None,
                    _("Mã đơn vị khớp với mã số thuế trong sổ đăng ký"),
                    str(holder or ""),
                )
            )
    if reg.uses_signature:
        valid = bool(reg.verification.get("valid"))
        out.append(
            Check(
                valid,
                _("Chữ ký số hợp lệ, chứng thư số được tin cậy"),
                reg.certificate_subject,
            )
        )
    else:
        out.append(
            Check(reg.email_verified_at is not None, _("Email đã được xác nhận bằng mã một lần"))
        )
    email_taken = User.objects.filter(email__iexact=reg.email)
    if reg.unit_id:
        email_taken = email_taken.exclude(unit_id=reg.unit_id, is_unit_account=True)
    out.append(Check(not email_taken.exists(), _("Email chưa thuộc tài khoản khác")))
    if reg.kind == Registration.Kind.FIRST:
        out.append(Check(bool(reg.attachment), _("Có giấy chứng nhận đăng ký doanh nghiệp")))
    if reg.legacy_account_id:
        out.append(
            Check(
                True,
                _("Đơn vị đã giao dịch qua TS24"),
                reg.legacy_account.username if reg.legacy_account else "",
            )
        )
    return out


def _joined(result: Any) -> str:
    return " ".join(f.message_vi for f in result.findings)


def queue(agency: Agency) -> QuerySet[Registration]:
    return Registration.objects.filter(
        managing_agency=agency, status=Registration.Status.SUBMITTED
    ).order_by("submitted_at")


def suggest_unit_code(prefix: str = "DN") -> str:
    """The next free code of the form <prefix>NNNNA ([I]: the agency's own software issues unit
    codes; the desk may type another)."""
    taken = set(Unit.objects.filter(code__startswith=prefix).values_list("code", flat=True))
    for n in range(1, 10000):
        code = f"{prefix}{n:04d}A"
        if code not in taken:
            return code
    raise _fail("REG-UNIT-CODE")


def _lock_submitted(reg: Registration, officer: User) -> Registration:
    reg = (
        Registration.objects.select_for_update(of=("self",))  # unit is nullable: an outer join
        .select_related("managing_agency", "unit")
        .get(pk=reg.pk)
    )
    if reg.status != Registration.Status.SUBMITTED:
        raise _fail("REG-STATE")
    if officer.agency_id != reg.managing_agency_id:
        raise _fail("REG-AGENCY")
    return reg


def _transaction_code(reg: Registration) -> str:
    now = timezone.localtime()
    return f"{reg.managing_agency.code}{now:%y%m%d%H%M%S}{reg.pk % 1000:03d}"


@transaction.atomic
def approve(reg: Registration, officer: User, *, unit_code: str = "") -> Registration:
    """Approve: the unit is created or updated, its account made (the set-password link is
    e-mailed), the certificate registered, and the sealed 01/TB-GD notice issued and e-mailed."""
    from ebhxh.accounts.services import send_set_password_link

    reg = _lock_submitted(reg, officer)
    unit, new_account = _apply(reg, officer, unit_code.strip().upper())
    reg.unit = unit
    reg.unit_code = unit.code or ""
    reg.status = Registration.Status.APPROVED
    reg.decided_at = timezone.now()
    reg.decided_by = officer
    reg.transaction_code = _transaction_code(reg)
    _issue_notice(reg, accepted=True)
    reg.save()
    record_event("registration:approve", actor=officer, subject=reg, after=_values(reg))
    _email_decision(reg)
    if new_account is not None:
        send_set_password_link(new_account, reason="account_created", actor=officer)
    return reg


def _apply(reg: Registration, officer: User, unit_code: str) -> tuple[Unit, User | None]:
    from ebhxh.signatures.trust import register_certificate, withdraw_certificate
    from ebhxh.units.services import create_unit, update_unit

    values = {unit_field: getattr(reg, name) for name, unit_field in _UNIT_FIELDS.items()}
    unit = reg.unit
    if reg.kind in (
        Registration.Kind.FIRST,
        Registration.Kind.EXISTING,
        Registration.Kind.REREGISTRATION,
    ):
        unit = Unit.objects.select_for_update().filter(tax_code=reg.tax_code).first()
        if unit is not None and unit.etx_status == Unit.EtxStatus.ACTIVE:
            raise _fail("REG-TAX-CODE-TAKEN")
        code = unit_code or reg.unit_code or (unit.code if unit else "") or ""
        if reg.kind == Registration.Kind.FIRST and not code:
            code = suggest_unit_code()
        if (
            not identifiers.check_unit_code(code).ok
            or Unit.objects.filter(code=code).exclude(tax_code=reg.tax_code).exists()
        ):
            raise _fail("REG-UNIT-CODE", "unit_code")
        values.update(
            code=code, managing_agency=reg.managing_agency, etx_status=Unit.EtxStatus.ACTIVE
        )
        if unit is None:
            unit = create_unit(actor=officer, tax_code=reg.tax_code, **values)
        else:
            unit = update_unit(unit, actor=officer, **values)
    else:
        assert unit is not None
        if reg.kind == Registration.Kind.STOP:
            if reg.stop_date is None or reg.stop_date <= timezone.localdate():
                unit = update_unit(unit, actor=officer, etx_status=Unit.EtxStatus.STOPPED)
        else:
            changed = {
                k: v for k, v in values.items() if k not in ("name", "unit_type", "wage_region")
            }
            unit = update_unit(unit, actor=officer, **changed)
    if reg.uses_signature and reg.certificate_der and reg.kind != Registration.Kind.STOP:
        active = RegisteredCertificate.objects.filter(
            unit=unit, fingerprint=reg.certificate_fingerprint, status="active"
        )
        if not active.exists():
            register_certificate(unit, bytes(reg.certificate_der), actor=officer)
        previous = reg.previous
        if (
            previous is not None
            and previous.certificate_fingerprint
            and previous.certificate_fingerprint != reg.certificate_fingerprint
        ):
            for old in RegisteredCertificate.objects.filter(
                unit=unit, fingerprint=previous.certificate_fingerprint, status="active"
            ):
                withdraw_certificate(old, actor=officer)
    account = User.objects.filter(unit=unit, is_unit_account=True).first()
    if account is None:
        from ebhxh.accounts.services import create_user

        if User.objects.filter(email__iexact=reg.email).exists():
            raise _fail("REG-EMAIL-TAKEN", "email")
        account = create_user(
            password=None,
            username=unit.code or unit.tax_code,
            kind=User.Kind.UNIT,
            unit=unit,
            is_unit_account=True,
            email=reg.email,
            full_name=unit.name,
            roles=[Role.UNIT_ADMIN],
            actor=officer,
        )
        return unit, account
    if account.email.lower() != reg.email.lower():
        if User.objects.filter(email__iexact=reg.email).exclude(pk=account.pk).exists():
            raise _fail("REG-EMAIL-TAKEN", "email")
        account.email = reg.email
        account.save(update_fields=["email"])
        record_event(
            "user:email_change", actor=officer, subject=account, after={"email": reg.email}
        )
    return unit, None


@transaction.atomic
def refuse(reg: Registration, officer: User, *, reason: str) -> Registration:
    reason = reason.strip()
    if not reason:
        raise _fail("REG-REASON-REQUIRED", "reason")
    reg = _lock_submitted(reg, officer)
    reg.status = Registration.Status.REFUSED
    reg.refusal_reason = reason
    reg.decided_at = timezone.now()
    reg.decided_by = officer
    reg.transaction_code = _transaction_code(reg)
    _issue_notice(reg, accepted=False)
    reg.save()
    record_event(
        "registration:refuse", actor=officer, subject=reg, after={**_values(reg), "reason": reason}
    )
    _email_decision(reg)
    return reg


def _issue_notice(reg: Registration, *, accepted: bool) -> None:
    from ebhxh.notices.services import issue_registration_confirmation
    from ebhxh.notices.tbgd import RegistrationConfirmation, Result

    agency = reg.managing_agency
    with translation.override("vi"):  # the notice is a Vietnamese document whoever decides
        transaction_name = str(Registration.Kind(reg.kind).label)
    notice = RegistrationConfirmation(
        place=(agency.province.name if agency.province else agency.name),
        notice_date=timezone.localdate(),
        unit_name=reg.unit_name,
        agency_name=agency.name,
        unit_code=(reg.unit_code or None),
        tax_code=reg.tax_code,
        dossier_number=reg.reference,
        transaction_name=transaction_name,
        dossier_type=form01.FORM_CODE,
        transaction_time=timezone.now(),
        transaction_code=reg.transaction_code,
        result=Result.ACCEPTED if accepted else Result.REFUSED,
        error_code=None if accepted else "REG-REFUSED",
        error_description=None if accepted else reg.refusal_reason,
    )
    issued = issue_registration_confirmation(notice)
    reg.notice_xml.save(f"01-TB-GD-{reg.reference}.xml", ContentFile(issued.xml), save=False)
    reg.notice_pdf.save(f"01-TB-GD-{reg.reference}.pdf", ContentFile(issued.pdf), save=False)


def _email_decision(reg: Registration) -> None:
    from ebhxh.notify.mail import send

    attachments = []
    for field in (reg.notice_pdf, reg.notice_xml):
        with field.open("rb") as f:
            content = f.read()
        name = (field.name or "").rsplit("/", 1)[-1]
        mime = "application/pdf" if name.endswith(".pdf") else "application/xml"
        attachments.append((name, content, mime))
    template = (
        "registration_approved"
        if reg.status == Registration.Status.APPROVED
        else "registration_refused"
    )
    send(
        template,
        [reg.email],
        {"reg": reg},
        attachments=attachments,
        purpose=template,
        unit=reg.unit,
    )


# --------------------------------------------------------------------------- history, reports


def history(unit: Unit) -> QuerySet[Registration]:
    return unit.registrations.exclude(status=Registration.Status.DRAFT).order_by(
        "-version", "-created_at"
    )


def legacy_not_reregistered(agency: Agency | None = None) -> QuerySet[LegacyAccount]:
    """TS24 accounts without an approved re-registration (issue 5 item 5)."""
    done = Registration.objects.filter(
        status=Registration.Status.APPROVED, legacy_account__isnull=False
    ).values("legacy_account")
    accounts = LegacyAccount.objects.exclude(pk__in=done)
    if agency is not None:
        accounts = accounts.filter(agency_code=agency.code)
    return accounts.order_by("agency_code", "unit_code", "tax_code")


# --------------------------------------------------------------------------- the daily task


def warn_expiring_certificates(today: dt.date | None = None) -> int:
    """E-mail units whose registered certificate expires within 30 days (once per certificate)."""
    from ebhxh.notify.mail import send

    now = (
        timezone.now()
        if today is None
        else timezone.make_aware(dt.datetime.combine(today, dt.time(12)))
    )
    soon = now + dt.timedelta(days=EXPIRY_WARNING_DAYS)
    due = RegisteredCertificate.objects.filter(
        status="active", not_after__gt=now, not_after__lte=soon, expiry_warning__isnull=True
    ).select_related("unit")
    sent = 0
    for cert in due:
        with transaction.atomic():
            _, created = CertificateExpiryWarning.objects.get_or_create(certificate=cert)
            if not created:
                continue
            days = max(0, (cert.not_after - now).days)
            send(
                "certificate_expiring",
                [cert.unit.contact_email],
                {"unit": cert.unit, "cert": cert, "days": days},
                purpose="certificate_expiring",
                unit=cert.unit,
            )
            record_event(
                "unit:certificate:expiry_warning",
                subject=cert,
                data={
                    "unit": cert.unit.code,
                    "not_after": cert.not_after.isoformat(),
                    "days": days,
                },
            )
            sent += 1
    return sent


def apply_due_stops(today: dt.date | None = None) -> int:
    """Stops approved for a future date take effect on that date."""
    from ebhxh.units.services import update_unit

    today = today or timezone.localdate()
    stops = Registration.objects.filter(
        kind=Registration.Kind.STOP,
        status=Registration.Status.APPROVED,
        stop_date__lte=today,
        unit__etx_status=Unit.EtxStatus.ACTIVE,
    ).select_related("unit")
    count = 0
    for reg in stops:
        assert reg.unit is not None
        if current_registration(reg.unit) != reg:
            continue  # registered again since
        update_unit(reg.unit, actor=None, etx_status=Unit.EtxStatus.STOPPED)
        count += 1
    return count
