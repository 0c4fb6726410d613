"""The back office (issue 7 items 1–3, 6; docs/processing.md "Back office"): the officers' queues
with filters, search, near-due and overdue lists; the dossier page (forms as tables, findings,
attachments, signatures, timeline, messages) and one POST per workflow action.

Only agency officers get here (403 for anyone else); a dossier outside the officer's scope
(`services.can_see`) is 404. The buttons come from the table in `workflow.py`; the services
remain the authority and their coded refusals are shown as they are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from ebhxh.accounts.models import Role, User
from ebhxh.declarations.envelope import EnvelopeFile, decode_envelope
from ebhxh.declarations.findings import DeclarationError
from ebhxh.declarations.forms import FORMS, Month, PartialDate
from ebhxh.declarations.xmlcodec import decode
from ebhxh.dossiers import blobs
from ebhxh.dossiers.content import sniff
from ebhxh.dossiers.models import Dossier
from ebhxh.lib.workdays import add_working_days
from ebhxh.processing import services, workflow
from ebhxh.processing.forms import (
    AcceptForm,
    AssignForm,
    CompleteForm,
    ForwardForm,
    MessageForm,
    NoteForm,
    QueueFilterForm,
    SearchForm,
    SupplementFormSet,
    SupplementNoteForm,
)
from ebhxh.processing.models import Case, Department, Stage
from ebhxh.processing.services import ProcessingError
from ebhxh.processing.workflow import Action, Party

PAGE_SIZE = 50
FORM_ROWS_SHOWN = 500  # rows of one form shown on the page; the rest are counted
Tab = tuple[str, str]

# URL slug of each action an officer takes on the dossier page.
SLUGS: dict[str, Action] = {
    "tiep-nhan": Action.ACCEPT,
    "yeu-cau-bo-sung": Action.REQUEST_SUPPLEMENT,
    "phan-cong": Action.ASSIGN,
    "phan-cong-lai": Action.REASSIGN,
    "chuyen-phong": Action.FORWARD,
    "hoan-thanh": Action.COMPLETE,
    "tra-ket-qua": Action.RETURN_RESULT,
    "ket-thuc": Action.CLOSE,
}
SLUG_OF = {action: slug for slug, action in SLUGS.items()}

# Content kinds (ebhxh.dossiers.content.sniff) shown in the page; everything else downloads.
PREVIEW_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
DOWNLOAD_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xml": "application/xml",
}

# D02-TS columns shown on the officer's page: (field, heading). The other fields are in the
# row's detail (the generic table) when the officer opens it.
D02_COLUMNS: tuple[str, ...] = (
    "stt",
    "pa",
    "full_name",
    "bhxh_code",
    "birth_date",
    "gender",
    "personal_id",
    "position",
    "salary",
    "allowance_position",
    "allowance_other",
    "from_month",
    "to_month",
    "note",
)


def _vi() -> bool:
    return (get_language() or "vi").startswith("vi")


def error_text(exc: ProcessingError) -> str:
    """A refusal as the officer reads it: the coded message in the page's language, and for a
    registry refusal the registry's own reason."""
    text = f"{exc.message_vi if _vi() else exc.message_en} [{exc.code}]"
    if exc.code == "PRC-REGISTRY" and exc.detail:
        from ebhxh.units import registry

        code, _sep, rest = exc.detail.partition(":")
        known = registry.error_codes().get(code.strip())
        if known:
            reason = known[0] if _vi() else known[1]
            rest = rest.strip()
            extra = f" ({rest})" if rest and rest != "None" else ""
            text = f"{text} — {reason} [{code.strip()}]{extra}"
    return text


# --------------------------------------------------------------------------- access


def _officer(request: HttpRequest) -> User:
    """The logged-in agency officer (403 for units, system users and anyone else)."""
    user = request.user
    if not isinstance(user, User) or not user.is_officer or user.agency_id is None:
        raise PermissionDenied
    return user


def _case(officer: User, pk: int) -> Case:
    case = get_object_or_404(
        Case.objects.select_related("dossier", "unit", "agency", "assigned_to"), pk=pk
    )
    if not services.can_see(officer, case):
        raise Http404
    return case


def allowed_actions(officer: User, case: Case) -> list[Action]:
    """The agency actions the table allows this officer on this case now."""
    out = []
    for t in workflow.TRANSITIONS:
        if t.source != case.stage or t.party is not Party.AGENCY:
            continue
        if not officer.has_role(*workflow.roles_for(t, case.department)):
            continue
        if t.assignee_only and case.assigned_to_id != officer.pk:
            continue
        out.append(t.action)
    return out


# --------------------------------------------------------------------------- queues


def _tabs(officer: User) -> list[Tab]:
    tabs: list[Tab] = [("tiep-nhan", _("Bộ phận một cửa"))]
    tabs += [(d.value, str(d.label)) for d in Department]
    tabs += [("cua-toi", _("Hồ sơ của tôi")), ("tat-ca", _("Tất cả"))]
    return tabs


def default_tab(officer: User) -> str:
    """Supervisors see every queue of their agencies; the desk its own; a department officer
    their department's."""
    if officer.has_role(Role.SUPERVISOR):
        return "tat-ca"
    if officer.has_role(Role.DESK):
        return "tiep-nhan"
    for d in Department:
        if officer.has_role(d.value):
            return d.value
    return "tat-ca"


def _tab_filter(tab: str, officer: User) -> dict[str, Any]:
    if tab == "tiep-nhan":
        return {"status": [Stage.DESK, Stage.RESULT]}
    if tab in Department.values:
        return {"department": tab, "status": [Stage.ROUTED, Stage.ASSIGNED]}
    return {}


def _rows(cases: Any, now: dt.datetime) -> list[dict[str, Any]]:
    out = []
    for case in cases:
        left = services.remaining(case, now)
        tone = ""
        if left is not None and not left.paused:
            tone = "overdue" if left.overdue else ("near" if left.days <= 1 else "")
        out.append({"case": case, "remaining": left, "tone": tone})
    return out


def _page(request: HttpRequest, qs: QuerySet[Case]) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("trang"))


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("trang", None)
    return params.urlencode()


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    officer = _officer(request)
    now = timezone.now()
    search = SearchForm(request.GET or None)
    text = search.data.get("q", "").strip() if search.is_bound and search.is_valid() else ""
    tabs = _tabs(officer)
    tab = request.GET.get("tab") or default_tab(officer)
    if tab not in {key for key, _label in tabs}:
        tab = default_tab(officer)
    form = QueueFilterForm(request.GET or None)
    if text:
        qs = services.search(officer, text)
        title = _("Kết quả tìm kiếm")
    else:
        kwargs = _tab_filter(tab, officer)
        if form.is_valid():
            data = form.cleaned_data
            if data["stage"]:
                kwargs["status"] = data["stage"]
            if data["procedure"]:
                kwargs["procedure"] = data["procedure"].strip()
            if data["unit"]:
                kwargs["unit"] = data["unit"]
            if data["due_before"]:
                kwargs["due_before"] = data["due_before"]
            if data["overdue"]:
                kwargs["overdue"] = data["overdue"] == "1"
        qs = services.queue(officer, now=now, **kwargs)
        if tab == "cua-toi":
            qs = qs.filter(assigned_to=officer)
        title = dict(tabs)[tab]
    page = _page(request, qs)
    return render(
        request,
        "processing/queue.html",
        {
            "tabs": tabs,
            "tab": tab,
            "form": form,
            "search": search,
            "searching": bool(text),
            "title": title,
            "page": page,
            "rows": _rows(page, now),
            "query": _query_without_page(request),
            "counts": _counts(officer, now),
        },
    )


def _deadline_qs(officer: User, kind: str, now: dt.datetime) -> QuerySet[Case]:
    counting = sorted(workflow.COUNTING)
    if kind == "overdue":
        return services.queue(officer, status=counting, overdue=True, now=now)
    today = timezone.localdate(now)
    return services.queue(
        officer,
        status=counting,
        overdue=False,
        due_before=add_working_days(today, 1),
        now=now,
    )


def _counts(officer: User, now: dt.datetime) -> dict[str, int]:
    return {
        "near": _deadline_qs(officer, "near", now).count(),
        "overdue": _deadline_qs(officer, "overdue", now).count(),
    }


@login_required
def deadlines(request: HttpRequest, kind: str) -> HttpResponse:
    """Near-due (due today or the next working day) and overdue dossiers in the officer's
    scope, most urgent first."""
    officer = _officer(request)
    now = timezone.now()
    page = _page(request, _deadline_qs(officer, kind, now))
    title = _("Hồ sơ quá hạn") if kind == "overdue" else _("Hồ sơ sắp đến hạn")
    return render(
        request,
        "processing/deadlines.html",
        {
            "kind": kind,
            "title": title,
            "page": page,
            "rows": _rows(page, now),
            "query": "",
            "counts": _counts(officer, now),
        },
    )


# --------------------------------------------------------------------------- the dossier


def _text(value: Any, name: str = "") -> str:
    """A form value for a person: dates dd/mm/yyyy, money with dot thousands, yes/no."""
    if value is None:
        return ""
    if name == "gender" and value in ("0", "1"):
        return _("Nam") if value == "1" else _("Nữ")
    if isinstance(value, Month | PartialDate):
        return str(value)
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and abs(value) >= 1000:
            return f"{int(value):,}".replace(",", ".")
        return str(value).replace(".", ",")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = [
            f"{_label(f)}: {_text(getattr(value, f.name), f.name)}"
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None
        ]
        return "; ".join(parts)
    return str(value)


def _label(f: dataclasses.Field[Any]) -> str:
    return str(f.metadata.get("label_vi" if _vi() else "label_en") or f.name)


def _table_of(form: Any, file: EnvelopeFile) -> dict[str, Any]:
    spec = FORMS[file.form_code or ""]
    header = [
        (_label(f), _text(getattr(form.header, f.name), f.name))
        for f in dataclasses.fields(form.header)
        if getattr(form.header, f.name) not in (None, "")
    ]
    rows = list(form.rows)
    columns: list[dataclasses.Field[Any]] = []
    if spec.row_class is not None and rows:
        by_name = {f.name: f for f in dataclasses.fields(spec.row_class)}
        if spec.code == "D02-TS":
            columns = [by_name[n] for n in D02_COLUMNS if n in by_name]
        else:  # every column that has a value in some row
            columns = [f for f in by_name.values() if any(getattr(r, f.name) for r in rows)]
    shown = rows[:FORM_ROWS_SHOWN]
    return {
        "code": spec.code,
        "title": spec.title_vi if _vi() else spec.title_en,
        "file": file.file_name or "",
        "header": header,
        "columns": [_label(f) for f in columns],
        "rows": [[_text(getattr(r, f.name), f.name) for f in columns] for r in shown],
        "total": len(rows),
        "hidden": max(0, len(rows) - len(shown)),
    }


def read_dossier(dossier: Dossier) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """The forms of the stored envelope as tables, its other files as attachments (kind by
    content), and a problem text when the envelope cannot be read."""
    try:
        data = blobs.get_verified(dossier.blob, dossier.sha256)
        envelope, _found = decode_envelope(data, max_bytes=len(data) + 1)
    except (DeclarationError, OSError, ValueError) as exc:
        return [], [], str(exc)
    tables: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    for index, file in enumerate(envelope.files):
        content = file.content or b""
        declared = (file.file_type or "").lower()
        is_form = file.form_code in FORMS and declared in ("", ".xml")
        if is_form:
            try:
                form, _f = decode(content, expect=file.form_code, max_bytes=len(content) + 1)
            except DeclarationError:
                is_form = False
            else:
                tables.append(_table_of(form, file))
                continue
        kind = sniff(content) if content else None
        attachments.append(
            {
                "index": index,
                "name": file.file_name or f"tep-{index + 1}",
                "description": file.description or "",
                "declared": declared,
                "kind": kind or "",
                "size": len(content),
                "preview": "image" if kind in ("jpeg", "png") else ("pdf" if kind == "pdf" else ""),
            }
        )
    return tables, attachments, ""


def _when(text: Any) -> dt.datetime | None:
    """An ISO-8601 time of the verification report, in local time (None when absent)."""
    value = parse_datetime(text) if isinstance(text, str) else None
    if value is None:
        return None
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _signatures(dossier: Dossier) -> list[dict[str, Any]]:
    out = []
    for name, report in (dossier.verification.get("documents") or {}).items():
        cert = report.get("certificate") or {}
        signer = cert.get("signer") or {}
        revocation = cert.get("revocation") or []
        out.append(
            {
                "name": name,
                "valid": report.get("valid"),
                "code": report.get("code"),
                "message": report.get("message_vi" if _vi() else "message_en") or "",
                "signing_time": _when((report.get("signature") or {}).get("signing_time")),
                "checked_at": _when(report.get("checked_at")),
                "subject": signer.get("subject", ""),
                "issuer": signer.get("issuer", ""),
                "serial": signer.get("serial", ""),
                "not_before": _when(signer.get("not_before")),
                "not_after": _when(signer.get("not_after")),
                "tax_code": signer.get("tax_code"),
                "registered": cert.get("registered"),
                "revocation": revocation,
                "warnings": cert.get("warnings") or [],
                "chain": cert.get("chain") or [],
            }
        )
    return out


def _assignees(case: Case) -> QuerySet[User]:
    return (
        User.objects.filter(
            kind=User.Kind.AGENCY,
            agency_id=case.agency_id,
            is_active=True,
            roles__role=case.department,
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def _action_forms(
    officer: User, case: Case, actions: list[Action], bound: dict[Action, Any]
) -> dict[str, Any]:
    forms: dict[str, Any] = {}
    for action in actions:
        if action in bound:
            forms[action.value] = bound[action]
            continue
        if action is Action.ACCEPT:
            forms[action.value] = AcceptForm(
                initial={"department": services.route(case.procedure_code)}
            )
        elif action is Action.REQUEST_SUPPLEMENT:
            forms[action.value] = (SupplementFormSet(prefix="items"), SupplementNoteForm())
        elif action in (Action.ASSIGN, Action.REASSIGN):
            officers = _assignees(case)
            initial = officer if officers.filter(pk=officer.pk).exists() else None
            forms[action.value] = AssignForm(officers=officers, initial={"assignee": initial})
        elif action is Action.FORWARD:
            forms[action.value] = ForwardForm(current=case.department)
        elif action is Action.COMPLETE:
            forms[action.value] = None  # built with the registry plan
        else:
            forms[action.value] = NoteForm()
    return forms


def _registry_plan(case: Case) -> tuple[Any, str]:
    """Procedure 600: the registry plan the officer reviews before completing; (None, "") for
    other procedures, (None, message) when it cannot be made."""
    from ebhxh.units import registry

    if case.procedure_code not in registry.PROCEDURES:
        return None, ""
    try:
        return registry.plan(case.dossier), ""
    except registry.RegistryError as exc:
        return None, f"{exc.message_vi if _vi() else exc.message_en} [{exc.code}]"


def _change_labels() -> dict[str, str]:
    """What a registry plan's change does, for the officer."""
    return {
        "create_participant": _("Thêm người tham gia mới"),
        "update_participant": _("Sửa thông tin người tham gia"),
        "start_employment": _("Bắt đầu quá trình đóng"),
        "change_employment": _("Điều chỉnh quá trình đóng"),
    }


def _plan_view(plan: Any) -> dict[str, Any]:
    from ebhxh.units import registry

    labels = _change_labels()
    rows = []
    for row in plan.rows:
        rows.append(
            {
                "id": row.id,
                "pa": row.pa,
                "name": row.full_name,
                "code": row.bhxh_code or row.personal_id,
                "changes": [
                    labels.get(c.get("action", ""), c.get("action", "")) for c in row.changes
                ],
                "conflicts": [
                    {
                        "id": c.id,
                        "code": c.code,
                        "message": c.message_vi if _vi() else c.message_en,
                        "apply": c.if_accepted == "apply",
                    }
                    for c in row.conflicts
                ],
            }
        )
    return {
        "fingerprint": plan.fingerprint,
        "rows": rows,
        "summary": [(labels.get(k, k), n) for k, n in sorted(registry.summary(plan).items())],
        "conflicts": len(plan.conflicts),
    }


def _detail(
    request: HttpRequest,
    officer: User,
    case: Case,
    *,
    bound: dict[Action, Any] | None = None,
    error: str = "",
    status: int = 200,
    message_form: MessageForm | None = None,
) -> HttpResponse:
    from ebhxh.dossiers.views import group_findings

    dossier = case.dossier
    actions = allowed_actions(officer, case)
    forms = _action_forms(officer, case, actions, bound or {})
    plan_context: dict[str, Any] = {}
    if Action.COMPLETE in actions:
        plan, plan_error = _registry_plan(case)
        conflicts = [c.id for c in plan.conflicts] if plan is not None else []
        if forms[Action.COMPLETE.value] is None:
            forms[Action.COMPLETE.value] = CompleteForm(
                conflicts=conflicts,
                initial={"fingerprint": plan.fingerprint if plan is not None else ""},
            )
        plan_context = {
            "plan": _plan_view(plan) if plan is not None else None,
            "plan_error": plan_error,
            "is_600": plan is not None or bool(plan_error),
        }
    tables, attachments, unreadable = read_dossier(dossier)
    context = {
        "case": case,
        "dossier": dossier,
        "remaining": services.remaining(case),
        "tables": tables,
        "attachments": attachments,
        "unreadable": unreadable,
        "groups": group_findings(dossier.findings),
        "counts": services_findings(dossier),
        "signatures": _signatures(dossier),
        "signature_required": dossier.verification.get("signature_required"),
        "timeline": services.timeline(case, viewer=officer),
        "thread": case.messages.select_related("author"),
        "message_form": message_form or MessageForm(),
        "can_message": case.stage not in workflow.TERMINAL,
        "actions": [
            {"action": a, "slug": SLUG_OF[a], "label": _action_label(a), "form": forms[a.value]}
            for a in actions
        ],
        "error": error,
        "result": _result_of(case),
        **plan_context,
    }
    return render(request, "processing/detail.html", context, status=status)


def _result_of(case: Case) -> Any:
    """The recorded result (03/TB-TS), when the case has one."""
    try:
        return case.result  # type: ignore[attr-defined]
    except (AttributeError, ObjectDoesNotExist):
        return None


def services_findings(dossier: Dossier) -> dict[str, int]:
    from ebhxh.dossiers.services import findings_summary

    return findings_summary(dossier.findings)


def _action_label(action: Action) -> str:
    from ebhxh.processing.models import Action as ActionChoices

    return str(ActionChoices(action.value).label)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    officer = _officer(request)
    return _detail(request, officer, _case(officer, pk))


def _items(formset: Any) -> list[dict[str, str]]:
    return [
        {k: f.cleaned_data.get(k, "") for k in ("subject", "issue", "guidance")}
        for f in formset.forms
        if f.is_valid() and not f.is_blank()
    ]


def _bind(action: Action, request: HttpRequest, officer: User, case: Case) -> tuple[Any, Any]:
    """The action's bound form, and the call of its service when the form is valid (else None)."""
    post = request.POST
    form: Any
    if action is Action.ACCEPT:
        form = AcceptForm(post)
        if not form.is_valid():
            return form, None
        data = form.cleaned_data
        return form, lambda: services.accept(
            case, actor=officer, department=data["department"], note=data["note"]
        )
    if action is Action.REQUEST_SUPPLEMENT:
        formset = SupplementFormSet(post, prefix="items")
        note = SupplementNoteForm(post)
        if not (formset.is_valid() and note.is_valid()):
            return (formset, note), None
        return (formset, note), lambda: services.request_supplement(
            case, actor=officer, items=_items(formset), note=note.cleaned_data["note"]
        )
    if action in (Action.ASSIGN, Action.REASSIGN):
        form = AssignForm(post, officers=_assignees(case))
        if not form.is_valid():
            return form, None
        data = form.cleaned_data
        call = services.assign if action is Action.ASSIGN else services.reassign
        return form, lambda: call(case, actor=officer, assignee=data["assignee"], note=data["note"])
    if action is Action.FORWARD:
        form = ForwardForm(post, current=case.department)
        if not form.is_valid():
            return form, None
        data = form.cleaned_data
        return form, lambda: services.forward(
            case, actor=officer, department=data["department"], note=data["note"]
        )
    if action is Action.COMPLETE:
        return _bind_complete(request, officer, case)
    form = NoteForm(post)
    if not form.is_valid():
        return form, None
    finish = services.return_result if action is Action.RETURN_RESULT else services.close
    return form, lambda: finish(case, actor=officer, note=form.cleaned_data["note"])


def _bind_complete(request: HttpRequest, officer: User, case: Case) -> tuple[Any, Any]:
    plan, _error = _registry_plan(case)
    conflicts = [c.id for c in plan.conflicts] if plan is not None else []
    form = CompleteForm(request.POST, request.FILES, conflicts=conflicts)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data

    def call() -> Any:
        registry_plan = None
        if plan is not None:
            if data["fingerprint"] != plan.fingerprint:
                # The registry changed since the officer looked: refuse; the page shows the
                # new plan (the form is rebuilt from it).
                raise ProcessingError("PRC-REGISTRY", detail="RGY-PLAN-STALE")
            registry_plan = plan.as_dict()
        return services.complete(
            case,
            actor=officer,
            result=data["result"],
            note=data["note"],
            registry_plan=registry_plan,
            accept_conflicts=set(data["accept"]),
            outcome=data["outcome"] or None,
            refused_items=data["refused_lines"],
            documents=[(f.name, f.read()) for f in data["documents"]],
        )

    return form, call


DONE = {
    Action.ACCEPT: gettext_lazy("Đã tiếp nhận và chuyển hồ sơ đến phòng giải quyết."),
    Action.REQUEST_SUPPLEMENT: gettext_lazy("Đã gửi yêu cầu bổ sung cho đơn vị."),
    Action.ASSIGN: gettext_lazy("Đã phân công cán bộ xử lý."),
    Action.REASSIGN: gettext_lazy("Đã phân công lại cán bộ xử lý."),
    Action.FORWARD: gettext_lazy("Đã chuyển hồ sơ sang phòng khác."),
    Action.COMPLETE: gettext_lazy(
        "Đã hoàn thành giải quyết; kết quả được chuyển về bộ phận một cửa."
    ),
    Action.RETURN_RESULT: gettext_lazy("Đã trả kết quả cho đơn vị."),
    Action.CLOSE: gettext_lazy("Đã kết thúc hồ sơ."),
}


@login_required
@require_POST
def act(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    officer = _officer(request)
    case = _case(officer, pk)
    action = SLUGS.get(slug)
    if action is None:
        raise Http404
    form, call = _bind(action, request, officer, case)
    if call is None:
        return _detail(
            request,
            officer,
            case,
            bound={Action(action): form},
            error=_("Thông tin chưa hợp lệ, xem các ô được đánh dấu."),
            status=400,
        )
    try:
        call()
    except ProcessingError as exc:
        # a refused completion gets a new form from the current plan
        bound: dict[Action, Any] = {} if action is Action.COMPLETE else {action: form}
        case = _case(officer, pk)
        return _detail(
            request, officer, case, bound=bound, error=error_text(exc), status=exc.status
        )
    messages.success(request, str(DONE[action]))
    return redirect("processing:detail", pk=case.pk)


@login_required
@require_POST
def message(request: HttpRequest, pk: int) -> HttpResponse:
    officer = _officer(request)
    case = _case(officer, pk)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            services.post_message(case, actor=officer, body=form.cleaned_data["body"])
        except ProcessingError as exc:
            return _detail(
                request,
                officer,
                case,
                error=error_text(exc),
                status=exc.status,
                message_form=form,
            )
        messages.success(request, _("Đã gửi tin nhắn cho đơn vị."))
        return redirect("processing:detail", pk=case.pk)
    return _detail(
        request,
        officer,
        case,
        error=error_text(ProcessingError("PRC-MESSAGE")),
        status=422,
        message_form=form,
    )


@login_required
@xframe_options_sameorigin
def attachment(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """The bytes of one file of the envelope, to officers of the agency only. The content type
    comes from the content (`sniff`), never from the file's name: PDF and images are shown in
    the page, everything else is downloaded."""
    officer = _officer(request)
    case = _case(officer, pk)
    dossier = case.dossier
    try:
        data = blobs.get_verified(dossier.blob, dossier.sha256)
        envelope, _found = decode_envelope(data, max_bytes=len(data) + 1)
        file = envelope.files[index]
    except (DeclarationError, OSError, ValueError, IndexError):
        raise Http404 from None
    content = file.content or b""
    kind = sniff(content) if content else None
    inline = kind in PREVIEW_TYPES and "tai" not in request.GET
    content_type = (
        PREVIEW_TYPES.get(kind or "")
        or DOWNLOAD_TYPES.get(kind or "")
        or "application/octet-stream"
    )
    response = HttpResponse(content, content_type=content_type)
    name = file.file_name or f"tep-{index + 1}"
    response["Content-Disposition"] = content_disposition_header(not inline, name) or ""
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if kind in ("jpeg", "png"):
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'"
    return response
