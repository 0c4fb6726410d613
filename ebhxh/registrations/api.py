"""``/api/v1/registrations`` and ``/api/v1/certificates``: the registration status and the
registered certificates of the unit a bearer token acts for (payroll and I-VAN software)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from ebhxh.api.auth import UnitTokenAuth, request_unit
from ebhxh.registrations import services
from ebhxh.registrations.models import Registration

router = Router(tags=["registrations"], auth=UnitTokenAuth())


class RegistrationOut(Schema):
    reference: str = Field(description="Số tham chiếu / reference (DK-…)")
    version: int = Field(description="Lần đăng ký / version of the unit's registration")
    kind: str = Field(description="first, existing, reregistration, change, stop")
    status: str = Field(description="submitted, approved, refused")
    uses_signature: bool = Field(description="Sử dụng chữ ký số / with a digital signature")
    procedures: list[str] = Field(description="Mã thủ tục / procedure codes")
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None
    transaction_code: str = Field(description="Mã giao dịch của thông báo 01/TB-GD")
    refusal_reason: str = Field(description="Lý do từ chối / reason of a refusal")
    certificate_serial: str = Field(description="Số hiệu chứng thư số / certificate serial")


class RegistrationsOut(Schema):
    unit_code: str | None
    etx_status: str = Field(description="not_registered, pending, active, stopped")
    current: RegistrationOut | None = Field(description="Đăng ký hiện hành / current registration")
    history: list[RegistrationOut] = Field(description="Mới nhất trước / newest first")


class CertificateOut(Schema):
    fingerprint: str = Field(description="SHA-256 của chứng thư (DER), hex")
    serial: str
    subject: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    status: str = Field(description="active, withdrawn")
    der_base64: str = Field(description="Chứng thư số (DER, base64)")


def _reg(reg: Registration) -> dict[str, Any]:
    return {
        "reference": reg.reference,
        "version": reg.version,
        "kind": reg.kind,
        "status": reg.status,
        "uses_signature": reg.uses_signature,
        "procedures": list(reg.procedures),
        "submitted_at": reg.submitted_at,
        "decided_at": reg.decided_at,
        "transaction_code": reg.transaction_code,
        "refusal_reason": reg.refusal_reason,
        "certificate_serial": reg.certificate_serial,
    }


@router.get(
    "/registrations",
    response=RegistrationsOut,
    summary="Trạng thái đăng ký giao dịch điện tử / registration status",
)
def registrations(request: HttpRequest) -> dict[str, Any]:
    unit = request_unit(request)
    current = services.current_registration(unit)
    return {
        "unit_code": unit.code,
        "etx_status": unit.etx_status,
        "current": _reg(current) if current else None,
        "history": [_reg(r) for r in services.history(unit)],
    }


@router.get(
    "/certificates",
    response=list[CertificateOut],
    summary="Chứng thư số đã đăng ký của đơn vị / the unit's registered certificates",
)
def certificates(request: HttpRequest) -> list[dict[str, Any]]:
    import base64

    unit = request_unit(request)
    return [
        {
            "fingerprint": c.fingerprint,
            "serial": c.serial,
            "subject": c.subject,
            "issuer": c.issuer,
            "not_before": c.not_before,
            "not_after": c.not_after,
            "status": c.status,
            "der_base64": base64.b64encode(bytes(c.der)).decode("ascii"),
        }
        for c in unit.certificates.order_by("-registered_at")
    ]
