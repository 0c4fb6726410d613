"""Pages of the registration flow: public (register, sign or confirm by e-mail, look up), the
unit's own (history, change, stop) and the agency's (queue, review, decide, TS24 report)."""

from __future__ import annotations

import base64
import binascii
import csv
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ebhxh.accounts.models import Role, User
from ebhxh.notify.ratelimits import check, rate_limited, too_many_requests
from ebhxh.registrations import services
from ebhxh.registrations.forms import (
    ApproveForm,
    ChangeForm,
    CodeForm,
    LookupForm,
    RefuseForm,
    RegistrationForm,
    SignedUploadForm,
    StopForm,
)
from ebhxh.registrations.models import Registration
from ebhxh.registrations.services import RegistrationError

_SESSION_KEY = "registration_drafts"


def _remember(request: HttpRequest, reg: Registration) -> None:
    drafts = list(request.session.get(_SESSION_KEY, []))
    drafts.append(reg.reference)
    request.session[_SESSION_KEY] = drafts[-10:]


def _draft(request: HttpRequest, reference: str) -> Registration:
    """A draft of this browser session (drafts are not reachable from anywhere else)."""
    if reference not in request.session.get(_SESSION_KEY, []):
        raise Http404
    return get_object_or_404(
        Registration.objects.select_related("managing_agency", "unit"), reference=reference
    )


def _message(exc: RegistrationError) -> str:
    text = exc.message_vi if get_language() == "vi" else exc.message_en
    return f"{text} [{exc.code}]"


# --------------------------------------------------------------------------- public


def start(request: HttpRequest) -> HttpResponse:
    return render(request, "registrations/start.html")


@rate_limited("registration")
def register(request: HttpRequest) -> HttpResponse:
    form = RegistrationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("attachment")
        attachment = (upload.name, upload.read()) if upload else None
        try:
            reg = services.start(data=form.declaration(), attachment=attachment)
        except RegistrationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, _message(exc))
        else:
            _remember(request, reg)
            return _next_step(request, reg)
    return render(request, "registrations/form.html", {"form": form})


def _next_step(request: HttpRequest, reg: Registration) -> HttpResponse:
    if reg.uses_signature:
        return redirect("registrations:sign", reference=reg.reference)
    try:
        services.send_code(reg)
    except RegistrationError as exc:
        messages.error(request, _message(exc))
    return redirect("registrations:code", reference=reg.reference)


def sign(request: HttpRequest, reference: str) -> HttpResponse:
    """Sign with the token through the signing agent (JavaScript), or download the XML, sign it
    with any tool (``ebhxh sign``) and upload it (no JavaScript needed)."""
    reg = _draft(request, reference)
    if reg.status != Registration.Status.DRAFT:
        return redirect("registrations:done", reference=reg.reference)
    form = SignedUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_signed(reg, form.cleaned_data["signed"], actor=_actor(request))
        except RegistrationError as exc:
            form.add_error("signed", _message(exc))
        else:
            return redirect("registrations:done", reference=reg.reference)
    return render(
        request,
        "registrations/sign.html",
        {
            "reg": reg,
            "form": form,
            "container": services.form01.CONTAINER,
            "agent_url": settings.SIGNING_AGENT_URL,
        },
    )


def _actor(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None


def _agent_call(
    request: HttpRequest, field: str, step: Callable[[bytes], JsonResponse]
) -> JsonResponse:
    """One JSON step of the signing page: base64 `field` of the body in, `step`'s answer out;
    a malformed body is REG-BAD-REQUEST (400), a refusal by the service its own code (422)."""
    try:
        payload = json.loads(request.body or b"{}")
        data = base64.b64decode(payload[field], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        return JsonResponse(
            {"code": "REG-BAD-REQUEST", "message": _("Yêu cầu không hợp lệ.")}, status=400
        )
    try:
        return step(data)
    except RegistrationError as exc:
        return JsonResponse({"code": exc.code, "message": _message(exc)}, status=422)


@require_POST
def certificate(request: HttpRequest, reference: str) -> JsonResponse:
    """JSON for the signing page: the chosen certificate in, the declaration to sign out."""
    reg = _draft(request, reference)

    def choose(der: bytes) -> JsonResponse:
        xml = services.choose_certificate(reg, der)
        return JsonResponse({"document": base64.b64encode(xml).decode("ascii")})

    return _agent_call(request, "certificate", choose)


@require_POST
def signed(request: HttpRequest, reference: str) -> JsonResponse:
    """JSON for the signing page: the document signed by the agent."""
    reg = _draft(request, reference)

    def submit(data: bytes) -> JsonResponse:
        services.submit_signed(reg, data, actor=_actor(request))
        return JsonResponse(
            {"next": reverse("registrations:done", kwargs={"reference": reg.reference})}
        )

    return _agent_call(request, "signed", submit)


def document(request: HttpRequest, reference: str) -> HttpResponse:
    """The unsigned declaration of a draft, to sign with another tool."""
    reg = _draft(request, reference)
    response = HttpResponse(services.document_bytes(reg), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="01-DK-GD-{reg.reference}.xml"'
    return response


def code(request: HttpRequest, reference: str) -> HttpResponse:
    reg = _draft(request, reference)
    if reg.status != Registration.Status.DRAFT:
        return redirect("registrations:done", reference=reg.reference)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and "resend" in request.POST:
        # Wrong codes are bounded by the code's own attempt limit; sending is what is limited here.
        exceeded = check("code", request, identifier=services.code_address(reg))
        if exceeded is not None:
            return too_many_requests(request, exceeded)
        services.send_code(reg)
        messages.info(request, _("Đã gửi lại mã xác nhận."))
        return redirect("registrations:code", reference=reg.reference)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_with_code(reg, form.cleaned_data["code"], actor=_actor(request))
        except RegistrationError as exc:
            form.add_error("code", _message(exc))
        else:
            return redirect("registrations:done", reference=reg.reference)
    return render(
        request,
        "registrations/code.html",
        {"reg": reg, "form": form, "address": _masked(services.code_address(reg))},
    )


def _masked(email: str) -> str:
    name, _at, domain = email.partition("@")
    return f"{name[:2]}{'•' * max(1, len(name) - 2)}@{domain}"


def done(request: HttpRequest, reference: str) -> HttpResponse:
    reg = _draft(request, reference)
    return render(request, "registrations/done.html", {"reg": reg})


@rate_limited("lookup")
def lookup(request: HttpRequest) -> HttpResponse:
    """Status by reference and tax code: the same answer for an unknown reference and a wrong tax
    code, so neither can be probed."""
    form = LookupForm(request.POST or None)
    found = None
    if request.method == "POST" and form.is_valid():
        found = (
            Registration.objects.exclude(status=Registration.Status.DRAFT)
            .filter(
                reference=form.cleaned_data["reference"].strip().upper(),
                tax_code=form.cleaned_data["tax_code"].strip(),
            )
            .first()
        )
        if found is None:
            form.add_error(None, _("Không tìm thấy đăng ký với số tham chiếu và mã số thuế này."))
    return render(request, "registrations/lookup.html", {"form": form, "reg": found})


# --------------------------------------------------------------------------- the unit


def _unit_admin(request: HttpRequest) -> User:
    user = request.user
    if (
        not isinstance(user, User)
        or user.kind != User.Kind.UNIT
        or not user.has_role(Role.UNIT_ADMIN)
    ):
        raise PermissionDenied
    return user


@login_required
def unit_registration(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User) or user.kind != User.Kind.UNIT or user.unit is None:
        raise PermissionDenied
    unit = user.unit
    return render(
        request,
        "registrations/unit.html",
        {
            "unit": unit,
            "current": services.current_registration(unit),
            "history": services.history(unit).select_related("decided_by"),
            "certificates": unit.certificates.order_by("-registered_at"),
            "is_admin": user.has_role(Role.UNIT_ADMIN),
        },
    )


@login_required
def change(request: HttpRequest) -> HttpResponse:
    user = _unit_admin(request)
    unit = user.unit
    assert unit is not None
    current = services.current_registration(unit)
    initial = services._carried_over(unit, current)
    initial["uses_signature"] = "1" if initial.get("uses_signature") else "0"
    form = ChangeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        return _start_unit(request, form, form.cleaned_data, kind=Registration.Kind.CHANGE)
    return render(request, "registrations/change.html", {"form": form, "unit": unit, "stop": False})


@login_required
def stop(request: HttpRequest) -> HttpResponse:
    user = _unit_admin(request)
    unit = user.unit
    assert unit is not None
    form = StopForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _start_unit(request, form, form.cleaned_data, kind=Registration.Kind.STOP)
    return render(request, "registrations/change.html", {"form": form, "unit": unit, "stop": True})


def _start_unit(
    request: HttpRequest, form: Any, data: dict[str, Any], *, kind: str
) -> HttpResponse:
    user = _unit_admin(request)
    try:
        reg = services.start(data=data, unit=user.unit, kind=kind, actor=user)
    except RegistrationError as exc:
        form.add_error(None, _message(exc))
        return render(
            request,
            "registrations/change.html",
            {"form": form, "unit": user.unit, "stop": kind == Registration.Kind.STOP},
        )
    _remember(request, reg)
    return _next_step(request, reg)


# --------------------------------------------------------------------------- files


def _may_see(user: Any, reg: Registration) -> bool:
    if not isinstance(user, User) or not user.is_authenticated:
        return False
    if user.kind == User.Kind.AGENCY:
        return user.agency_id == reg.managing_agency_id
    if user.kind == User.Kind.UNIT:
        return reg.unit_id is not None and user.unit_id == reg.unit_id
    return False


_FILES = {
    "to-khai": "document",
    "dinh-kem": "attachment",
    "thong-bao.xml": "notice_xml",
    "thong-bao.pdf": "notice_pdf",
}


@login_required
def download(request: HttpRequest, reference: str, name: str) -> FileResponse:
    reg = get_object_or_404(Registration, reference=reference)
    attr = _FILES.get(name)
    if attr is None or not _may_see(request.user, reg) or reg.status == Registration.Status.DRAFT:
        raise Http404
    field = getattr(reg, attr)
    if not field:
        raise Http404
    return FileResponse(
        field.open("rb"), as_attachment=True, filename=field.name.rsplit("/", 1)[-1]
    )


# --------------------------------------------------------------------------- the agency


def _desk(request: HttpRequest) -> User:
    user = request.user
    if (
        not isinstance(user, User)
        or user.kind != User.Kind.AGENCY
        or not user.has_role(Role.DESK, Role.SUPERVISOR)
    ):
        raise PermissionDenied
    return user


@login_required
def agency_queue(request: HttpRequest) -> HttpResponse:
    officer = _desk(request)
    assert officer.agency is not None
    status = request.GET.get("status", Registration.Status.SUBMITTED)
    if status not in Registration.Status.values or status == Registration.Status.DRAFT:
        status = Registration.Status.SUBMITTED
    regs = (
        Registration.objects.filter(managing_agency=officer.agency, status=status)
        .select_related("unit", "legacy_account")
        .order_by("submitted_at" if status == Registration.Status.SUBMITTED else "-decided_at")[
            :200
        ]
    )
    return render(
        request,
        "registrations/agency_queue.html",
        {
            "regs": regs,
            "status": status,
            "statuses": [s for s in Registration.Status if s != Registration.Status.DRAFT],
            "agency": officer.agency,
        },
    )


@login_required
def agency_detail(request: HttpRequest, reference: str) -> HttpResponse:
    officer = _desk(request)
    reg = get_object_or_404(
        Registration.objects.select_related(
            "managing_agency", "unit", "legacy_account", "previous"
        ),
        reference=reference,
        managing_agency=officer.agency,
    )
    if reg.status == Registration.Status.DRAFT:
        raise Http404
    approve_form = ApproveForm(
        initial={
            "unit_code": reg.unit_code
            or (services.suggest_unit_code() if reg.kind == "first" else "")
        }
    )
    refuse_form = RefuseForm()
    if request.method == "POST" and reg.status == Registration.Status.SUBMITTED:
        with transaction.atomic():
            if "approve" in request.POST:
                approve_form = ApproveForm(request.POST)
                if approve_form.is_valid():
                    try:
                        services.approve(
                            reg, officer, unit_code=approve_form.cleaned_data["unit_code"]
                        )
                    except RegistrationError as exc:
                        approve_form.add_error(None, _message(exc))
                    else:
                        messages.success(
                            request, _("Đã duyệt đăng ký và gửi thông báo cho đơn vị.")
                        )
                        return redirect("registrations:agency_detail", reference=reg.reference)
            elif "refuse" in request.POST:
                refuse_form = RefuseForm(request.POST)
                if refuse_form.is_valid():
                    try:
                        services.refuse(reg, officer, reason=refuse_form.cleaned_data["reason"])
                    except RegistrationError as exc:
                        refuse_form.add_error(None, _message(exc))
                    else:
                        messages.success(
                            request, _("Đã từ chối đăng ký và gửi thông báo cho đơn vị.")
                        )
                        return redirect("registrations:agency_detail", reference=reg.reference)
    history = services.history(reg.unit) if reg.unit else Registration.objects.none()
    return render(
        request,
        "registrations/agency_detail.html",
        {
            "reg": reg,
            "checks": services.checks(reg),
            "approve_form": approve_form,
            "refuse_form": refuse_form,
            "history": history,
        },
    )


@login_required
def legacy_report(request: HttpRequest) -> HttpResponse:
    officer = _desk(request)
    accounts = services.legacy_not_reregistered(officer.agency)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="ts24-chua-dang-ky-lai.csv"'
        response.write("\ufeff")  # Excel opens UTF-8 CSV correctly with a BOM
        writer = csv.writer(response)
        writer.writerow(
            [
                _("Tài khoản TS24"),
                _("Mã đơn vị"),
                _("Mã số thuế"),
                _("Tên đơn vị"),
                _("Email"),
                _("Điện thoại"),
            ]
        )
        for a in accounts:
            writer.writerow([a.username, a.unit_code, a.tax_code, a.unit_name, a.email, a.phone])
        return response
    return render(
        request,
        "registrations/legacy_report.html",
        {"accounts": accounts, "agency": officer.agency},
    )
