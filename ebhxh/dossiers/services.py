"""Dossier intake (issue 6): acknowledge the exact bytes, check them, reject or accept.

submit()   store the bytes (content-addressed, durable), create the Dossier (SUBMITTED) and its
           first event in one transaction, queue `process` after COMMIT — this is what a 202
           acknowledges; the same bytes or Idempotency-Key again return the same dossier.
process()  verify the envelope's signature and each form's, validate every form with the rules
           package, check attachments by content; then reject technically (coded findings, no
           number) or accept: number NNNNN/YYYY/AAAAA, appointment date in working days, the
           agency-sealed receipt 02/TB-TS — all in one transaction, so a crash leaves the
           dossier SUBMITTED and `resume()` (every minute) queues it again.
check()    the same checks without storing anything: test mode, and the web page's preview.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from ebhxh.accounts.models import ApiToken, User
from ebhxh.audit.services import record_event
from ebhxh.catalog.models import Procedure
from ebhxh.declarations.envelope import Envelope, decode_envelope
from ebhxh.declarations.findings import DeclarationError
from ebhxh.declarations.validator import validate_bytes
from ebhxh.dossiers import blobs
from ebhxh.dossiers.models import Dossier, DossierCounter, DossierEvent, Status
from ebhxh.lib.workdays import add_working_days
from ebhxh.processing.models import Case, Result
from ebhxh.processing.services import (
    ProcessingError,
    attach_supplement,
    on_withdrawn,
    start_case,
)
from ebhxh.signatures.services import verify_document
from ebhxh.units.models import Unit

logger = logging.getLogger("ebhxh.dossiers")

ENVELOPE_SIGNATURE = "Hoso/CKy_Dvi"


class IntakeError(Exception):
    """A submission refused before anything is stored: stable code, Vietnamese and English, and
    the HTTP status the API answers with."""

    def __init__(self, code: str, *, status: int = 422, detail: str = "") -> None:
        vi, en = error_codes()[code]
        super().__init__(f"{code}: {en}")
        self.code = code
        self.message_vi = vi
        self.message_en = en
        self.status = status
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message_vi": self.message_vi, "message_en": self.message_en}


def error_codes() -> dict[str, tuple[str, str]]:
    """Codes of refusals and of the intake's own findings (docs/intake.md), Vietnamese + English."""
    return {
        "DOS-EMPTY": (_("Tệp hồ sơ rỗng."), "The dossier file is empty."),
        "DOS-TOO-LARGE": (
            _("Tệp hồ sơ vượt quá dung lượng cho phép."),
            "The dossier file is larger than allowed.",
        ),
        "DOS-UNIT-NOT-ACTIVE": (
            _("Đơn vị chưa đăng ký hoặc đã ngừng giao dịch điện tử."),
            "The unit is not registered for e-transactions, or has stopped.",
        ),
        "DOS-DUPLICATE": (
            _("Tệp hồ sơ này đã được gửi."),
            "This dossier file has already been submitted.",
        ),
        "DOS-IDEMPOTENCY-CONFLICT": (
            _("Idempotency-Key này đã dùng cho một tệp hồ sơ khác."),
            "This Idempotency-Key was used for a different dossier file.",
        ),
        "DOS-NOT-FOUND": (_("Không tìm thấy hồ sơ."), "Dossier not found."),
        "DOS-STATE": (
            _("Hồ sơ không ở trạng thái cho phép thao tác này."),
            "The dossier is not in a state that allows this.",
        ),
        "DOS-NOT-ENVELOPE": (
            _("Tệp gửi không phải hồ sơ BHXHDienTu.xml đọc được."),
            "The file is not a readable BHXHDienTu.xml dossier.",
        ),
        "DOS-UNIT-MISMATCH": (
            _("Mã đơn vị trong hồ sơ không phải của đơn vị gửi."),
            "The unit code in the dossier is not the submitting unit's.",
        ),
        "DOS-AGENCY-MISMATCH": (
            _("Cơ quan BHXH trong hồ sơ không phải cơ quan quản lý đơn vị."),
            "The agency in the dossier is not the unit's managing agency.",
        ),
        "DOS-PROCEDURE-UNKNOWN": (
            _("Mã thủ tục không có trong danh mục hoặc chưa có hiệu lực."),
            "The procedure code is not in the catalogue or not in force.",
        ),
        "DOS-NO-FILES": (_("Hồ sơ không có tệp tờ khai nào."), "The dossier holds no files."),
        "DOS-NOT-AUTHORISED": (
            _("I-VAN không được đơn vị này chọn để nộp hồ sơ thay."),
            "This I-VAN is not the one the unit chose to file for it.",
        ),
        "DOS-UNSIGNED": (
            _("Hồ sơ phải có chữ ký số của đơn vị."),
            "The dossier must carry the unit's digital signature.",
        ),
    }


def _finding(
    code: str, *, form: str | None = None, xpath: str | None = None, detail: str = ""
) -> dict[str, Any]:
    vi, en = error_codes()[code]
    return _as_finding(code, vi, en, form=form, xpath=xpath, detail=detail)


def _as_finding(
    code: str,
    vi: str,
    en: str,
    *,
    severity: str = "error",
    form: str | None = None,
    xpath: str | None = None,
    detail: str = "",
) -> dict[str, Any]:
    location = {"form": form, "row": None, "field": None, "xpath": xpath, "sheet": None}
    out: dict[str, Any] = {
        "code": code,
        "severity": severity,
        "message_vi": vi,
        "message_en": en,
        "location": location,
    }
    if detail:
        out["detail"] = detail
    return out


# --- the checks -------------------------------------------------------------------------------


@dataclass
class Checked:
    """What the intake checks found in one envelope."""

    findings: list[dict[str, Any]] = field(default_factory=list)
    verification: dict[str, Any] = field(default_factory=dict)
    envelope: Envelope | None = None
    procedure: Procedure | None = None
    forms: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f["severity"] == "error")

    @property
    def ok(self) -> bool:
        return self.errors == 0


def check(
    data: bytes,
    *,
    unit: Unit,
    at: dt.datetime | None = None,
    signature_required: bool = True,
) -> Checked:
    """Every intake check of one envelope for `unit`, storing nothing. Never raises on bad input.

    `signature_required=False` lets an unsigned envelope through for a procedure the catalogue
    allows without a signature (the web channel, after an e-mail code); a present signature is
    still verified.
    """
    at = at or timezone.now()
    out = Checked()
    try:
        envelope, _found = decode_envelope(data, max_bytes=settings.DOSSIER_MAX_BYTES)
    except DeclarationError as exc:
        f = exc.finding
        out.findings.append(
            _as_finding(
                f.code, f.message_vi, f.message_en, form=f.location.form, xpath=f.location.xpath
            )
        )
        out.findings.append(_finding("DOS-NOT-ENVELOPE"))
        return out
    out.envelope = envelope
    out.forms = [
        {
            "code": f.form_code or "",
            "name": f.file_name or "",
            "type": (f.file_type or "").lower(),
            "description": f.description or "",
            "size": len(f.content) if f.content is not None else None,
            "sha256": hashlib.sha256(f.content).hexdigest() if f.content is not None else None,
        }
        for f in envelope.files
    ]
    _check_identity(envelope, unit, out)
    on = timezone.localdate(at)
    out.procedure = (
        Procedure.objects.in_force(on).filter(code=envelope.procedure_code).first()
        if envelope.procedure_code
        else None
    )
    if envelope.procedure_code and out.procedure is None:
        out.findings.append(
            _finding(
                "DOS-PROCEDURE-UNKNOWN",
                form="BHXHDienTu",
                xpath="/Hoso/NoiDung/ThongTinHoSo/MaThuTuc",
                detail=envelope.procedure_code,
            )
        )
    if not envelope.files:
        out.findings.append(_finding("DOS-NO-FILES", form="BHXHDienTu"))
    required = signature_required or (
        out.procedure is not None and out.procedure.signature_required
    )
    _check_signatures(data, envelope, unit, at, required, out)
    _check_attachments(envelope, out)
    report = validate_bytes(
        data,
        filename="BHXHDienTu.xml",
        region=unit.wage_region,
        max_bytes=settings.DOSSIER_MAX_BYTES,
    )
    out.findings.extend(f.as_dict() for f in report.findings)
    return out


def _check_identity(envelope: Envelope, unit: Unit, out: Checked) -> None:
    declared = envelope.unit
    if declared.code and declared.code != unit.code:
        out.findings.append(
            _finding(
                "DOS-UNIT-MISMATCH",
                form="BHXHDienTu",
                xpath="/Hoso/NoiDung/ThongTinDonVi/MaSoBHXH",
                detail=f"{declared.code} != {unit.code}",
            )
        )
    agency = unit.managing_agency.code
    if declared.agency_code and declared.agency_code != agency:
        out.findings.append(
            _finding(
                "DOS-AGENCY-MISMATCH",
                form="BHXHDienTu",
                xpath="/Hoso/NoiDung/ThongTinDonVi/CoQuanQuanLy",
                detail=f"{declared.agency_code} != {agency}",
            )
        )


def _signature_finding(report: Any, *, form: str, xpath: str) -> dict[str, Any]:
    return _as_finding(
        report.code or "SIG-INVALID",
        report.message_vi,
        report.message_en,
        form=form,
        xpath=xpath,
        detail=report.detail,
    )


def _check_signatures(
    data: bytes, envelope: Envelope, unit: Unit, at: dt.datetime, required: bool, out: Checked
) -> None:
    """The unit's signature over the envelope and over each form XML inside it, each with a
    certificate registered to the unit and valid at the moment of receipt."""
    reports: dict[str, Any] = {}
    report, _verified = verify_document(data, container=ENVELOPE_SIGNATURE, unit=unit, at=at)
    reports["BHXHDienTu.xml"] = report.as_dict()
    unsigned = report.code == "SIG-MISSING"
    if unsigned and required:
        out.findings.append(_finding("DOS-UNSIGNED", form="BHXHDienTu", xpath="/Hoso/CKy_Dvi"))
    elif not report.valid and not unsigned:
        out.findings.append(_signature_finding(report, form="BHXHDienTu", xpath="/Hoso/CKy_Dvi"))
    for file in envelope.files:
        if file.content is None or (file.file_type or ".xml").lower() != ".xml":
            continue
        code = file.form_code or ""
        form_report, _ = verify_document(file.content, container=f"{code}/Cky", unit=unit, at=at)
        reports[file.file_name or code] = form_report.as_dict()
        if form_report.code == "SIG-MISSING" and not required:
            continue
        if not form_report.valid:
            out.findings.append(_signature_finding(form_report, form=code, xpath=f"/{code}/Cky"))
    out.verification = {"documents": reports, "signature_required": required}


def _check_attachments(envelope: Envelope, out: Checked) -> None:
    """Files that are not form XML: type by content, size (ebhxh.dossiers.content)."""
    try:
        from ebhxh.dossiers.content import check_attachment
    except ImportError:  # pragma: no cover - content checks not installed
        return
    limit = settings.DOSSIER_FILE_MAX_BYTES
    for file in envelope.files:
        if file.content is None:
            continue
        declared = (file.file_type or "").lower()
        if declared in ("", ".xml") and (file.form_code or "") != "CT-DK":
            continue  # a form: read, schema-checked and signature-checked above
        for problem in check_attachment(
            file.file_name or "", declared or None, file.content, max_bytes=limit
        ):
            out.findings.append(
                _as_finding(
                    problem.code,
                    problem.message_vi,
                    problem.message_en,
                    form=file.form_code or "CT-DK",
                    detail=file.file_name or "",
                )
            )


# --- submit -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acknowledgement:
    dossier: Dossier
    replayed: bool


def _existing(unit: Unit, sha: str, key: str | None) -> Dossier | None:
    if key:
        earlier = Dossier.objects.filter(unit=unit, idempotency_key=key).first()
        if earlier is not None:
            if earlier.sha256 != sha:
                raise IntakeError("DOS-IDEMPOTENCY-CONFLICT", status=422)
            return earlier
    earlier = Dossier.objects.filter(sha256=sha).first()
    if earlier is not None and earlier.unit_id != unit.pk:
        raise IntakeError("DOS-DUPLICATE", status=409)  # says nothing about the other unit
    return earlier


def _precheck(data: bytes, unit: Unit) -> None:
    if not data:
        raise IntakeError("DOS-EMPTY", status=400)
    if len(data) > settings.DOSSIER_MAX_BYTES:
        raise IntakeError("DOS-TOO-LARGE", status=413)
    if unit.etx_status != Unit.EtxStatus.ACTIVE:
        raise IntakeError("DOS-UNIT-NOT-ACTIVE", status=403)


def submit(
    data: bytes,
    *,
    unit: Unit,
    channel: str,
    user: User | None = None,
    api_token: ApiToken | None = None,
    idempotency_key: str | None = None,
    supplement_to: Dossier | None = None,
    code_confirmed: bool = False,
) -> Acknowledgement:
    """Acknowledge a dossier: after this returns, the bytes are on disk (or S3) and the dossier
    row is committed; processing is queued after COMMIT. Replays return the original dossier.

    `code_confirmed`: the web channel confirmed this submission with a one-time e-mail code
    instead of a signature (ebhxh.dossiers.drafts.submit_with_code); `process` then accepts it
    unsigned when the procedure does not require a signature (check(signature_required=False)).
    """
    _precheck(data, unit)
    key = (idempotency_key or "").strip()[:200] or None
    sha = hashlib.sha256(data).hexdigest()
    earlier = _existing(unit, sha, key)
    if earlier is not None:
        return Acknowledgement(earlier, replayed=True)
    name, _sha = blobs.put("received", data, ".xml")
    _crash_point("submit:stored", sha)
    now = timezone.now()
    try:
        with transaction.atomic():
            dossier = Dossier.objects.create(
                channel=channel,
                unit=unit,
                agency_id=unit.managing_agency_id,
                submitted_by=user,
                api_token=api_token,
                sha256=sha,
                size=len(data),
                blob=name,
                idempotency_key=key,
                supplement_to=supplement_to,
                submitted_at=now,
                verification={"code_confirmed": True} if code_confirmed else {},
            )
            DossierEvent.objects.create(
                dossier=dossier, status=Status.SUBMITTED, at=now, actor=user
            )
            record_event(
                "dossier:submit",
                actor=user,
                subject=dossier,
                data={"sha256": sha, "size": len(data), "channel": channel},
            )
            transaction.on_commit(lambda: _queue(dossier.pk))
    except IntegrityError:
        # A concurrent submit of the same bytes or key won the race: answer with its dossier.
        earlier = _existing(unit, sha, key)
        if earlier is None:
            raise
        return Acknowledgement(earlier, replayed=True)
    return Acknowledgement(dossier, replayed=False)


def _queue(dossier_id: int) -> None:
    from ebhxh.dossiers.tasks import process_dossier

    _crash_point("submit:committed", dossier_id)
    try:
        process_dossier.delay(dossier_id)
    except Exception:  # broker down: the dossier stays SUBMITTED and resume() queues it again
        logger.exception("could not queue dossier %s; resume() will", dossier_id)


def _crash_point(step: str, key: object) -> None:
    """Test-only fault injection (tests/integration/test_intake_crash.py): when EBHXH_FAULT lists
    `step`, the process kills itself with SIGKILL the first time it gets here for `key` (a marker
    file in EBHXH_FAULT_DIR remembers). EBHXH_FAULT is never set outside that test."""
    steps = os.environ.get("EBHXH_FAULT")
    if not steps or step not in steps.split(","):
        return
    marker = Path(os.environ["EBHXH_FAULT_DIR"]) / f"{step.replace(':', '-')}-{key}"
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    os.kill(os.getpid(), signal.SIGKILL)


def _envelope_header(data: bytes) -> tuple[str, str]:
    """(MaSoBHXH, MaIVAN) from the head of an envelope, reading no further than needed."""
    import io

    from lxml import etree

    unit_code = ivan_code = ""
    try:
        for _event, node in etree.iterparse(
            io.BytesIO(data),
            events=("end",),
            tag=("MaSoBHXH", "MaIVAN", "ToKhais"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=True,
        ):
            if node.tag == "ToKhais":
                break
            if node.tag == "MaSoBHXH" and node.getparent().tag == "ThongTinDonVi":
                unit_code = (node.text or "").strip()
            elif node.tag == "MaIVAN":
                ivan_code = (node.text or "").strip()
            if unit_code and ivan_code:
                break
    except etree.LxmlError:
        raise IntakeError("DOS-NOT-ENVELOPE", status=422) from None
    if b"<!DOCTYPE" in data[:4096]:
        raise IntakeError("DOS-NOT-ENVELOPE", status=422)
    return unit_code, ivan_code


def filed_for(data: bytes, token: ApiToken) -> Unit:
    """The unit a token files this envelope for: the token's unit, or — for an I-VAN's token —
    the unit named in the envelope, if that unit chose this I-VAN in its registration and the
    envelope names this I-VAN (ThongTinIVAN/MaIVAN). Another unit: DOS-NOT-AUTHORISED, which does
    not say whether the unit exists."""
    if token.unit is not None:
        return token.unit
    if not data:
        raise IntakeError("DOS-EMPTY", status=400)
    unit_code, ivan_code = _envelope_header(data)
    assert token.ivan is not None
    unit = (
        Unit.objects.select_related("managing_agency")
        .filter(code=unit_code, ivan=token.ivan)
        .first()
        if unit_code
        else None
    )
    if unit is None or ivan_code != token.ivan.code:
        raise IntakeError("DOS-NOT-AUTHORISED", status=403)
    return unit


# --- process ----------------------------------------------------------------------------------


def process(dossier_id: int) -> str:
    """Check a SUBMITTED dossier and reject or accept it. Idempotent: a dossier already decided
    is left as it is; a crash before COMMIT leaves it SUBMITTED for the next attempt."""
    dossier = Dossier.objects.select_related("unit", "agency", "unit__managing_agency").get(
        pk=dossier_id
    )
    if dossier.status != Status.SUBMITTED:
        return dossier.status
    Dossier.objects.filter(pk=dossier.pk).update(attempts=dossier.attempts + 1)
    data = blobs.get_verified(dossier.blob, dossier.sha256)
    # Set by submit(code_confirmed=True) only: a web submission confirmed by an e-mail code.
    confirmed = bool(dossier.verification.get("code_confirmed"))
    checked = check(
        data, unit=dossier.unit, at=dossier.submitted_at, signature_required=not confirmed
    )
    if confirmed:
        checked.verification["code_confirmed"] = True
    if checked.ok and checked.procedure is not None:
        outcome = _accept(dossier, checked)
        _crash_point("accept:committed", dossier.pk)
        return outcome
    return _reject(dossier, checked)


def _locked_submitted(dossier: Dossier) -> Dossier | None:
    locked = Dossier.objects.select_for_update().filter(pk=dossier.pk).first()
    if locked is None or locked.status != Status.SUBMITTED:
        return None
    return locked


def _record_checks(dossier: Dossier, checked: Checked, now: dt.datetime) -> None:
    envelope = checked.envelope
    dossier.findings = checked.findings
    dossier.verification = checked.verification
    dossier.forms = checked.forms
    dossier.processed_at = now
    if envelope is not None:
        dossier.procedure_code = (envelope.procedure_code or "")[:10]
        dossier.procedure_name = (
            checked.procedure.name if checked.procedure else envelope.procedure_name or ""
        )[:400]
        dossier.period = str(envelope.period) if envelope.period else ""


def _reject(dossier: Dossier, checked: Checked) -> str:
    now = timezone.now()
    with transaction.atomic():
        locked = _locked_submitted(dossier)
        if locked is None:
            return Dossier.objects.get(pk=dossier.pk).status
        _record_checks(locked, checked, now)
        locked.status = Status.REJECTED
        locked.save()
        codes = sorted({f["code"] for f in checked.findings if f["severity"] == "error"})
        DossierEvent.objects.create(
            dossier=locked, status=Status.REJECTED, at=now, note=", ".join(codes)[:500]
        )
        record_event("dossier:reject", subject=locked, data={"codes": codes})
        _notify(locked)
    return Status.REJECTED


def _open_case(dossier: Dossier) -> None:
    """The agency's case of an accepted dossier (ebhxh.processing): a supplement answers the open
    supplement request of the dossier it names; anything else (or a supplement that cannot be
    attached: none requested, another unit's) opens its own case at the one-stop desk."""
    if dossier.supplement_to_id is not None:
        original = Case.objects.filter(dossier_id=dossier.supplement_to_id).first()
        if original is not None:
            try:
                with transaction.atomic():
                    attach_supplement(original, dossier, actor=dossier.submitted_by)
                return
            except ProcessingError as exc:
                logger.info("supplement %s not attached: %s", dossier.pk, exc)
    start_case(dossier)


def next_number(agency_id: int, agency_code: str, year: int) -> str:
    """The next dossier number of an agency in a year, NNNNN/YYYY/AAAAA. Call inside the accepting
    transaction: the counter row stays locked until COMMIT, so concurrent acceptances queue here
    and a rolled-back one gives its number back."""
    DossierCounter.objects.get_or_create(agency_id=agency_id, year=year)
    counter = DossierCounter.objects.select_for_update().get(agency_id=agency_id, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{counter.last:05d}/{year}/{agency_code}"


def _accept(dossier: Dossier, checked: Checked) -> str:
    assert checked.procedure is not None
    now = timezone.now()
    received = timezone.localtime(dossier.submitted_at)
    appointment = add_working_days(received.date(), checked.procedure.time_limit_days)
    with transaction.atomic():
        locked = _locked_submitted(dossier)
        if locked is None:
            return Dossier.objects.get(pk=dossier.pk).status
        _record_checks(locked, checked, now)
        locked.number = next_number(locked.agency_id, dossier.agency.code, received.year)
        locked.received_at = dossier.submitted_at
        locked.appointment_date = appointment
        locked.status = Status.RECEIVED
        sealed = issue_receipt(locked, checked)
        locked.receipt_blob, _sha = blobs.put("receipts", sealed, ".xml")
        locked.save()
        DossierEvent.objects.create(
            dossier=locked, status=Status.RECEIVED, at=now, note=locked.number or ""
        )
        _open_case(locked)
        record_event(
            "dossier:receive",
            subject=locked,
            data={"number": locked.number, "appointment_date": appointment.isoformat()},
        )
        _notify(locked)
        _crash_point("accept:before-commit", locked.pk)
    return Status.RECEIVED


# --- receipt ------------------------------------------------------------------------------------


def receipt_of(dossier: Dossier, checked: Checked, *, specimen: bool = False) -> Any:
    """The 02/TB-TS receipt of a dossier (ebhxh.notices.tbts.Receipt)."""
    from ebhxh.notices.tbts import Receipt, ReceiptItem

    unit = dossier.unit
    agency = dossier.agency
    envelope = checked.envelope
    procedure = checked.procedure
    return Receipt(
        agency_code=agency.code,
        agency_name=agency.name,
        unit_name=unit.name,
        unit_code=unit.code or "",
        unit_phone=unit.contact_phone,
        unit_email=unit.contact_email,
        dossier_number=None if specimen else dossier.number,
        procedure_code=procedure.code if procedure else (dossier.procedure_code or ""),
        procedure_name=procedure.name if procedure else (dossier.procedure_name or ""),
        period=str(envelope.period) if envelope and envelope.period else None,
        received_at=dossier.submitted_at,
        appointment_date=dossier.appointment_date,
        tracking_id=str(dossier.tracking_id),
        envelope_sha256=dossier.sha256,
        channel=dossier.channel,
        forms=tuple(
            ReceiptItem(
                code=f["code"], description=f["description"], file_name=f["name"], quantity=1
            )
            for f in checked.forms
        ),
        specimen=specimen,
    )


def issue_receipt(dossier: Dossier, checked: Checked, *, specimen: bool = False) -> bytes:
    from ebhxh.notices.services import issue_receipt as seal_receipt

    with override("vi"):
        return seal_receipt(receipt_of(dossier, checked, specimen=specimen))


def receipt_xml(dossier: Dossier) -> bytes:
    if not dossier.receipt_blob:
        raise IntakeError("DOS-STATE", status=409)
    return blobs.get(dossier.receipt_blob)


def receipt_pdf(dossier: Dossier) -> bytes:
    """The PDF rendition of the sealed receipt, rendered on first request and kept (WeasyPrint
    takes about half a second a page: never on the intake path)."""
    from ebhxh.notices.services import receipt_pdf as render

    if dossier.receipt_pdf_blob:
        return blobs.get(dossier.receipt_pdf_blob)
    pdf = render(receipt_xml(dossier))
    name, _sha = blobs.put("receipts", pdf, ".pdf")
    Dossier.objects.filter(pk=dossier.pk, receipt_pdf_blob="").update(receipt_pdf_blob=name)
    dossier.receipt_pdf_blob = name
    return pdf


# --- result ------------------------------------------------------------------------------------


def returned_result(dossier: Dossier) -> Result:
    """The result of a dossier whose result the agency has returned (issue 7: the unit sees the
    03/TB-TS and the result documents only then); DOS-STATE (409) before."""
    result = (
        Result.objects.filter(case__dossier_id=dossier.pk).first()
        if dossier.status == Status.RETURNED
        else None
    )
    if result is None:
        raise IntakeError("DOS-STATE", status=409)
    return result


def result_xml(dossier: Dossier) -> bytes:
    """The sealed 03/TB-TS of a returned result, byte for byte as issued."""
    result = returned_result(dossier)
    return blobs.get_verified(result.notice_blob, result.notice_sha256)


def result_pdf(dossier: Dossier) -> bytes:
    """The PDF rendition of the returned 03/TB-TS, rendered on first request and kept (as
    `receipt_pdf`)."""
    from ebhxh.notices.services import result_pdf as render

    result = returned_result(dossier)
    if result.notice_pdf_blob:
        return blobs.get(result.notice_pdf_blob)
    pdf = render(blobs.get_verified(result.notice_blob, result.notice_sha256))
    name, _sha = blobs.put("results", pdf, ".pdf")
    Result.objects.filter(pk=result.pk, notice_pdf_blob="").update(notice_pdf_blob=name)
    return pdf


def result_document(dossier: Dossier, name: str) -> tuple[bytes, str]:
    """A result document of a returned result: its bytes (checked against the SHA-256 the
    notice binds) and media type; DOS-NOT-FOUND (404) for a name the result does not list."""
    result = returned_result(dossier)
    for document in result.documents:
        if document["name"] == name:
            return blobs.get_verified(document["blob"], document["sha256"]), document["media_type"]
    raise IntakeError("DOS-NOT-FOUND", status=404)


# --- test mode ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestOutcome:
    accepted: bool
    findings: list[dict[str, Any]]
    verification: dict[str, Any]
    receipt: bytes | None  # a sealed specimen 02/TB-TS, without a number


def test_submission(data: bytes, *, unit: Unit, channel: str) -> TestOutcome:
    """Every check of a real submission; a specimen receipt when it would be accepted. Nothing is
    stored: no blob, no dossier, no counter, no audit event."""
    _precheck(data, unit)
    now = timezone.now()
    checked = check(data, unit=unit, at=now)
    receipt = None
    if checked.ok and checked.procedure is not None:
        specimen = Dossier(
            channel=channel,
            unit=unit,
            agency=unit.managing_agency,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            submitted_at=now,
            appointment_date=add_working_days(
                timezone.localdate(now), checked.procedure.time_limit_days
            ),
        )
        receipt = issue_receipt(specimen, checked, specimen=True)
    return TestOutcome(
        accepted=checked.ok and checked.procedure is not None,
        findings=checked.findings,
        verification=checked.verification,
        receipt=receipt,
    )


# --- withdraw, resume ---------------------------------------------------------------------------

WITHDRAWABLE = (Status.SUBMITTED, Status.RECEIVED)


def withdraw(dossier: Dossier, *, user: User | None, reason: str = "") -> Dossier:
    """The unit takes a dossier back before the agency starts processing it."""
    with transaction.atomic():
        locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
        if locked.status not in WITHDRAWABLE:
            raise IntakeError("DOS-STATE", status=409)
        before = locked.status
        locked.status = Status.WITHDRAWN
        locked.save(update_fields=["status"])
        on_withdrawn(locked, actor=user)  # the case leaves the desk queue
        now = timezone.now()
        DossierEvent.objects.create(
            dossier=locked, status=Status.WITHDRAWN, at=now, actor=user, note=reason[:500]
        )
        record_event(
            "dossier:withdraw",
            actor=user,
            subject=locked,
            before={"status": before},
            after={"status": Status.WITHDRAWN},
            data={"reason": reason[:500]},
        )
        _notify(locked)
    return locked


def resume(older_than: dt.timedelta | None = None) -> int:
    """Queue again every dossier still SUBMITTED after `older_than` (its task was lost: the
    process crashed after COMMIT and before queueing, or the broker dropped it)."""
    age = (  # not `or`: timedelta(0) (`resume_intake --older-than 0`) is falsy
        older_than
        if older_than is not None
        else dt.timedelta(seconds=settings.DOSSIER_RESUME_AFTER_SECONDS)
    )
    ids = list(
        Dossier.objects.filter(
            status=Status.SUBMITTED, submitted_at__lt=timezone.now() - age
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in ids:
        _queue(pk)
    return len(ids)


# --- notifications ------------------------------------------------------------------------------


def recipients(dossier: Dossier) -> list[str]:
    out = [dossier.unit.contact_email]
    if dossier.submitted_by is not None and dossier.submitted_by.email:
        out.append(dossier.submitted_by.email)
    return sorted({a.lower() for a in out if a})


def _notify(dossier: Dossier) -> None:
    """E-mail the unit about a change of status (queued; sent after COMMIT)."""
    from ebhxh.notify.mail import send

    to = recipients(dossier)
    if not to:
        return
    errors = [f for f in dossier.findings if f.get("severity") == "error"][:20]
    send(
        "dossier_status",
        to,
        {
            "dossier": dossier,
            "status": Status(dossier.status).label,
            "errors": errors,
            "portal_url": f"{settings.SITE_URL}/don-vi/ho-so/{dossier.tracking_id}/",
        },
        purpose=f"dossier:{dossier.status}",
        unit=dossier.unit,
    )


def findings_summary(findings: Sequence[dict[str, Any]]) -> dict[str, int]:
    errors = sum(1 for f in findings if f.get("severity") == "error")
    return {"errors": errors, "warnings": len(findings) - errors}


# --- evidence -------------------------------------------------------------------------------------

EVIDENCE_SEAL_CONTAINER = "CKy_CQBHXH"


def evidence_bundle(dossier: Dossier) -> bytes:
    """The evidence bundle of a decided dossier (docs/evidence.md): the exact bytes received, the
    sealed receipt, the verification report and findings, and a manifest of their SHA-256 sealed
    by the agency; `ebhxh verify_evidence` checks it offline."""
    import json

    from ebhxh.dossiers.evidence import (
        RECEIPT_NAME,
        RECEIVED_NAME,
        REPORT_NAME,
        RESULT_NAME,
        build_bundle,
        seal_path,
    )
    from ebhxh.signatures.services import seal

    if dossier.status == Status.SUBMITTED:
        raise IntakeError("DOS-STATE", status=409)
    files = [(RECEIVED_NAME, blobs.get_verified(dossier.blob, dossier.sha256))]
    if dossier.receipt_blob:
        files.append((RECEIPT_NAME, blobs.get(dossier.receipt_blob)))
    if dossier.status == Status.RETURNED:
        result = Result.objects.filter(case__dossier_id=dossier.pk).first()
        if result is not None:
            files.append(
                (RESULT_NAME, blobs.get_verified(result.notice_blob, result.notice_sha256))
            )
    report = {"verification": dossier.verification, "findings": dossier.findings}
    files.append(
        (
            REPORT_NAME,
            json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True).encode(),
        )
    )
    meta = {
        "tracking_id": str(dossier.tracking_id),
        "number": dossier.number or "",
        "status": dossier.status,
        "unit_code": dossier.unit.code or "",
        "unit_tax_code": dossier.unit.tax_code,
        "agency_code": dossier.agency.code,
        "procedure_code": dossier.procedure_code,
        "period": dossier.period,
        "channel": dossier.channel,
        "submitted_at": dossier.submitted_at.isoformat(),
        "received_at": dossier.received_at.isoformat() if dossier.received_at else "",
        "appointment_date": dossier.appointment_date.isoformat()
        if dossier.appointment_date
        else "",
    }
    return build_bundle(
        dossier=meta,
        files=files,
        seal=lambda xml: seal(xml, container=seal_path(EVIDENCE_SEAL_CONTAINER)),
        seal_container=EVIDENCE_SEAL_CONTAINER,
    )
