"""Public, read-only catalogue API (mounted at /api/v1/catalog/) for payroll and I-VAN software.

Errors are JSON ``{"code", "message_vi", "message_en"}``: 400 for bad input, 404 when nothing
matches. Amounts are integers in VND; rates are decimal fractions (0.14 = 14 %) serialised as
strings so that no precision is lost.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from ebhxh.catalog import resolver
from ebhxh.catalog.models import (
    Agency,
    ChangeType,
    Commune,
    Ethnicity,
    Form,
    IVanProvider,
    LegacyProvince,
    Nationality,
    Procedure,
    ProcedureForm,
    Province,
)
from ebhxh.catalog.resolver import CatalogError

router = Router(tags=["catalog"])

PERIOD_HELP = "Kỳ đóng / contribution period: MM/YYYY, YYYY-MM or MMYYYY"
REGION_HELP = "Vùng lương tối thiểu / minimum-wage region: 1–4 (01–04, I–IV)"


# --- Schemas ---------------------------------------------------------------------------------------


class ErrorOut(Schema):
    code: str
    message_vi: str
    message_en: str


class EffectiveOut(Schema):
    effective_from: dt.date
    effective_to: dt.date | None
    legal_basis: str


class ProcedureFormOut(Schema):
    code: str
    portal_id: str
    name: str
    kind: str
    required: bool


class ProcedureOut(EffectiveOut):
    code: str
    name: str
    name_en: str
    field: str
    time_limit_days: int = Field(
        description="Thời hạn giải quyết (ngày làm việc) / time limit in working days"
    )
    time_limit_confirmed: bool
    signature_required: bool
    channels: list[str]
    note: str
    forms: list[ProcedureFormOut]


class FormOut(EffectiveOut):
    code: str
    portal_id: str
    name: str
    name_en: str
    kind: str
    signature_node: str


class ChangeTypeOut(Schema):
    list_code: str
    code: str
    name: str
    direction: str
    effective_from: dt.date
    effective_to: dt.date | None


class RegionOut(Schema):
    region: int
    name: str
    minimum_wage: int
    cap_bhtn: int
    effective_from: dt.date
    effective_to: dt.date | None
    legal_basis: str


class RegionsOut(Schema):
    period: str
    first_day: dt.date
    regions: list[RegionOut]


class FundRateOut(Schema):
    fund: str
    employer_rate: Decimal
    employee_rate: Decimal
    cap: int = Field(
        description="Mức trần tiền lương đóng của quỹ / contribution-salary cap of the fund"
    )
    effective_from: dt.date
    effective_to: dt.date | None
    legal_basis: str


class ParametersOut(Schema):
    period: str
    first_day: dt.date
    region: int
    minimum_wage: int
    minimum_wage_legal_basis: str
    reference_salary: int
    reference_salary_legal_basis: str
    floor: int = Field(description="Mức sàn tiền lương đóng / lowest contribution salary")
    cap_bhxh_bhyt: int = Field(description="20 × mức tham chiếu / 20 × reference salary")
    cap_bhtn: int = Field(description="20 × lương tối thiểu vùng / 20 × regional minimum wage")
    employer_total: Decimal
    employee_total: Decimal
    rates: list[FundRateOut]


class AgencyOut(EffectiveOut):
    code: str
    name: str
    level: str
    parent: str | None
    province: str | None
    address: str
    phone: str
    email: str


class LegacyCodeOut(Schema):
    code: str
    name: str


class ProvinceOut(EffectiveOut):
    code: str
    name: str
    division_type: str
    legacy_codes: list[LegacyCodeOut]


class LegacyProvinceOut(Schema):
    code: str
    name: str
    successor: str
    successor_name: str


class CommuneOut(Schema):
    code: str
    name: str
    division_type: str
    province: str


class CodeNameOut(Schema):
    code: str
    name: str


# 500 only when the catalogue itself is inconsistent (two values in force on the same day).
ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 404: ErrorOut, 500: ErrorOut}


def _error(error: CatalogError) -> Status[object]:
    return Status(error.status, error.as_dict())


def _not_found(what_vi: str, what_en: str, code: str) -> CatalogError:
    return CatalogError(
        resolver.NOT_FOUND,
        f"Không tìm thấy {what_vi} '{code}'.",
        f"No {what_en} '{code}'.",
        status=404,
    )


# --- Endpoints -------------------------------------------------------------------------------------


def _procedure_out(procedure: Procedure) -> dict[str, object]:
    return {
        "code": procedure.code,
        "name": procedure.name,
        "name_en": procedure.name_en,
        "field": procedure.field,
        "time_limit_days": procedure.time_limit_days,
        "time_limit_confirmed": procedure.time_limit_confirmed,
        "signature_required": procedure.signature_required,
        "channels": procedure.channels,
        "note": procedure.note,
        "effective_from": procedure.effective_from,
        "effective_to": procedure.effective_to,
        "legal_basis": procedure.legal_basis,
        "forms": [
            {
                "code": link.form.code,
                "portal_id": link.form.portal_id,
                "name": link.form.name,
                "kind": link.form.kind,
                "required": link.required,
            }
            for link in procedure.procedure_forms.all()
        ],
    }


def _procedures() -> QuerySet[Procedure]:
    links = ProcedureForm.objects.select_related("form").order_by("position")
    return Procedure.objects.prefetch_related(Prefetch("procedure_forms", queryset=links))


@router.get("/procedures", response=list[ProcedureOut], summary="Thủ tục / procedures")
def list_procedures(
    request: HttpRequest, field: Procedure.Field | None = None
) -> list[dict[str, object]]:
    rows = _procedures()
    if field is not None:
        rows = rows.filter(field=field)
    return [_procedure_out(p) for p in rows]


@router.get(
    "/procedures/{code}",
    response={200: ProcedureOut, **ERRORS},
    summary="Một thủ tục / one procedure",
)
def get_procedure(request: HttpRequest, code: str) -> Status[object]:
    procedure = _procedures().filter(code=code).first()
    if procedure is None:
        return _error(_not_found("thủ tục", "procedure", code))
    return Status(200, _procedure_out(procedure))


@router.get("/forms", response=list[FormOut], summary="Tờ khai / forms")
def list_forms(request: HttpRequest) -> list[Form]:
    return list(Form.objects.all())


@router.get(
    "/change-types",
    response={200: list[ChangeTypeOut], **ERRORS},
    summary="Phương án (PA) / change types",
)
def list_change_types(
    request: HttpRequest,
    list_code: str | None = Query(None, alias="list", description="600, voluntary, short"),
    period: str | None = Query(
        None, description=PERIOD_HELP + " (chỉ mã có hiệu lực / in force only)"
    ),
) -> Status[object]:
    rows = ChangeType.objects.all()
    try:
        if period is not None:
            rows = rows.in_force(resolver.parse_period(period))
    except CatalogError as exc:
        return _error(exc)
    if list_code is not None:
        rows = rows.filter(list_code=list_code)
        if not ChangeType.objects.filter(list_code=list_code).exists():
            return _error(_not_found("danh sách phương án", "change-type list", list_code))
    return Status(200, list(rows))


@router.get(
    "/regions",
    response={200: RegionsOut, **ERRORS},
    summary="Lương tối thiểu vùng theo kỳ / regional minimum wages for a period",
)
def list_regions(
    request: HttpRequest, period: str = Query(..., description=PERIOD_HELP)
) -> Status[object]:
    try:
        first_day = resolver.parse_period(period)
        wages = resolver.minimum_wages_for(first_day)
    except CatalogError as exc:
        return _error(exc)
    regions = [
        {
            "region": w.region,
            "name": w.name,
            "minimum_wage": w.amount,
            "cap_bhtn": w.cap_bhtn,
            "effective_from": w.effective_from,
            "effective_to": w.effective_to,
            "legal_basis": w.legal_basis,
        }
        for w in wages
    ]
    return Status(
        200,
        {"period": resolver.format_period(first_day), "first_day": first_day, "regions": regions},
    )


@router.get(
    "/parameters",
    response={200: ParametersOut, **ERRORS},
    summary="Tham số đóng của một kỳ và vùng / contribution parameters for a period and region",
    description=(
        "Kỳ đóng áp dụng các giá trị có hiệu lực vào ngày đầu tháng. "
        "A contribution period applies the values in force on the first day of its month."
    ),
)
def get_parameters(
    request: HttpRequest,
    period: str = Query(..., description=PERIOD_HELP),
    region: str = Query(..., description=REGION_HELP),
) -> Status[object]:
    try:
        p = resolver.parameters_for(period, region)
    except CatalogError as exc:
        return _error(exc)
    return Status(
        200,
        {
            "period": p.period,
            "first_day": p.first_day,
            "region": p.region,
            "minimum_wage": p.minimum_wage,
            "minimum_wage_legal_basis": p.minimum_wage_legal_basis,
            "reference_salary": p.reference_salary,
            "reference_salary_legal_basis": p.reference_salary_legal_basis,
            "floor": p.floor,
            "cap_bhxh_bhyt": p.cap_bhxh_bhyt,
            "cap_bhtn": p.cap_bhtn,
            "employer_total": p.employer_total,
            "employee_total": p.employee_total,
            "rates": [
                {
                    "fund": r.fund,
                    "employer_rate": r.employer_rate,
                    "employee_rate": r.employee_rate,
                    "cap": p.cap_for(r.fund),
                    "effective_from": r.effective_from,
                    "effective_to": r.effective_to,
                    "legal_basis": r.legal_basis,
                }
                for r in p.rates
            ],
        },
    )


@router.get("/agencies", response=list[AgencyOut], summary="Cơ quan BHXH / insurance agencies")
def list_agencies(
    request: HttpRequest, level: Agency.Level | None = None, province: str | None = None
) -> list[dict[str, object]]:
    rows = Agency.objects.select_related("parent", "province")
    if level is not None:
        rows = rows.filter(level=level)
    if province is not None:
        rows = rows.filter(province__code=province)
    return [
        {
            "code": a.code,
            "name": a.name,
            "level": a.level,
            "parent": a.parent.code if a.parent else None,
            "province": a.province.code if a.province else None,
            "address": a.address,
            "phone": a.phone,
            "email": a.email,
            "effective_from": a.effective_from,
            "effective_to": a.effective_to,
            "legal_basis": a.legal_basis,
        }
        for a in rows
    ]


@router.get("/provinces", response=list[ProvinceOut], summary="Tỉnh, thành phố (34) / provinces")
def list_provinces(request: HttpRequest) -> list[dict[str, object]]:
    return [
        {
            "code": p.code,
            "name": p.name,
            "division_type": p.division_type,
            "effective_from": p.effective_from,
            "effective_to": p.effective_to,
            "legal_basis": p.legal_basis,
            "legacy_codes": [
                {"code": legacy.code, "name": legacy.name} for legacy in p.legacy_codes.all()
            ],
        }
        for p in Province.objects.prefetch_related("legacy_codes")
    ]


@router.get(
    "/provinces/{code}/communes",
    response={200: list[CommuneOut], **ERRORS},
    summary="Xã, phường của một tỉnh / communes of a province",
)
def list_communes(request: HttpRequest, code: str) -> Status[object]:
    province = Province.objects.filter(code=code).first()
    if province is None:
        return _error(_not_found("tỉnh, thành phố", "province", code))
    communes = Commune.objects.filter(province=province)
    return Status(
        200,
        [
            {
                "code": c.code,
                "name": c.name,
                "division_type": c.division_type,
                "province": province.code,
            }
            for c in communes
        ],
    )


@router.get(
    "/legacy-provinces",
    response=list[LegacyProvinceOut],
    summary="Tỉnh cũ (63, trước 2025) và tỉnh mới / pre-2025 provinces and their successor",
)
def list_legacy_provinces(request: HttpRequest) -> list[dict[str, object]]:
    return [
        {
            "code": p.code,
            "name": p.name,
            "successor": p.successor.code,
            "successor_name": p.successor.name,
        }
        for p in LegacyProvince.objects.select_related("successor")
    ]


@router.get(
    "/ivan-providers", response=list[CodeNameOut], summary="Nhà cung cấp I-VAN / I-VAN providers"
)
def list_ivan_providers(request: HttpRequest) -> list[IVanProvider]:
    return list(IVanProvider.objects.all())


@router.get("/ethnicities", response=list[CodeNameOut], summary="Dân tộc / ethnic groups")
def list_ethnicities(request: HttpRequest) -> list[Ethnicity]:
    return list(Ethnicity.objects.all())


@router.get("/nationalities", response=list[CodeNameOut], summary="Quốc tịch / nationalities")
def list_nationalities(request: HttpRequest) -> list[Nationality]:
    return list(Nationality.objects.all())
