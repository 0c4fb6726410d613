from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language

from ebhxh.accounts.models import User
from ebhxh.catalog.models import Procedure
from ebhxh.catalog.resolver import CatalogError, parameters_for, parse_region
from ebhxh.declarations.calculator import (
    CalculationError,
    EmployeeBasis,
    UnitContribution,
    calculate,
)
from ebhxh.declarations.parameters import ParameterError
from ebhxh.units.models import Employment, Unit


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return render(request, "web/landing.html")
    assert isinstance(user, User)
    if user.kind == User.Kind.UNIT and user.unit_id:
        unit = Unit.objects.select_related("managing_agency", "commune").get(pk=user.unit_id)
        employments = (
            Employment.objects.filter(unit=unit, end_month__isnull=True)
            .select_related("participant")
            .order_by("participant__full_name")
        )
        contribution = _month_contribution(unit, list(employments))
        return render(
            request,
            "web/unit_home.html",
            {"unit": unit, "employments": employments, "contribution": contribution},
        )
    if user.kind == User.Kind.AGENCY and user.agency_id:
        units = (
            Unit.objects.filter(
                Q(managing_agency_id=user.agency_id) | Q(managing_agency__parent_id=user.agency_id)
            )
            .select_related("managing_agency")
            .annotate(active=Count("employments", filter=Q(employments__end_month__isnull=True)))
        )
        return render(request, "web/agency_home.html", {"agency": user.agency, "units": units})
    return render(request, "web/system_home.html")


def catalog(request: HttpRequest) -> HttpResponse:
    """Public page: procedures with their forms and time limits, and the parameters of a period."""
    today = timezone.localdate()
    period = request.GET.get("period") or f"{today:%m/%Y}"
    region = request.GET.get("region") or "1"
    parameters, error = None, None
    try:
        parameters = parameters_for(period, parse_region(region))
    except CatalogError as exc:
        error = exc.message_vi if get_language() == "vi" else exc.message_en
    procedures = Procedure.objects.prefetch_related("procedure_forms__form").order_by("code")
    return render(
        request,
        "web/catalog.html",
        {
            "procedures": procedures,
            "parameters": parameters,
            "error": error,
            "period": period,
            "region": region,
        },
    )


def demo_crl(request: HttpRequest) -> HttpResponse:
    """The demo CA's CRL, at the address its certificates name (only when the demo PKI exists)."""
    path = settings.DEMO_PKI_DIR / "ca.crl"
    if not path.exists():
        raise Http404
    return HttpResponse(path.read_bytes(), content_type="application/pkix-crl")


def _month_contribution(unit: Unit, employments: list[Employment]) -> UnitContribution | None:
    """This month's contributions of the unit's active employees, by the rules package's calculator."""
    employees = [
        EmployeeBasis(
            identifier=e.participant.bhxh_code or e.participant.personal_id or str(e.pk),
            salary_amount=e.salary_amount,
            salary_coefficient=e.salary_coefficient,
            salary_allowance=e.salary_allowance,
            additional_allowances=e.additional_allowance,
        )
        for e in employments
        if e.status == Employment.Status.CONTRIBUTING
    ]
    try:
        return calculate(timezone.localdate(), employees, region_of_unit=unit.wage_region)
    except (CalculationError, ParameterError):
        return None  # e.g. no parameters in force for the month: the page shows the list only
