"""``/api/v1/dossiers``: payroll and I-VAN software submit signed BHXHDienTu.xml envelopes and
follow them (submit → 202 acknowledge → poll), as with the UK's RTI and France's DSN.

    POST /api/v1/dossiers                 body: the signed envelope (application/xml), as is
         headers: Idempotency-Key (optional), X-Ebhxh-Test: 1 (test mode: checks only, keeps nothing)
    GET  /api/v1/dossiers                 the unit's dossiers, newest first
    GET  /api/v1/dossiers/{id}            status, findings, timeline
    GET  /api/v1/dossiers/{id}/receipt.xml | receipt.pdf | evidence.zip
    GET  /api/v1/dossiers/{id}/result.xml | result.pdf | result/{name}   (once the result is returned)
    POST /api/v1/dossiers/{id}/withdraw
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from ninja import Field, Router, Schema
from ninja import Status as Reply

from ebhxh.api.auth import FilerTokenAuth, request_token
from ebhxh.dossiers import services
from ebhxh.dossiers.models import Channel, Dossier, Status
from ebhxh.dossiers.services import IntakeError

router = Router(tags=["dossiers"], auth=FilerTokenAuth())


class ErrorOut(Schema):
    code: str = Field(description="Mã lỗi ổn định / stable error code (docs/intake.md)")
    message_vi: str
    message_en: str


class LocationOut(Schema):
    form: str | None = None
    row: int | None = None
    field: str | None = None
    xpath: str | None = None
    sheet: str | None = None


class FindingOut(Schema):
    code: str
    severity: str = Field(description="error, warning")
    message_vi: str
    message_en: str
    location: LocationOut


class EventOut(Schema):
    status: str
    at: dt.datetime
    note: str


class AcknowledgementOut(Schema):
    tracking_id: uuid.UUID = Field(description="Mã theo dõi / tracking id")
    status: str = Field(description=", ".join(Status.values))
    status_url: str
    poll_after_seconds: int = Field(description="Hỏi lại sau (giây) / poll again after (seconds)")
    replayed: bool = Field(description="Đã gửi trước đó / a replay of an earlier submission")


class ResultDocumentOut(Schema):
    name: str = Field(description="Tên tệp / file name (TEN_TEP)")
    media_type: str
    sha256: str = Field(description="SHA-256, ghi trong thông báo 03/TB-TS / bound by the notice")
    size: int
    url: str


class DossierOut(Schema):
    tracking_id: uuid.UUID
    unit_code: str | None = Field(description="Mã đơn vị / unit code")
    status: str = Field(description=", ".join(Status.values))
    status_label: str
    number: str | None = Field(description="Số hồ sơ NNNNN/YYYY/AAAAA (khi đã tiếp nhận)")
    channel: str
    procedure_code: str
    period: str
    submitted_at: dt.datetime
    received_at: dt.datetime | None
    appointment_date: dt.date | None = Field(description="Ngày hẹn trả kết quả")
    sha256: str = Field(description="SHA-256 của tệp đã nhận / of the bytes received")
    findings: list[FindingOut]
    events: list[EventOut]
    receipt_xml_url: str | None
    receipt_pdf_url: str | None
    evidence_url: str | None
    result_xml_url: str | None = Field(
        description="Thông báo kết quả 03/TB-TS (XML có dấu), khi đã trả kết quả / the sealed "
        "result notice, once the result is returned"
    )
    result_pdf_url: str | None
    result_documents: list[ResultDocumentOut] = Field(
        description="Tài liệu kết quả / result documents, once the result is returned"
    )


class DossierListItem(Schema):
    tracking_id: uuid.UUID
    unit_code: str | None = Field(description="Mã đơn vị / unit code")
    status: str
    number: str | None
    procedure_code: str
    period: str
    submitted_at: dt.datetime


class TestOut(Schema):
    test: bool = True
    accepted: bool = Field(description="Sẽ được tiếp nhận / would be accepted")
    findings: list[FindingOut]
    specimen_receipt_base64: str | None = Field(
        description="Phiếu giao nhận mẫu 02/TB-TS (XML có dấu, không có số hồ sơ), base64"
    )


class WithdrawIn(Schema):
    reason: str = ""


def _error(exc: IntakeError) -> Reply[dict[str, Any]]:
    return Reply(exc.status, exc.as_dict())


def _read_body(request: HttpRequest) -> bytes:
    """The raw body, refusing more than DOSSIER_MAX_BYTES without reading it all (Django's
    request.body would stop at DATA_UPLOAD_MAX_MEMORY_SIZE, far below a 10,000-row dossier)."""
    limit = settings.DOSSIER_MAX_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise IntakeError("DOS-TOO-LARGE", status=413)
    data = request.read(limit + 1)
    if len(data) > limit:
        raise IntakeError("DOS-TOO-LARGE", status=413)
    return data


def _url(name: str, dossier: Dossier) -> str:
    return reverse(f"api:{name}", kwargs={"tracking_id": dossier.tracking_id})


def dossier_out(dossier: Dossier) -> dict[str, Any]:
    has_receipt = bool(dossier.receipt_blob)
    try:
        result = services.returned_result(dossier)
    except IntakeError:
        result = None
    documents = [
        {
            "name": d["name"],
            "media_type": d["media_type"],
            "sha256": d["sha256"],
            "size": d["size"],
            "url": reverse(
                "api:dossier_result_document",
                kwargs={"tracking_id": dossier.tracking_id, "name": d["name"]},
            ),
        }
        for d in (result.documents if result is not None else [])
    ]
    return {
        "tracking_id": dossier.tracking_id,
        "unit_code": dossier.unit.code,
        "status": dossier.status,
        "status_label": str(Status(dossier.status).label),
        "number": dossier.number,
        "channel": dossier.channel,
        "procedure_code": dossier.procedure_code,
        "period": dossier.period,
        "submitted_at": dossier.submitted_at,
        "received_at": dossier.received_at,
        "appointment_date": dossier.appointment_date,
        "sha256": dossier.sha256,
        "findings": dossier.findings,
        "events": [{"status": e.status, "at": e.at, "note": e.note} for e in dossier.events.all()],
        "receipt_xml_url": _url("dossier_receipt_xml", dossier) if has_receipt else None,
        "receipt_pdf_url": _url("dossier_receipt_pdf", dossier) if has_receipt else None,
        "evidence_url": _url("dossier_evidence", dossier)
        if dossier.status != Status.SUBMITTED
        else None,
        "result_xml_url": _url("dossier_result_xml", dossier) if result else None,
        "result_pdf_url": _url("dossier_result_pdf", dossier) if result else None,
        "result_documents": documents,
    }


@router.post(
    "",
    response={
        200: TestOut,
        202: AcknowledgementOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        413: ErrorOut,
        422: ErrorOut,
    },
    summary="Nộp hồ sơ / submit a signed dossier",
    description=(
        "Thân yêu cầu là tệp BHXHDienTu.xml đã ký, nguyên văn. Trả 202 với mã theo dõi; gửi lại "
        "cùng tệp hoặc cùng Idempotency-Key trả về hồ sơ ban đầu. Header X-Ebhxh-Test: 1 chạy mọi "
        "kiểm tra mà không lưu gì (200). / The body is the signed BHXHDienTu.xml as is. Answers 202 "
        "with a tracking id; the same bytes or Idempotency-Key again return the original dossier. "
        "X-Ebhxh-Test: 1 runs every check and keeps nothing (200)."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
        },
        "parameters": [
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": False,
                "schema": {"type": "string", "maxLength": 200},
            },
            {
                "in": "header",
                "name": "X-Ebhxh-Supplement-For",
                "required": False,
                "description": "Mã theo dõi của hồ sơ được yêu cầu bổ sung / tracking id of the "
                "dossier this supplement answers",
                "schema": {"type": "string", "format": "uuid"},
            },
            {
                "in": "header",
                "name": "X-Ebhxh-Test",
                "required": False,
                "schema": {"type": "string", "enum": ["1"]},
            },
        ],
    },
)
def submit(request: HttpRequest) -> Any:
    token = request_token(request)
    try:
        data = _read_body(request)
        unit = services.filed_for(data, token)
        if request.headers.get("X-Ebhxh-Test", "").strip() in ("1", "true"):
            outcome = services.test_submission(data, unit=unit, channel=Channel.API)
            receipt = outcome.receipt
            return Reply(
                200,
                {
                    "test": True,
                    "accepted": outcome.accepted,
                    "findings": outcome.findings,
                    "specimen_receipt_base64": base64.b64encode(receipt).decode()
                    if receipt
                    else None,
                },
            )
        ack = services.submit(
            data,
            unit=unit,
            channel=Channel.API,
            api_token=token,
            idempotency_key=request.headers.get("Idempotency-Key"),
            supplement_to=_supplement_to(request),
        )
    except IntakeError as exc:
        return _error(exc)
    return Reply(
        202,
        {
            "tracking_id": ack.dossier.tracking_id,
            "status": ack.dossier.status,
            "status_url": _url("dossier_status", ack.dossier),
            "poll_after_seconds": settings.DOSSIER_POLL_SECONDS,
            "replayed": ack.replayed,
        },
    )


def _supplement_to(request: HttpRequest) -> Dossier | None:
    """The dossier named by X-Ebhxh-Supplement-For (its tracking id), which this submission
    answers after the agency asked for a supplement."""
    value = request.headers.get("X-Ebhxh-Supplement-For", "").strip()
    if not value:
        return None
    try:
        return _get(request, uuid.UUID(value))
    except ValueError:
        raise IntakeError("DOS-NOT-FOUND", status=404) from None


def _visible(request: HttpRequest) -> Any:
    """A unit's token sees the unit's dossiers; an I-VAN's token those it filed."""
    token = request_token(request)
    if token.unit_id is not None:
        return Dossier.objects.filter(unit_id=token.unit_id)
    return Dossier.objects.filter(api_token__ivan_id=token.ivan_id)


def _get(request: HttpRequest, tracking_id: uuid.UUID) -> Dossier:
    dossier = (
        _visible(request).filter(tracking_id=tracking_id).select_related("unit", "agency").first()
    )
    if dossier is None:
        raise IntakeError("DOS-NOT-FOUND", status=404)
    return dossier


@router.get("", response=list[DossierListItem], summary="Hồ sơ của đơn vị / the unit's dossiers")
def list_dossiers(request: HttpRequest, status: str | None = None, limit: int = 50) -> Any:
    qs = _visible(request)
    if status:
        qs = qs.filter(status=status)
    return [
        {
            "tracking_id": d.tracking_id,
            "unit_code": d.unit.code,
            "status": d.status,
            "number": d.number,
            "procedure_code": d.procedure_code,
            "period": d.period,
            "submitted_at": d.submitted_at,
        }
        for d in qs.select_related("unit").order_by("-submitted_at")[: max(1, min(limit, 500))]
    ]


@router.get(
    "/{tracking_id}",
    response={200: DossierOut, 404: ErrorOut},
    url_name="dossier_status",
    summary="Trạng thái hồ sơ / dossier status",
)
def status(request: HttpRequest, tracking_id: uuid.UUID) -> Any:
    try:
        dossier = _get(request, tracking_id)
    except IntakeError as exc:
        return _error(exc)
    return Reply(200, dossier_out(dossier))


def _file(data: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _slug(dossier: Dossier) -> str:
    return (dossier.number or str(dossier.tracking_id)).replace("/", "-")


@router.get(
    "/{tracking_id}/receipt.xml",
    response={200: None, 404: ErrorOut, 409: ErrorOut},
    url_name="dossier_receipt_xml",
    summary="Phiếu giao nhận 02/TB-TS (XML có dấu) / sealed receipt",
)
def receipt_xml(request: HttpRequest, tracking_id: uuid.UUID) -> Any:
    try:
        dossier = _get(request, tracking_id)
        data = services.receipt_xml(dossier)
    except IntakeError as exc:
        return _error(exc)
    return _file(data, "application/xml", f"02-TB-TS-{_slug(dossier)}.xml")


@router.get(
    "/{tracking_id}/receipt.pdf",
    response={200: None, 404: ErrorOut, 409: ErrorOut},
    url_name="dossier_receipt_pdf",
    summary="Phiếu giao nhận 02/TB-TS (PDF) / receipt as PDF",
)
def receipt_pdf(request: HttpRequest, tracking_id: uuid.UUID) -> Any:
    try:
        dossier = _get(request, tracking_id)
        data = services.receipt_pdf(dossier)
    except IntakeError as exc:
        return _error(exc)
    return _file(data, "application/pdf", f"02-TB-TS-{_slug(dossier)}.pdf")


@router.get(
    "/{tracking_id}/evidence.zip",
    response={200: None, 404: ErrorOut, 409: ErrorOut},
    url_name="dossier_evidence",
    summary="Gói chứng cứ / evidence bundle (ebhxh verify_evidence)",
)
def evidence(request: HttpRequest, tracking_id: uuid.UUID) -> Any:
    try:
        dossier = _get(request, tracking_id)
        data = services.evidence_bundle(dossier)
    except IntakeError as exc:
        return _error(exc)
    return _file(data, "application/zip", f"evidence-{_slug(dossier)}.zip")


@router.get(
    "/{tracking_id}/result.xml",
    response={200: None, 404: ErrorOut, 409: ErrorOut},
    url_name="dossier_result_xml",
    summary="Thông báo kết quả 03/TB-TS (XML có dấu) / sealed result notice",
    description="409 DOS-STATE trước khi cơ quan BHXH trả kết quả / before the result is returned.",
)
def result_xml(request: HttpRequest, tracking_id: uuid.UUID) -> Any:
    try:
        dossier = _get(request, tracking_id)
        data = services.result_xml(dossier)
    except IntakeError as exc:
        return _error(exc)
    return _file(data, "application/xml", f"03-TB-TS-{_slug(dossier)}.xml")


@router.get(
    "/{tracking_id}/result.pdf",
    response={200: None, 404: ErrorOut, 409: ErrorOut},
    url_name="dossier_result_pdf",
    summary="Thông báo kết quả 03/TB-TS (PDF) / result notice as PDF",
    description="409 DOS-STATE trước khi cơ quan BHXH trả kết quả / before the result is returned.",
)
def result_pdf(request: HttpRequest, tracking_id: uuid.UUID) -> Any:
    try:
        dossier = _get(request, tracking_id)
        data = services.result_pdf(dossier)
    except IntakeError as exc:
        return _error(exc)
    return _file(data, "application/pdf", f"03-TB-TS-{_slug(dossier)}.pdf")


@router.get(
    "/{tracking_id}/result/{name}",
    response={200: None, 404: ErrorOut, 409: ErrorOut},
    url_name="dossier_result_document",
    summary="Tài liệu kết quả / a result document (its SHA-256 is in the 03/TB-TS)",
    description="409 DOS-STATE trước khi cơ quan BHXH trả kết quả / before the result is returned.",
)
def result_document(request: HttpRequest, tracking_id: uuid.UUID, name: str) -> Any:
    try:
        dossier = _get(request, tracking_id)
        data, media_type = services.result_document(dossier, name)
    except IntakeError as exc:
        return _error(exc)
    response = HttpResponse(data, content_type=media_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@router.post(
    "/{tracking_id}/withdraw",
    response={200: DossierOut, 404: ErrorOut, 409: ErrorOut},
    summary="Rút hồ sơ / withdraw a dossier before processing starts",
)
def withdraw(request: HttpRequest, tracking_id: uuid.UUID, body: WithdrawIn) -> Any:
    try:
        dossier = services.withdraw(_get(request, tracking_id), user=None, reason=body.reason)
    except IntakeError as exc:
        return _error(exc)
    return Reply(200, dossier_out(dossier))
