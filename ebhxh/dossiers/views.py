"""The unit's dossier pages (issue 6 items 1, 6, 7; docs/intake-web.md): the list and the detail
of its dossiers (timeline, findings, receipt, evidence bundle, withdrawal), the upload of a dossier
signed elsewhere (or a test run of it), and drafts: compose a D02-TS, attach files, hand over,
sign through the local signing agent or confirm with an e-mailed code, submit.

Every page is for members of one unit only: another unit's dossier or draft is 404.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ebhxh.accounts.models import UNIT_ROLES, User
from ebhxh.dossiers import drafts, services
from ebhxh.dossiers.drafts import DraftError
from ebhxh.dossiers.forms import (
    AttachForm,
    CodeForm,
    DraftForm,
    FilterForm,
    RegistryForm,
    ReturnForm,
    RowForm,
    UploadForm,
    WithdrawForm,
)
from ebhxh.dossiers.models import Channel, Dossier, Draft, DraftStatus, Status
from ebhxh.dossiers.services import IntakeError
from ebhxh.units.models import Employment, Unit

SEEN_KEY = "dossiers_seen_at"


def _member(request: HttpRequest) -> tuple[User, Unit]:
    """The logged-in unit member and their unit (403 for anyone else)."""
    user = request.user
    if (
        not isinstance(user, User)
        or user.kind != User.Kind.UNIT
        or user.unit is None
        or not user.has_role(*UNIT_ROLES)
    ):
        raise PermissionDenied
    return user, user.unit


def _dossier(request: HttpRequest, tracking_id: Any) -> tuple[User, Dossier]:
    user, unit = _member(request)
    dossier = get_object_or_404(
        Dossier.objects.select_related("unit", "agency", "submitted_by"),
        tracking_id=tracking_id,
        unit=unit,
    )
    return user, dossier


def _draft(request: HttpRequest, pk: int) -> tuple[User, Draft]:
    user, unit = _member(request)
    draft = get_object_or_404(
        Draft.objects.select_related("unit__managing_agency", "created_by", "ready_by", "dossier"),
        pk=pk,
        unit=unit,
    )
    return user, draft


def _vi() -> bool:
    return (get_language() or "vi").startswith("vi")


def _message(exc: DraftError | IntakeError) -> str:
    return f"{exc.message_vi if _vi() else exc.message_en} [{exc.code}]"


# --------------------------------------------------------------------------- findings


def group_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings by form, then by row (rows in order; the form's own findings first)."""
    forms: dict[str, dict[Any, list[dict[str, Any]]]] = {}
    for f in findings:
        loc = f.get("location") or {}
        forms.setdefault(loc.get("form") or "", {}).setdefault(loc.get("row"), []).append(f)
    out = []
    for form, rows in forms.items():
        ordered = sorted(rows.items(), key=lambda kv: (kv[0] is not None, kv[0] or 0))
        out.append(
            {
                "form": form,
                "rows": [{"row": row, "findings": items} for row, items in ordered],
                "count": sum(len(items) for items in rows.values()),
            }
        )
    return out


def _counts(findings: list[dict[str, Any]]) -> dict[str, int]:
    return services.findings_summary(findings)


# --------------------------------------------------------------------------- dossiers


@login_required
def dossier_list(request: HttpRequest) -> HttpResponse:
    user, unit = _member(request)
    form = FilterForm(request.GET or None)
    dossiers = Dossier.objects.filter(unit=unit).order_by("-submitted_at", "-pk")
    if form.is_valid():
        if form.cleaned_data["status"]:
            dossiers = dossiers.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["period"]:
            dossiers = dossiers.filter(period=form.cleaned_data["period"].strip())
    page = Paginator(dossiers, 50).get_page(request.GET.get("trang"))
    open_drafts = (
        Draft.objects.filter(unit=unit)
        .exclude(status=DraftStatus.SUBMITTED)
        .select_related("created_by")
    )
    request.session[SEEN_KEY] = timezone.now().isoformat()
    return render(
        request,
        "dossiers/list.html",
        {
            "unit": unit,
            "form": form,
            "page": page,
            "drafts": open_drafts,
            "can_prepare": drafts.may(user, unit, drafts.PREPARE_ROLES),
            "can_submit": drafts.may(user, unit, drafts.SUBMIT_ROLES),
        },
    )


def _processing(user: User, dossier: Dossier) -> dict[str, Any]:
    """The agency's side of the dossier as the unit sees it: the processing timeline (without
    the officers' internal notes) and the messages (issue 7 item 6)."""
    from ebhxh.processing import services as processing
    from ebhxh.processing.forms import MessageForm
    from ebhxh.processing.models import Case

    case = Case.objects.filter(dossier=dossier).first()
    if case is None:
        return {}
    return {
        "case": case,
        "processing_timeline": processing.timeline(case, viewer=user),
        "thread": case.messages.select_related("author"),
        "message_form": MessageForm(),
        "can_message": case.stage not in ("closed", "withdrawn"),
    }


@login_required
def dossier_detail(request: HttpRequest, tracking_id: Any) -> HttpResponse:
    user, dossier = _dossier(request, tracking_id)
    return render(
        request,
        "dossiers/detail.html",
        {
            **_processing(user, dossier),
            "dossier": dossier,
            "events": dossier.events.select_related("actor"),
            "groups": group_findings(dossier.findings),
            "counts": _counts(dossier.findings),
            "can_withdraw": dossier.status in services.WITHDRAWABLE
            and drafts.may(user, dossier.unit, drafts.SUBMIT_ROLES),
            "has_evidence": dossier.status != "submitted",
            "result": _returned_result(dossier),
        },
    )


def _returned_result(dossier: Dossier) -> Any:
    try:
        return services.returned_result(dossier)
    except IntakeError:
        return None


@login_required
def withdraw(request: HttpRequest, tracking_id: Any) -> HttpResponse:
    user, dossier = _dossier(request, tracking_id)
    if not drafts.may(user, dossier.unit, drafts.SUBMIT_ROLES):
        raise PermissionDenied
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw(dossier, user=user, reason=form.cleaned_data["reason"])
        except IntakeError as exc:
            messages.error(request, _message(exc))
        else:
            messages.success(request, _("Đã rút hồ sơ."))
        return redirect("dossiers:detail", tracking_id=dossier.tracking_id)
    return render(request, "dossiers/withdraw.html", {"dossier": dossier, "form": form})


@login_required
@require_POST
def message(request: HttpRequest, tracking_id: Any) -> HttpResponse:
    """A message from the unit to the agency about this dossier (e-mailed to the officers)."""
    from ebhxh.processing import services as processing
    from ebhxh.processing.forms import MessageForm
    from ebhxh.processing.models import Case

    user, dossier = _dossier(request, tracking_id)
    case = get_object_or_404(Case, dossier=dossier)
    form = MessageForm(request.POST)
    try:
        if not form.is_valid():
            raise processing.ProcessingError("PRC-MESSAGE")
        processing.post_message(case, actor=user, body=form.cleaned_data["body"])
    except processing.ProcessingError as exc:
        text = exc.message_vi if _vi() else exc.message_en
        messages.error(request, f"{text} [{exc.code}]")
    else:
        messages.success(request, _("Đã gửi tin nhắn cho cơ quan BHXH."))
    url = reverse("dossiers:detail", kwargs={"tracking_id": dossier.tracking_id})
    return redirect(url + "#trao-doi")


def _attachment(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _file_name(dossier: Dossier, suffix: str) -> str:
    name = (dossier.number or str(dossier.tracking_id)).replace("/", "-")
    return f"{name}{suffix}"


@login_required
def receipt_xml(request: HttpRequest, tracking_id: Any) -> HttpResponse:
    _user, dossier = _dossier(request, tracking_id)
    try:
        data = services.receipt_xml(dossier)
    except IntakeError:
        raise Http404 from None
    return _attachment(data, "application/xml", _file_name(dossier, "-02-TB-TS.xml"))


@login_required
def receipt_pdf(request: HttpRequest, tracking_id: Any) -> HttpResponse:
    _user, dossier = _dossier(request, tracking_id)
    try:
        data = services.receipt_pdf(dossier)
    except IntakeError:
        raise Http404 from None
    return _attachment(data, "application/pdf", _file_name(dossier, "-02-TB-TS.pdf"))


@login_required
def evidence(request: HttpRequest, tracking_id: Any) -> HttpResponse:
    _user, dossier = _dossier(request, tracking_id)
    try:
        data = services.evidence_bundle(dossier)
    except IntakeError:
        raise Http404 from None
    return _attachment(data, "application/zip", _file_name(dossier, "-bang-chung.zip"))


@login_required
def result_xml(request: HttpRequest, tracking_id: Any) -> HttpResponse:
    _user, dossier = _dossier(request, tracking_id)
    try:
        data = services.result_xml(dossier)
    except IntakeError:
        raise Http404 from None
    return _attachment(data, "application/xml", _file_name(dossier, "-03-TB-TS.xml"))


@login_required
def result_pdf(request: HttpRequest, tracking_id: Any) -> HttpResponse:
    _user, dossier = _dossier(request, tracking_id)
    try:
        data = services.result_pdf(dossier)
    except IntakeError:
        raise Http404 from None
    return _attachment(data, "application/pdf", _file_name(dossier, "-03-TB-TS.pdf"))


@login_required
def result_document(request: HttpRequest, tracking_id: Any, name: str) -> HttpResponse:
    _user, dossier = _dossier(request, tracking_id)
    try:
        data, media_type = services.result_document(dossier, name)
    except IntakeError:
        raise Http404 from None
    response = HttpResponse(data, content_type=media_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """A BHXHDienTu.xml signed by other software: submit it, or test it (nothing is kept)."""
    user, unit = _member(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    outcome = None
    # A supplement the agency asked for names the dossier it answers (docs/processing.md).
    answers = None
    wanted = request.POST.get("bo-sung") or request.GET.get("bo-sung") or ""
    if wanted:
        try:
            answers = Dossier.objects.filter(
                unit=unit, tracking_id=uuid.UUID(wanted), status=Status.SUPPLEMENT
            ).first()
        except ValueError:
            answers = None
        if answers is None:
            raise Http404
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["file"].read()
        testing = "test" in request.POST
        if not testing and not drafts.may(user, unit, drafts.SUBMIT_ROLES):
            form.add_error(None, _message(DraftError("DRAFT-ROLE")))
        else:
            try:
                if testing:
                    outcome = services.test_submission(data, unit=unit, channel=Channel.WEB)
                else:
                    ack = services.submit(
                        data, unit=unit, channel=Channel.WEB, user=user, supplement_to=answers
                    )
                    if ack.replayed:
                        messages.info(request, _("Tệp hồ sơ này đã được gửi trước đó."))
                    return redirect("dossiers:detail", tracking_id=ack.dossier.tracking_id)
            except IntakeError as exc:
                form.add_error("file", _message(exc))
    context: dict[str, Any] = {
        "form": form,
        "can_submit": drafts.may(user, unit, drafts.SUBMIT_ROLES),
        "answers": answers,
    }
    if outcome is not None:
        context.update(
            outcome=outcome,
            groups=group_findings(outcome.findings),
            counts=_counts(outcome.findings),
            specimen=base64.b64encode(outcome.receipt).decode() if outcome.receipt else None,
        )
    return render(request, "dossiers/upload.html", context)


# --------------------------------------------------------------------------- drafts

# Columns of the compose table: (heading, the row fields a finding may name for this cell).
COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pa", ("pa", "kind")),
    ("full_name", ("full_name",)),
    ("bhxh_code", ("bhxh_code", "has_book")),
    ("birth_date", ("birth_date",)),
    ("gender", ("gender",)),
    ("personal_id", ("personal_id",)),
    ("position", ("position", "workplace", "department")),
    (
        "salary",
        ("salary", "contribution_rate", "wage_region"),
    ),
    (
        "allowances",
        (
            "allowance_position",
            "allowance_seniority_excess",
            "allowance_seniority_profession",
            "allowance_salary",
            "allowance_other",
        ),
    ),
    ("from_month", ("from_month",)),
    ("to_month", ("to_month",)),
    (
        "note",
        (
            "note",
            "contract_indefinite_from",
            "contract_fixed_from",
            "contract_fixed_to",
            "contract_other_from",
            "contract_other_to",
        ),
    ),
)


def _amount(text: str | None) -> str:
    if not text:
        return ""
    try:
        value = Decimal(text)
    except ArithmeticError:
        return text
    if value == value.to_integral_value() and value > 100:
        return f"{int(value):,}".replace(",", ".")
    return str(value).replace(".", ",")


def _display(row: dict[str, str]) -> dict[str, str]:
    allowances = sum(
        (
            Decimal(row[k])
            for k in ("allowance_position", "allowance_salary", "allowance_other")
            if row.get(k)
        ),
        Decimal(0),
    )
    return {
        "pa": row.get("pa", ""),
        "full_name": row.get("full_name", ""),
        "bhxh_code": row.get("bhxh_code", ""),
        "birth_date": row.get("birth_date", ""),
        "gender": {"1": _("Nam"), "0": _("Nữ")}.get(row.get("gender", ""), ""),
        "personal_id": row.get("personal_id", ""),
        "position": row.get("position", ""),
        "salary": _amount(row.get("salary")),
        "allowances": _amount(str(allowances)) if allowances else "",
        "from_month": row.get("from_month", ""),
        "to_month": row.get("to_month", ""),
        "note": row.get("note", ""),
    }


def _table(draft: Draft) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows with their cells (error cells marked) and findings; and the findings that are
    not about one D02-TS row."""
    by_row: dict[int, list[dict[str, Any]]] = {}
    general = []
    for f in draft.findings:
        loc = f.get("location") or {}
        if loc.get("form") == drafts.D02 and loc.get("row"):
            by_row.setdefault(int(loc["row"]), []).append(f)
        else:
            general.append(f)
    rows = []
    for number, row in enumerate(draft.rows, 1):
        found = by_row.get(number, [])
        bad = {
            (f.get("location") or {}).get("field") for f in found if f.get("severity") == "error"
        }
        warn = {(f.get("location") or {}).get("field") for f in found}
        shown = _display(row)
        cells = [
            {
                "key": key,
                "value": shown[key],
                "error": bool(bad.intersection(fields)),
                "warning": bool(warn.intersection(fields)),
            }
            for key, fields in COLUMNS
        ]
        rows.append({"number": number, "index": number - 1, "cells": cells, "findings": found})
    return rows, general


def _draft_context(user: User, draft: Draft) -> dict[str, Any]:
    unit = draft.unit
    return {
        "draft": draft,
        "procedure": drafts.procedure_of(draft),
        "counts": _counts(draft.findings),
        "can_prepare": drafts.may(user, unit, drafts.PREPARE_ROLES),
        "can_sign": drafts.may(user, unit, drafts.SIGN_ROLES),
        "can_submit": drafts.may(user, unit, drafts.SUBMIT_ROLES),
        "editing": draft.status == DraftStatus.EDITING,
        "awaiting": draft.status == DraftStatus.AWAITING_SIGNATURE,
    }


@login_required
def draft_new(request: HttpRequest) -> HttpResponse:
    user, unit = _member(request)
    if not drafts.may(user, unit, drafts.PREPARE_ROLES):
        raise PermissionDenied
    form = DraftForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            draft = drafts.create(
                unit,
                user=user,
                procedure_code=form.cleaned_data["procedure"],
                period=form.cleaned_data["period"],
            )
        except DraftError as exc:
            form.add_error(None, _message(exc))
        else:
            return redirect("dossiers:compose", pk=draft.pk)
    return render(request, "dossiers/draft_new.html", {"form": form})


@login_required
def compose(request: HttpRequest, pk: int) -> HttpResponse:
    user, draft = _draft(request, pk)
    if draft.status == DraftStatus.SUBMITTED and draft.dossier is not None:
        return redirect("dossiers:detail", tracking_id=draft.dossier.tracking_id)
    rows, general = _table(draft)
    context = _draft_context(user, draft)
    context.update(rows=rows, general=group_findings(general), columns=COLUMNS)
    return render(request, "dossiers/compose.html", context)


def _post_action(
    request: HttpRequest, pk: int, action: Callable[[User, Draft], Any], done: str
) -> HttpResponse:
    user, draft = _draft(request, pk)
    try:
        action(user, draft)
    except DraftError as exc:
        messages.error(request, _message(exc))
    else:
        if done:
            messages.success(request, done)
    if Draft.objects.filter(pk=pk).exists():
        return redirect("dossiers:compose", pk=pk)
    return redirect("dossiers:list")


@login_required
def row_edit(request: HttpRequest, pk: int, index: int | None = None) -> HttpResponse:
    """Add a new person (index None) or edit row `index` (0-based)."""
    user, draft = _draft(request, pk)
    if not drafts.may(user, draft.unit, drafts.PREPARE_ROLES):
        raise PermissionDenied
    if index is not None and not 0 <= index < len(draft.rows):
        raise Http404
    if index is None:
        initial = {
            "pa": "TM",
            "from_month": draft.period,
            "gender": "1",
        }
    else:
        initial = RowForm.initial_from(draft.rows[index])
    form = RowForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if index is None:
                row = form.row()
                row.setdefault("wage_region", f"{draft.unit.wage_region:02d}")
                drafts.add_row(draft, row, user=user)
            else:
                drafts.update_row(draft, index, form.row(), user=user, fields=RowForm.ROW_FIELDS)
        except DraftError as exc:
            form.add_error(None, _message(exc))
        else:
            messages.success(request, _("Đã lưu dòng."))
            if "again" in request.POST:
                return redirect("dossiers:row_add", pk=draft.pk)
            return redirect(reverse("dossiers:compose", kwargs={"pk": draft.pk}) + "#bang")
    found = []
    if index is not None:
        found = [
            f
            for f in draft.findings
            if (f.get("location") or {}).get("form") == drafts.D02
            and (f.get("location") or {}).get("row") == index + 1
        ]
    return render(
        request,
        "dossiers/row.html",
        {
            "draft": draft,
            "form": form,
            "index": index,
            "number": (index or 0) + 1,
            "findings": found,
        },
    )


@login_required
@require_POST
def row_delete(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    return _post_action(
        request,
        pk,
        lambda user, draft: drafts.delete_row(draft, index, user=user),
        _("Đã xoá dòng."),
    )


@login_required
def registry(request: HttpRequest, pk: int) -> HttpResponse:
    """Pick people of the unit's registry; each becomes a prefilled row."""
    user, draft = _draft(request, pk)
    if not drafts.may(user, draft.unit, drafts.PREPARE_ROLES):
        raise PermissionDenied
    employments = list(
        Employment.objects.filter(unit=draft.unit, end_month__isnull=True)
        .select_related("participant")
        .order_by("participant__full_name")
    )
    already = {row.get("bhxh_code") for row in draft.rows if row.get("bhxh_code")} | {
        row.get("personal_id") for row in draft.rows if row.get("personal_id")
    }
    choices = [(e.pk, e.participant.full_name) for e in employments]
    form = RegistryForm(request.POST or None, choices=choices)
    if request.method == "POST" and form.is_valid():
        try:
            drafts.add_from_registry(
                draft, form.cleaned_data["employments"], form.cleaned_data["pa"], user=user
            )
        except DraftError as exc:
            form.add_error(None, _message(exc))
        else:
            messages.success(
                request,
                _("Đã thêm %(n)d người từ danh sách lao động.")
                % {"n": len(form.cleaned_data["employments"])},
            )
            return redirect(reverse("dossiers:compose", kwargs={"pk": draft.pk}) + "#bang")
    people = [
        {
            "employment": e,
            "checked": str(e.pk) in (request.POST.getlist("employments") if request.POST else []),
            "in_draft": (e.participant.bhxh_code or e.participant.personal_id) in already,
        }
        for e in employments
    ]
    return render(
        request, "dossiers/registry.html", {"draft": draft, "form": form, "people": people}
    )


@login_required
def attach(request: HttpRequest, pk: int) -> HttpResponse:
    user, draft = _draft(request, pk)
    form = AttachForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = drafts.attach(draft, upload.name, upload.read(), user=user)
        except DraftError as exc:
            form.add_error("file", _message(exc))
        else:
            draft.refresh_from_db()
            if result.record is not None:
                form = AttachForm()
    context = _draft_context(user, draft)
    context.update(
        form=form,
        result=result,
        result_groups=group_findings(result.findings) if result else [],
        attachments=[
            {"index": i, "item": item, "groups": group_findings(item.get("findings", []))}
            for i, item in enumerate(draft.attachments)
        ],
    )
    return render(request, "dossiers/attach.html", context)


@login_required
@require_POST
def detach(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    user, draft = _draft(request, pk)
    try:
        drafts.remove_attachment(draft, index, user=user)
    except DraftError as exc:
        messages.error(request, _message(exc))
    return redirect("dossiers:attach", pk=pk)


@login_required
@require_POST
def ready(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request,
        pk,
        lambda user, draft: drafts.mark_ready(draft, user=user),
        _("Đã trình ký. Người ký của đơn vị sẽ ký và gửi hồ sơ."),
    )


@login_required
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReturnForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _post_action(
        request,
        pk,
        lambda user, draft: drafts.reopen(draft, user=user, reason=reason),
        _("Hồ sơ đã trở lại trạng thái đang soạn."),
    )


@login_required
@require_POST
def draft_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request, pk, lambda user, draft: drafts.delete(draft, user=user), _("Đã xoá hồ sơ nháp.")
    )


# --------------------------------------------------------------------------- signing


@login_required
def sign(request: HttpRequest, pk: int) -> HttpResponse:
    """The signing page: the signer signs each form and the envelope with the token through the
    local signing agent (signing.js), or, for a procedure without a signature, asks for a code."""
    user, draft = _draft(request, pk)
    if draft.status == DraftStatus.SUBMITTED and draft.dossier is not None:
        return redirect("dossiers:detail", tracking_id=draft.dossier.tracking_id)
    if draft.status != DraftStatus.AWAITING_SIGNATURE:
        return redirect("dossiers:compose", pk=pk)
    context = _draft_context(user, draft)
    forms, _problems = drafts.unsigned_forms(draft)
    context.update(
        agent_url=settings.SIGNING_AGENT_URL,
        documents=[name for _code, name, _data in forms],
        use_code=drafts.may_use_code(draft),
        has_certificate=draft.unit.certificates.filter(status="active").exists(),
        code_address=_masked(drafts.code_address(draft)),
    )
    return render(request, "dossiers/sign.html", context)


def _masked(email: str) -> str:
    name, _at, domain = email.partition("@")
    return f"{name[:2]}{'•' * max(1, len(name) - 2)}@{domain}"


def _json_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def _step_json(pk: int, step: drafts.SignStep | Dossier) -> JsonResponse:
    if isinstance(step, Dossier):
        return JsonResponse(
            {"next": reverse("dossiers:detail", kwargs={"tracking_id": step.tracking_id})}
        )
    return JsonResponse(
        {
            "id": step.id,
            "document": base64.b64encode(step.document).decode("ascii"),
            "container": step.container,
            "reference": step.reference,
        }
    )


def _agent_call(
    request: HttpRequest,
    pk: int,
    field: str,
    step: Callable[[User, Draft, dict[str, Any], bytes], Any],
) -> JsonResponse:
    user, draft = _draft(request, pk)
    try:
        payload = json.loads(request.body or b"{}")
        data = base64.b64decode(payload[field], validate=True)
        if not isinstance(payload.get("id", ""), str):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error):
        return _json_error("DRAFT-BAD-REQUEST", _("Yêu cầu không hợp lệ."), 400)
    try:
        return _step_json(pk, step(user, draft, payload, data))
    except DraftError as exc:
        status = 403 if exc.code == "DRAFT-ROLE" else 422
        return _json_error(exc.code, _message(exc), status)
    except IntakeError as exc:
        return _json_error(exc.code, _message(exc), exc.status)


@login_required
@require_POST
def sign_certificate(request: HttpRequest, pk: int) -> JsonResponse:
    """JSON for signing.js: the chosen certificate in, the first document to sign out."""
    return _agent_call(
        request,
        pk,
        "certificate",
        lambda user, draft, _p, der: drafts.begin_signing(draft, der, user=user),
    )


@login_required
@require_POST
def sign_signed(request: HttpRequest, pk: int) -> JsonResponse:
    """JSON for signing.js: a signed document in; the next document, or where to go once the
    envelope is signed and the dossier submitted."""
    return _agent_call(
        request,
        pk,
        "signed",
        lambda user, draft, payload, data: drafts.accept_signed(
            draft, payload.get("id", ""), data, user=user
        ),
    )


@login_required
def code(request: HttpRequest, pk: int) -> HttpResponse:
    """Submit without a signature (procedures that allow it): a code e-mailed to the unit."""
    from ebhxh.notify.ratelimits import check, too_many_requests

    user, draft = _draft(request, pk)
    if draft.status != DraftStatus.AWAITING_SIGNATURE:
        return redirect("dossiers:compose", pk=pk)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and "send" in request.POST:
        exceeded = check("code", request, identifier=drafts.code_address(draft))
        if exceeded is not None:
            return too_many_requests(request, exceeded)
        try:
            drafts.send_code(draft, user=user)
        except DraftError as exc:
            messages.error(request, _message(exc))
            return redirect("dossiers:sign", pk=pk)
        messages.info(request, _("Đã gửi mã xác nhận tới email của đơn vị."))
        return redirect("dossiers:code", pk=pk)
    if request.method == "POST" and form.is_valid():
        try:
            dossier = drafts.submit_with_code(draft, form.cleaned_data["code"], user=user)
        except DraftError as exc:
            form.add_error("code", _message(exc))
        except IntakeError as exc:
            form.add_error(None, _message(exc))
        else:
            return redirect("dossiers:detail", tracking_id=dossier.tracking_id)
    return render(
        request,
        "dossiers/code.html",
        {"draft": draft, "form": form, "address": _masked(drafts.code_address(draft))},
    )
