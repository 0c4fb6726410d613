"""Agency processing (issue 7): every write on a case, and the queries of the back office.

One function per action of the table in `workflow.py`. Each one, in one transaction: locks the
dossier row then the case row (always in that order, as the intake's `withdraw` does, so the two
never deadlock), looks the action up in the table (PRC-TRANSITION when the table has no row),
checks the actor's scope (officers: their agency's dossiers, a supervisor also the agencies under
it; units: their own) and role (PRC-SCOPE, PRC-ROLE, PRC-NOT-ASSIGNEE), applies it, writes a
`Step`, a unit-visible `DossierEvent` when the table says so, sets `Dossier.status` from the
table's stage mapping, appends the audit event, and queues the e-mail (sent after COMMIT by
`ebhxh.notify.mail.send`).

Time limits (docs/processing.md): the due date starts as the appointment date of the receipt;
a supplement request stops the clock and the working days the unit took to answer are added to
the due date when the supplement arrives. `remaining()` gives working days and office hours left
for a queue row; `near_due()` and `overdue()` list cases; `daily_digest()` e-mails supervisors.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from ebhxh.accounts.models import Role, User
from ebhxh.audit.services import record_event
from ebhxh.catalog.models import Agency, Procedure
from ebhxh.dossiers.models import Dossier, DossierEvent, Status
from ebhxh.lib.workdays import add_working_days, is_working_day, working_days_between
from ebhxh.processing import workflow
from ebhxh.processing.models import (
    Action,
    Case,
    Department,
    Message,
    Outcome,
    Result,
    Routing,
    Stage,
    Step,
    SupplementRequest,
)
from ebhxh.processing.workflow import Party, Transition
from ebhxh.units.models import Unit

# Office hours of the agency, for the hours part of the remaining time ("Còn 0 ngày 1 giờ").
OFFICE_OPENS = dt.time(8, 0)
OFFICE_CLOSES = dt.time(17, 0)
# The daily digest goes out at the first run of the (hourly) task after this local hour.
DIGEST_HOUR = 7
DIGEST_OVERDUE_ROWS = 50
MESSAGE_MAX = 4000
GUIDANCE_MAX_ITEMS = 100


class ProcessingError(Exception):
    """An action refused: stable code, Vietnamese and English, and the HTTP status to answer."""

    def __init__(self, code: str, *, status: int | None = None, detail: str = "") -> None:
        with override("vi"):  # message_vi stays Vietnamese whatever the request's language
            vi, en, default_status = error_codes()[code]
        super().__init__(f"{code}: {en}" + (f" ({detail})" if detail else ""))
        self.code = code
        self.message_vi = vi
        self.message_en = en
        self.status = status or default_status
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message_vi": self.message_vi, "message_en": self.message_en}


def error_codes() -> dict[str, tuple[str, str, int]]:
    """Codes of refused actions (docs/processing.md): Vietnamese, English, HTTP status."""
    return {
        "PRC-TRANSITION": (
            _("Thao tác này không được phép ở bước hiện tại của hồ sơ."),
            "This action is not allowed at the dossier's current step.",
            409,
        ),
        "PRC-ROLE": (
            _("Vai trò của bạn không được thực hiện thao tác này."),
            "Your role does not allow this action.",
            403,
        ),
        "PRC-SCOPE": (
            _("Hồ sơ không thuộc phạm vi của bạn."),
            "This dossier is outside your scope (another agency's or another unit's).",
            403,
        ),
        "PRC-NOT-ASSIGNEE": (
            _("Chỉ cán bộ được phân công xử lý hồ sơ mới thực hiện được thao tác này."),
            "Only the officer assigned to the dossier may do this.",
            403,
        ),
        "PRC-ASSIGNEE": (
            _("Cán bộ được phân công phải thuộc cơ quan BHXH và phòng đang giải quyết hồ sơ."),
            "The officer assigned must belong to the dossier's agency and department.",
            422,
        ),
        "PRC-DEPARTMENT": (
            _("Phòng giải quyết không hợp lệ."),
            "Not a valid department for this dossier.",
            422,
        ),
        "PRC-GUIDANCE": (
            _("Yêu cầu bổ sung phải nêu ít nhất một nội dung kèm hướng dẫn bổ sung."),
            "A supplement request needs at least one item with guidance.",
            422,
        ),
        "PRC-SUPPLEMENT": (
            _(
                "Hồ sơ bổ sung phải là hồ sơ đã được tiếp nhận của cùng đơn vị và chưa gắn với "
                "hồ sơ nào khác."
            ),
            "A supplement must be a received dossier of the same unit, not attached elsewhere.",
            422,
        ),
        "PRC-NOT-RECEIVED": (
            _("Hồ sơ chưa được tiếp nhận."),
            "The dossier has not been received.",
            409,
        ),
        "PRC-WITHDRAWN": (
            _("Đơn vị đã rút hồ sơ này."),
            "The unit has withdrawn this dossier.",
            409,
        ),
        "PRC-MESSAGE": (
            _("Tin nhắn không được để trống và không dài quá 4000 ký tự."),
            "A message must not be empty or longer than 4000 characters.",
            422,
        ),
        "PRC-CLOSED": (
            _("Hồ sơ đã kết thúc."),
            "The dossier is closed.",
            409,
        ),
        "PRC-RESULT": (
            _(
                "Kết quả giải quyết không hợp lệ: kết quả phải khớp với các nội dung chấp nhận và "
                "không chấp nhận, mỗi nội dung không chấp nhận phải nêu lý do (xem chi tiết)."
            ),
            "The result is not valid: the outcome must match the accepted and refused items, "
            "and every refused item needs a reason (see the detail).",
            422,
        ),
        "PRC-RESULT-DOCUMENT": (
            _(
                "Tài liệu kết quả không được chấp nhận: tệp rỗng, quá lớn, trùng tên hoặc không "
                "phải pdf, jpg, png, xlsx, docx, xml (xem chi tiết)."
            ),
            "A result document is not accepted: empty, too large, a duplicate name, or not pdf, "
            "jpg, png, xlsx, docx or xml (see the detail).",
            422,
        ),
        "PRC-REGISTRY": (
            _(
                "Chưa cập nhật được danh sách người tham gia: còn xung đột chưa xử lý hoặc dữ liệu "
                "đã thay đổi (xem chi tiết)."
            ),
            "The participant registry could not be updated: unresolved conflicts, or the data "
            "changed (see the detail).",
            409,
        ),
    }


# --- scope and roles --------------------------------------------------------------------------


def agencies_in_scope(user: User) -> frozenset[int]:
    """The agencies whose dossiers an officer sees: their own; a supervisor also every agency
    under theirs (a provincial supervisor oversees the base agencies of the province)."""
    cached: frozenset[int] | None = getattr(user, "_processing_scope", None)
    if cached is not None:
        return cached
    ids: set[int] = set()
    if user.is_officer and user.agency_id is not None and user.is_active:
        ids.add(user.agency_id)
        if user.has_role(Role.SUPERVISOR):
            frontier = {user.agency_id}
            while frontier:  # central → provincial → base: at most three rounds
                frontier = (
                    set(Agency.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
                    - ids
                )
                ids |= frontier
    scope = frozenset(ids)
    user._processing_scope = scope  # type: ignore[attr-defined]
    return scope


def can_see(user: User, case: Case) -> bool:
    """Officers: cases of the agencies in their scope. Unit members: their unit's cases."""
    if not user.is_active:
        return False
    if user.is_officer:
        return case.agency_id in agencies_in_scope(user)
    if user.kind == User.Kind.UNIT:
        return user.unit_id is not None and user.unit_id == case.unit_id
    return False


def _check_scope(actor: User, case: Case) -> None:
    if not can_see(actor, case):
        raise ProcessingError("PRC-SCOPE")


def _check_role(actor: User, case: Case, t: Transition) -> None:
    party_ok = actor.is_officer if t.party is Party.AGENCY else actor.kind == User.Kind.UNIT
    if not party_ok or not actor.has_role(*workflow.roles_for(t, case.department)):
        raise ProcessingError("PRC-ROLE", detail=t.action)
    if t.assignee_only and case.assigned_to_id != actor.pk:
        raise ProcessingError("PRC-NOT-ASSIGNEE")


# --- the case ----------------------------------------------------------------------------------


def route(procedure_code: str) -> str:
    """The department that processes a procedure: its Routing row, else the procedure's field
    in the catalogue, else Thu (collection)."""
    row = Routing.objects.filter(procedure__code=procedure_code).first()
    if row is not None:
        return row.department
    field = Procedure.objects.filter(code=procedure_code).values_list("field", flat=True).first()
    return field if field in Department.values else Department.COLLECTION


@transaction.atomic
def set_routing(
    procedure: Procedure, department: str, *, actor: User | None, note: str = ""
) -> Routing:
    """Route a procedure's dossiers to a department (the admin's form calls this)."""
    if department not in Department.values:
        raise ProcessingError("PRC-DEPARTMENT", detail=department)
    before = Routing.objects.filter(procedure=procedure).values_list("department", flat=True)
    old = before.first()
    row, _created = Routing.objects.update_or_create(
        procedure=procedure, defaults={"department": department, "note": note[:300]}
    )
    record_event(
        "processing:routing:set",
        actor=actor,
        subject=row,
        before={"department": old or ""},
        after={"department": department},
        data={"procedure": procedure.code},
    )
    return row


def start_case(dossier: Dossier) -> Case:
    """Open the case of a RECEIVED dossier at the one-stop desk. Idempotent: a dossier that
    already has a case gets it back. Call it in the intake's accepting transaction (after the
    dossier is saved RECEIVED), or on its own: it makes its own savepoint."""
    existing = Case.objects.filter(dossier_id=dossier.pk).first()
    if existing is not None:
        return existing
    if dossier.status != Status.RECEIVED or not dossier.number:
        raise ProcessingError("PRC-NOT-RECEIVED", detail=dossier.status)
    if dossier.appointment_date is None or dossier.received_at is None:
        raise ProcessingError("PRC-NOT-RECEIVED", detail="no appointment date")
    unit = dossier.unit
    now = timezone.now()
    try:
        with transaction.atomic():
            case = Case.objects.create(
                dossier=dossier,
                agency_id=dossier.agency_id,
                unit=unit,
                number=dossier.number,
                unit_code=unit.code or "",
                unit_tax_code=unit.tax_code,
                procedure_code=dossier.procedure_code,
                received_at=dossier.received_at,
                stage=Stage.DESK,
                original_due_date=dossier.appointment_date,
                due_date=dossier.appointment_date,
                updated_at=now,
            )
            Step.objects.create(
                case=case,
                seq=1,
                action=Action.RECEIVE,
                stage=Stage.DESK,
                at=dossier.received_at,
                note=dossier.number,
            )
            record_event(
                "case:start",
                subject=case,
                data={
                    "dossier": dossier.pk,
                    "number": dossier.number,
                    "due_date": dossier.appointment_date.isoformat(),
                },
            )
    except IntegrityError:
        # Started concurrently by another caller: theirs stands.
        return Case.objects.get(dossier_id=dossier.pk)
    return case


def _lock(case: Case) -> tuple[Case, Dossier]:
    dossier = Dossier.objects.select_related("unit").select_for_update(of=("self",))
    locked_dossier = dossier.get(pk=case.dossier_id)
    locked = Case.objects.select_for_update().get(pk=case.pk)
    return locked, locked_dossier


def _begin(case: Case, action: str, actor: User) -> tuple[Case, Dossier, Transition]:
    locked, dossier = _lock(case)
    _check_scope(actor, locked)
    t = workflow.find(locked.stage, action)
    if t is None:
        raise ProcessingError("PRC-TRANSITION", detail=f"{locked.stage} -> {action}")
    _check_role(actor, locked, t)
    if dossier.status == Status.WITHDRAWN:
        raise ProcessingError("PRC-WITHDRAWN")
    return locked, dossier, t


def _state(case: Case) -> dict[str, Any]:
    return {
        "stage": case.stage,
        "department": case.department,
        "assigned_to": case.assigned_to_id,
        "due_date": case.due_date.isoformat(),
    }


def _apply(
    case: Case,
    dossier: Dossier,
    t: Transition,
    *,
    actor: User | None,
    now: dt.datetime,
    before: Mapping[str, Any],
    note: str = "",
    event_note: str = "",
    assignee: User | None = None,
    email: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    """The common end of every action: the new stage, the step, the dossier's status, the
    unit's timeline, the audit event and the e-mail to the unit."""
    from_stage = case.stage
    case.stage = t.target
    case.updated_at = now
    case.save()
    seq = Step.objects.filter(case=case).count() + 1  # the case row is locked: no race
    Step.objects.create(
        case=case,
        seq=seq,
        action=t.action,
        from_stage=from_stage,
        stage=t.target,
        department=case.department,
        officer=actor,
        assignee=assignee,
        at=now,
        note=note[:1000],
    )
    if dossier.status != t.dossier_status:
        dossier.status = t.dossier_status
        dossier.save(update_fields=["status"])
    if t.unit_visible:
        DossierEvent.objects.create(
            dossier=dossier, status=t.dossier_status, at=now, actor=actor, note=event_note[:500]
        )
    record_event(
        f"case:{t.action}",
        actor=actor,
        subject=case,
        before=before,
        after=_state(case),
        data={"dossier": dossier.pk, "number": case.number, **(data or {})},
    )
    if t.unit_visible:
        _notify_unit(case, dossier, event_note, **(email or {}))


def _department_name(department: str) -> str:
    with override("vi"):
        return str(Department(department).label) if department else ""


@transaction.atomic
def accept(case: Case, *, actor: User, department: str | None = None, note: str = "") -> Case:
    """The desk accepts the dossier for processing and routes it to a department (by default
    the procedure's, see `route`)."""
    locked, dossier, t = _begin(case, workflow.Action.ACCEPT, actor)
    before = _state(locked)
    dept = department or route(locked.procedure_code)
    if dept not in Department.values:
        raise ProcessingError("PRC-DEPARTMENT", detail=dept)
    locked.department = dept
    with override("vi"):  # stored on the unit's timeline: in the primary language
        event = _("Hồ sơ được chuyển %(department)s giải quyết.") % {
            "department": _department_name(dept)
        }
    _apply(
        locked,
        dossier,
        t,
        actor=actor,
        now=timezone.now(),
        before=before,
        note=note,
        event_note=event,
    )
    return locked


def _clean_items(items: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for item in list(items)[:GUIDANCE_MAX_ITEMS]:
        row = {
            "subject": str(item.get("subject") or "").strip()[:300],
            "issue": str(item.get("issue") or "").strip()[:1000],
            "guidance": str(item.get("guidance") or "").strip()[:1000],
        }
        if not row["guidance"]:
            raise ProcessingError("PRC-GUIDANCE")
        out.append(row)
    if not out:
        raise ProcessingError("PRC-GUIDANCE")
    return out


@transaction.atomic
def request_supplement(
    case: Case, *, actor: User, items: Sequence[Mapping[str, Any]], note: str = ""
) -> SupplementRequest:
    """Return the dossier to the unit as "chưa đúng, chưa đủ" with itemised guidance
    ({subject, issue, guidance}); the clock stops until the unit supplies."""
    locked, dossier, t = _begin(case, workflow.Action.REQUEST_SUPPLEMENT, actor)
    rows = _clean_items(items)
    before = _state(locked)
    now = timezone.now()
    request = SupplementRequest.objects.create(
        case=locked, requested_by=actor, requested_at=now, items=rows
    )
    locked.paused_since = now
    locked.assigned_to = None
    locked.department = ""  # the supplement comes back to the desk, which routes it again
    lines = "; ".join(
        f"{n}) {(r['subject'] + ': ') if r['subject'] else ''}{r['issue'] or r['guidance']}"
        for n, r in enumerate(rows, 1)
    )
    with override("vi"):
        event = _("Hồ sơ chưa đúng, chưa đủ; đề nghị đơn vị bổ sung: %(items)s") % {"items": lines}
    _apply(
        locked,
        dossier,
        t,
        actor=actor,
        now=now,
        before=before,
        note=note,
        event_note=event,
        email={"items": rows},
        data={"items": len(rows), "request": request.pk},
    )
    return request


@transaction.atomic
def attach_supplement(
    case: Case, new_dossier: Dossier, *, actor: User | None = None
) -> SupplementRequest:
    """Answer the open supplement request of `case` with `new_dossier`: a later dossier of the
    same unit, already RECEIVED by the intake (which must then not call `start_case` for it).
    The case goes back to the desk and its due date moves by the working days it waited.

    `actor`: the unit member who submitted the supplement (default: its `submitted_by`); None
    when software filed it with an API token — the intake already established that it is the
    unit's (its signature), so only the unit is checked then."""
    locked, dossier = _lock(case)
    actor = actor or new_dossier.submitted_by
    t = workflow.find(locked.stage, workflow.Action.SUPPLY)
    if actor is not None:
        _check_scope(actor, locked)
    if t is None:
        raise ProcessingError("PRC-TRANSITION", detail=f"{locked.stage} -> supply")
    if actor is not None:
        _check_role(actor, locked, t)
    supplement = Dossier.objects.select_for_update().get(pk=new_dossier.pk)
    if (
        supplement.unit_id != locked.unit_id
        or supplement.status != Status.RECEIVED
        or supplement.pk == locked.dossier_id
        or Case.objects.filter(dossier_id=supplement.pk).exists()
        or SupplementRequest.objects.filter(supplement_id=supplement.pk).exists()
    ):
        raise ProcessingError("PRC-SUPPLEMENT", detail=str(supplement.pk))
    request = SupplementRequest.objects.select_for_update().get(
        case=locked, answered_at__isnull=True
    )
    before = _state(locked)
    now = timezone.now()
    assert locked.paused_since is not None
    paused = max(
        0,
        working_days_between(timezone.localdate(locked.paused_since), timezone.localdate(now)),
    )
    request.answered_at = now
    request.supplement = supplement
    request.paused_working_days = paused
    request.save()
    locked.paused_days += paused
    locked.paused_since = None
    if paused:
        locked.due_date = add_working_days(locked.due_date, paused)
    with override("vi"):
        event = _("Đã nhận hồ sơ bổ sung số %(number)s; ngày hẹn trả kết quả: %(due)s.") % {
            "number": supplement.number or "",
            "due": locked.due_date.strftime("%d/%m/%Y"),
        }
        linked = _("Hồ sơ bổ sung cho hồ sơ số %(number)s.") % {"number": locked.number}
    DossierEvent.objects.create(
        dossier=supplement,
        status=supplement.status,
        at=now,
        actor=actor,
        note=linked,
    )
    _apply(
        locked,
        dossier,
        t,
        actor=actor,
        now=now,
        before=before,
        event_note=event,
        data={"supplement": supplement.pk, "paused_working_days": paused},
    )
    return request


def _check_assignee(case: Case, assignee: User) -> None:
    if not (
        assignee.is_active
        and assignee.is_officer
        and assignee.agency_id == case.agency_id
        and assignee.has_role(case.department)
    ):
        raise ProcessingError("PRC-ASSIGNEE", detail=str(assignee.pk))


def _assign(case: Case, action: str, *, actor: User, assignee: User, note: str) -> Case:
    locked, dossier, t = _begin(case, action, actor)
    _check_assignee(locked, assignee)
    before = _state(locked)
    locked.assigned_to = assignee
    _apply(
        locked,
        dossier,
        t,
        actor=actor,
        now=timezone.now(),
        before=before,
        note=note,
        assignee=assignee,
    )
    return locked


@transaction.atomic
def assign(case: Case, *, actor: User, assignee: User, note: str = "") -> Case:
    """Assign a routed dossier to an officer of its department (the actor may be that officer)."""
    return _assign(case, workflow.Action.ASSIGN, actor=actor, assignee=assignee, note=note)


@transaction.atomic
def reassign(case: Case, *, actor: User, assignee: User, note: str = "") -> Case:
    """Give an assigned dossier to another officer of the same department."""
    return _assign(case, workflow.Action.REASSIGN, actor=actor, assignee=assignee, note=note)


@transaction.atomic
def forward(case: Case, *, actor: User, department: str, note: str = "") -> Case:
    """The assigned officer sends the dossier on to another department (e.g. Thu → Sổ-thẻ)."""
    locked, dossier, t = _begin(case, workflow.Action.FORWARD, actor)
    if department not in Department.values or department == locked.department:
        raise ProcessingError("PRC-DEPARTMENT", detail=department)
    before = _state(locked)
    locked.department = department
    locked.assigned_to = None
    _apply(locked, dossier, t, actor=actor, now=timezone.now(), before=before, note=note)
    return locked


def _registry_hook(
    dossier: Dossier,
    actor: User,
    registry_plan: dict[str, Any] | None,
    accept_conflicts: set[str] | None,
) -> list[tuple[dict[str, str], bool]] | None:
    """Procedure 600: apply the D02-TS/TK1-TS rows to the units registry in the completing
    transaction (ebhxh.units.registry). `registry_plan` is the plan the officer saw (its
    `as_dict()`); without it the plan is computed now. Unaccepted conflicts, or a plan that no
    longer matches, refuse the completion (PRC-REGISTRY) and nothing is written.

    Returns the result's rows, (item, accepted), one per plan row: applied rows are accepted,
    rows skipped because of an accepted conflict refused with the conflict's message; None for
    other procedures."""
    from ebhxh.units import registry

    if dossier.procedure_code not in registry.PROCEDURES:
        return None
    try:
        result = registry.apply(
            dossier,
            registry_plan if registry_plan is not None else registry.plan(dossier),
            actor=actor,
            accept_conflicts=accept_conflicts,
        )
    except registry.RegistryError as exc:
        raise ProcessingError("PRC-REGISTRY", detail=f"{exc.code}: {exc.detail}") from exc
    return _registry_items(dossier, result)


def _registry_items(dossier: Dossier, applied: Any) -> list[tuple[dict[str, str], bool]]:
    """The 03/TB-TS rows of a registry application: the plan stored with it (computed by the
    server, never the client's copy) gives each row's person; the result says applied or not."""
    from ebhxh.units import registry
    from ebhxh.units.models import RegistryApplication

    stored = RegistryApplication.objects.get(dossier_id=dossier.pk).plan
    done = set(applied.applied_rows)
    out: list[tuple[dict[str, str], bool]] = []
    with override("vi"):  # the notice is a Vietnamese document
        codes = registry.conflict_codes()
        for row in stored.get("rows", []):
            who = row.get("full_name") or ""
            if row.get("bhxh_code"):
                who = _("%(name)s, mã số BHXH %(code)s") % {"name": who, "code": row["bhxh_code"]}
            subject = who.strip(", ") or f"{row['form']} #{row['row']}"
            description = _("%(form)s dòng %(row)s, phương án %(pa)s") % {
                "form": row["form"],
                "row": row["row"],
                "pa": row.get("pa") or "—",
            }
            if f"{row['form']}#{row['row']}" in done:
                out.append(({"subject": subject, "description": description}, True))
                continue
            reasons = [
                str(codes[c["code"]][0])
                for c in row.get("conflicts", [])
                if c.get("code") in codes and codes[c["code"]][2] == "skip"
            ]
            reason = " ".join(dict.fromkeys(reasons)) or _("Không cập nhật được dòng này.")
            out.append(({"subject": subject, "description": description, "reason": reason}, False))
    return out


# --- the result (03/TB-TS) ------------------------------------------------------------------

# The notice decodes up to result.MAX_BYTES (1 MiB): a dossier of thousands of rows lists the
# first rows and sums up the rest in one row (the refused rows, which the unit must act on,
# first and with a higher limit).
RESULT_ACCEPTED_ROWS = 300
RESULT_REFUSED_ROWS = 1500
RESULT_MAX_DOCUMENTS = 20
ITEM_TEXT_MAX = 1000
# Content kinds (ebhxh.dossiers.content) -> the media type written in the notice.
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xml": "application/xml",
}
_OUTCOME_CODES = {Outcome.ACCEPTED: "1", Outcome.REFUSED: "2", Outcome.PARTLY_ACCEPTED: "3"}


def _item(raw: Mapping[str, Any], *, refused: bool) -> dict[str, str]:
    def text(key: str) -> str:
        return " ".join(str(raw.get(key) or "").split())[:ITEM_TEXT_MAX]

    row = {"subject": text("subject"), "description": text("description")}
    if not row["subject"] or not row["description"]:
        raise ProcessingError("PRC-RESULT", detail="an item needs a subject and a description")
    if refused:
        row["reason"] = text("reason")
        if not row["reason"]:
            raise ProcessingError("PRC-RESULT", detail=f"no reason: {row['subject']}")
        if guidance := text("guidance"):
            row["guidance"] = guidance
    return row


def _cap(rows: list[dict[str, str]], limit: int, *, refused: bool) -> list[dict[str, str]]:
    if len(rows) <= limit:
        return rows
    rest = len(rows) - (limit - 1)
    with override("vi"):
        summary = {
            "subject": _("Các nội dung còn lại"),
            "description": _("%(count)d nội dung khác, xem chi tiết trên cổng giao dịch.")
            % {"count": rest},
        }
        if refused:
            summary["reason"] = _("Như các nội dung trên; xem chi tiết trên cổng giao dịch.")
    return [*rows[: limit - 1], summary]


def _result_documents(documents: Sequence[tuple[str, bytes]]) -> list[dict[str, Any]]:
    """Check the officer's result documents by content (ebhxh.dossiers.content) and store them
    (content-addressed blobs "results": a rolled-back completion leaves at most an orphan file
    that the next attempt reuses)."""
    from pathlib import PurePosixPath, PureWindowsPath

    from ebhxh.dossiers import blobs
    from ebhxh.dossiers.content import check_attachment, sniff

    if len(documents) > RESULT_MAX_DOCUMENTS:
        raise ProcessingError("PRC-RESULT-DOCUMENT", detail=f"more than {RESULT_MAX_DOCUMENTS}")
    out: list[dict[str, Any]] = []
    for raw_name, data in documents:
        name = PurePosixPath(PureWindowsPath(str(raw_name or "")).name).name.strip()[:200]
        if not name or any(ord(ch) < 32 for ch in name) or any(d["name"] == name for d in out):
            raise ProcessingError("PRC-RESULT-DOCUMENT", detail=f"name: {raw_name!r}")
        problems = check_attachment(name, None, data, max_bytes=settings.DOSSIER_FILE_MAX_BYTES)
        if problems:
            raise ProcessingError(
                "PRC-RESULT-DOCUMENT", detail=f"{name}: {', '.join(p.code for p in problems)}"
            )
        kind = sniff(data) or ""
        blob, sha = blobs.put("results", data, f".{kind}" if kind else "")
        out.append(
            {
                "name": name,
                "media_type": MEDIA_TYPES[kind],
                "sha256": sha,
                "size": len(data),
                "blob": blob,
            }
        )
    return out


def _result_notice(
    case: Case,
    dossier: Dossier,
    *,
    outcome: str,
    accepted: list[dict[str, str]],
    refused: list[dict[str, str]],
    documents: list[dict[str, Any]],
    note: str,
    now: dt.datetime,
) -> Any:
    from ebhxh.notices import result as tbts3
    from ebhxh.notices.xmlbase import NoticeError

    agency = dossier.agency
    unit = dossier.unit
    procedure = Procedure.objects.filter(code=dossier.procedure_code).first()
    assert dossier.received_at is not None and dossier.number
    try:
        return tbts3.ResultNotice(
            agency_code=agency.code,
            agency_name=agency.name,
            place=agency.province.name if agency.province else agency.name,
            unit_name=unit.name,
            unit_code=unit.code or None,
            dossier_number=dossier.number,
            procedure_code=dossier.procedure_code,
            procedure_name=(procedure.name if procedure else "") or dossier.procedure_name or "—",
            received_at=dossier.received_at,
            appointment_date=dossier.appointment_date,
            result_date=timezone.localdate(now),
            tracking_id=str(dossier.tracking_id),
            outcome=_OUTCOME_CODES[Outcome(outcome)],
            accepted_items=tuple(
                tbts3.ResultItem(stt=n, subject=r["subject"], description=r["description"])
                for n, r in enumerate(accepted, 1)
            ),
            refused_items=tuple(
                tbts3.ResultItem(
                    stt=n,
                    subject=r["subject"],
                    description=r["description"],
                    reason=r["reason"],
                    guidance=r.get("guidance"),
                )
                for n, r in enumerate(refused, 1)
            ),
            documents=tuple(
                tbts3.ResultDocument(
                    name=d["name"], media_type=d["media_type"], sha256=d["sha256"], size=d["size"]
                )
                for d in documents
            ),
            support_phone=agency.phone or None,
            note=note or None,
        )
    except NoticeError as exc:
        raise ProcessingError("PRC-RESULT", detail=str(exc)) from exc


def _issue_result(
    case: Case,
    dossier: Dossier,
    *,
    actor: User,
    now: dt.datetime,
    outcome: str | None,
    registry_rows: list[tuple[dict[str, str], bool]] | None,
    accepted_items: Sequence[Mapping[str, Any]] | None,
    refused_items: Sequence[Mapping[str, Any]],
    documents: Sequence[tuple[str, bytes]],
    result_text: str,
) -> Result:
    """Record the result and issue its sealed 03/TB-TS (docs/processing.md "The result")."""
    from ebhxh.dossiers import blobs
    from ebhxh.notices.services import issue_result

    if outcome is not None and outcome not in Outcome.values:
        raise ProcessingError("PRC-RESULT", detail=f"outcome {outcome!r}")
    accepted = [_item(r, refused=False) for r in accepted_items or ()]
    refused = [_item(r, refused=True) for r in refused_items]
    for row, ok in registry_rows or ():
        (accepted if ok else refused).append(row)
    if not accepted and not refused and outcome in (None, Outcome.ACCEPTED):
        with override("vi"):  # no itemised result: the dossier as a whole is accepted
            accepted = [
                {
                    "subject": _("Hồ sơ số %(number)s") % {"number": case.number},
                    "description": result_text[:ITEM_TEXT_MAX]
                    or dossier.procedure_name[:ITEM_TEXT_MAX]
                    or _("Đã giải quyết."),
                }
            ]
    if outcome is None:
        outcome = (
            Outcome.ACCEPTED
            if not refused
            else Outcome.REFUSED
            if not accepted
            else Outcome.PARTLY_ACCEPTED
        )
    accepted = _cap(accepted, RESULT_ACCEPTED_ROWS, refused=False)
    refused = _cap(refused, RESULT_REFUSED_ROWS, refused=True)
    stored_documents = _result_documents(documents)
    notice = _result_notice(
        case,
        dossier,
        outcome=outcome,
        accepted=accepted,
        refused=refused,
        documents=stored_documents,
        note=result_text[:ITEM_TEXT_MAX],
        now=now,
    )
    sealed = issue_result(notice)
    blob, sha = blobs.put("results", sealed, ".xml")
    return Result.objects.create(
        case=case,
        outcome=outcome,
        accepted_items=accepted,
        refused_items=refused,
        documents=stored_documents,
        notice_blob=blob,
        notice_sha256=sha,
        issued_by=actor,
        issued_at=now,
    )


@transaction.atomic
def complete(
    case: Case,
    *,
    actor: User,
    result: str = "",
    note: str = "",
    registry_plan: dict[str, Any] | None = None,
    accept_conflicts: set[str] | None = None,
    outcome: str | None = None,
    accepted_items: Sequence[Mapping[str, Any]] | None = None,
    refused_items: Sequence[Mapping[str, Any]] = (),
    documents: Sequence[tuple[str, bytes]] = (),
) -> Case:
    """The assigned officer finishes processing; the result goes back to the desk. For procedure
    600 the registry is updated in the same transaction (see `_registry_hook`) and its rows are
    the result's items; the result (`Result`) and its sealed 03/TB-TS are recorded too.

    `outcome`: an `Outcome` value, by default derived from the items (none refused: accepted;
    none accepted: refused; else partly accepted). A refused 600 dossier leaves the registry
    alone. `accepted_items` / `refused_items`: the officer's rows, {subject, description} and
    {subject, description, reason, guidance?}, added to the registry's. `documents`: result
    documents as (file name, bytes), checked by content and bound in the notice by SHA-256.
    `result`: a short text, on the unit's timeline and in the notice's note."""
    locked, dossier, t = _begin(case, workflow.Action.COMPLETE, actor)
    before = _state(locked)
    now = timezone.now()
    text = " ".join(result.split())
    registry_rows = (
        None
        if outcome == Outcome.REFUSED
        else _registry_hook(dossier, actor, registry_plan, accept_conflicts)
    )
    issued = _issue_result(
        locked,
        dossier,
        actor=actor,
        now=now,
        outcome=outcome,
        registry_rows=registry_rows,
        accepted_items=accepted_items,
        refused_items=refused_items,
        documents=documents,
        result_text=text,
    )
    locked.result_at = now
    locked.assigned_to = None
    with override("vi"):
        event = _("Hồ sơ đã có kết quả giải quyết.")
    if text:
        event = f"{event} {text}"
    _apply(
        locked,
        dossier,
        t,
        actor=actor,
        now=now,
        before=before,
        note=note,
        event_note=event,
        data={
            "result": result[:500],
            "outcome": issued.outcome,
            "accepted_items": len(issued.accepted_items),
            "refused_items": len(issued.refused_items),
            "documents": [d["sha256"] for d in issued.documents],
            "notice_sha256": issued.notice_sha256,
        },
    )
    return locked


@transaction.atomic
def return_result(case: Case, *, actor: User, note: str = "") -> Case:
    """The desk returns the result to the unit: the unit may now download the sealed 03/TB-TS,
    its PDF and the result documents, and is e-mailed the notice (attached) with the links."""
    locked, dossier, t = _begin(case, workflow.Action.RETURN_RESULT, actor)
    before = _state(locked)
    now = timezone.now()
    locked.returned_at = now
    late = timezone.localdate(now) > locked.due_date
    with override("vi"):
        event = _("Cơ quan BHXH đã trả kết quả giải quyết hồ sơ.")
    issued = Result.objects.filter(case=locked).first()
    _apply(
        locked,
        dossier,
        t,
        actor=actor,
        now=now,
        before=before,
        note=note,
        event_note=event,
        email={"result": issued},
        data={"late": late},
    )
    return locked


@transaction.atomic
def close(case: Case, *, actor: User, note: str = "") -> Case:
    """Close (archive) a case whose result was returned."""
    locked, dossier, t = _begin(case, workflow.Action.CLOSE, actor)
    before = _state(locked)
    now = timezone.now()
    locked.closed_at = now
    _apply(locked, dossier, t, actor=actor, now=now, before=before, note=note)
    return locked


@transaction.atomic
def on_withdrawn(dossier: Dossier, *, actor: User | None = None) -> Case | None:
    """Follow the intake's withdrawal of a dossier (call it from `dossiers.services.withdraw`,
    after the dossier is saved WITHDRAWN, in the same transaction): the case leaves the desk.
    The intake wrote the timeline event and the e-mail. Idempotent; None when no case."""
    case = Case.objects.filter(dossier_id=dossier.pk).first()
    if case is None:
        return None
    locked, locked_dossier = _lock(case)
    if locked.stage == Stage.WITHDRAWN:
        return locked
    t = workflow.find(locked.stage, workflow.Action.WITHDRAW)
    if t is None:
        raise ProcessingError("PRC-TRANSITION", detail=f"{locked.stage} -> withdraw")
    if actor is not None:
        _check_scope(actor, locked)
        _check_role(actor, locked, t)
    before = _state(locked)
    now = timezone.now()
    locked.closed_at = now
    _apply(locked, locked_dossier, t, actor=actor, now=now, before=before)
    return locked


# --- messages ----------------------------------------------------------------------------------


def _responsible_role(case: Case) -> str:
    return case.department if case.stage in (Stage.ROUTED, Stage.ASSIGNED) else Role.DESK


def _officer_recipients(case: Case) -> list[str]:
    if case.assigned_to is not None and case.assigned_to.email:
        return [case.assigned_to.email]
    emails = (
        User.objects.filter(
            kind=User.Kind.AGENCY,
            agency_id=case.agency_id,
            is_active=True,
            roles__role=_responsible_role(case),
        )
        .exclude(email="")
        .values_list("email", flat=True)
    )
    return sorted({e.lower() for e in emails})


@transaction.atomic
def post_message(case: Case, *, actor: User, body: str) -> Message:
    """A message from the unit to the agency or back, kept with the case and e-mailed to the
    other side: to the unit's contact address and submitter, or to the assigned officer (when
    nobody is assigned, to the officers of the desk or department holding the dossier)."""
    locked = (
        Case.objects.select_for_update(of=("self",)).select_related("assigned_to").get(pk=case.pk)
    )
    _check_scope(actor, locked)
    text = (body or "").strip()
    if not text or len(text) > MESSAGE_MAX:
        raise ProcessingError("PRC-MESSAGE")
    if locked.stage in workflow.TERMINAL:
        raise ProcessingError("PRC-CLOSED")
    side = Message.Side.AGENCY if actor.is_officer else Message.Side.UNIT
    now = timezone.now()
    message = Message.objects.create(case=locked, author=actor, side=side, body=text, at=now)
    record_event(
        "case:message:add",
        actor=actor,
        subject=locked,
        data={"message": message.pk, "side": side, "length": len(text)},
    )
    dossier = Dossier.objects.select_related("unit", "submitted_by").get(pk=locked.dossier_id)
    if side == Message.Side.AGENCY:
        from ebhxh.dossiers.services import recipients

        to = recipients(dossier)
    else:
        to = _officer_recipients(locked)
    if to:
        from ebhxh.notify.mail import send

        send(
            "processing_message",
            to,
            {
                "case": locked,
                "dossier": dossier,
                "message": message,
                "from_agency": side == Message.Side.AGENCY,
                "author": str(actor),
                "portal_url": _portal_url(dossier),
            },
            purpose=f"processing:message:{side}",
            unit=dossier.unit,
        )
    return message


# --- e-mail to the unit --------------------------------------------------------------------


def _portal_url(dossier: Dossier) -> str:
    return f"{settings.SITE_URL}/don-vi/ho-so/{dossier.tracking_id}/"


def _result_mail(dossier: Dossier, result: Result) -> tuple[dict[str, Any], list[Any]]:
    """The links to the returned result and the sealed notice to attach to the e-mail."""
    from django.urls import reverse

    from ebhxh.dossiers import blobs

    def url(view: str, **kwargs: Any) -> str:
        path = reverse(f"dossiers:{view}", kwargs={"tracking_id": dossier.tracking_id, **kwargs})
        return f"{settings.SITE_URL}{path}"

    links = {
        "outcome": Outcome(result.outcome).label,
        "xml_url": url("result_xml"),
        "pdf_url": url("result_pdf"),
        "documents": [
            {"name": d["name"], "url": url("result_document", name=d["name"])}
            for d in result.documents
        ],
    }
    slug = (dossier.number or str(dossier.tracking_id)).replace("/", "-")
    xml = blobs.get_verified(result.notice_blob, result.notice_sha256)
    return links, [(f"03-TB-TS-{slug}.xml", xml, "application/xml")]


def _notify_unit(
    case: Case,
    dossier: Dossier,
    note: str,
    *,
    items: Sequence[Mapping[str, str]] = (),
    result: Result | None = None,
) -> None:
    from ebhxh.dossiers.services import recipients
    from ebhxh.notify.mail import send

    to = recipients(dossier)
    if not to:
        return
    links, attachments = _result_mail(dossier, result) if result is not None else (None, [])
    send(
        "processing_status",
        to,
        {
            "case": case,
            "dossier": dossier,
            "status": Status(dossier.status).label,
            "note": note,
            "items": list(items),
            "portal_url": _portal_url(dossier),
            "result": links,
        },
        attachments=attachments,
        purpose=f"processing:{case.stage}",
        unit=dossier.unit,
    )


# --- history -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str  # "step", "message", "supplement"
    title: str
    text: str
    who: str
    department: str


def timeline(case: Case, *, viewer: User) -> list[TimelineEntry]:
    """The case's steps, supplement requests and messages in time order, as `viewer` may see
    them: officers everything; the unit without the internal notes of steps."""
    _check_scope(viewer, case)
    officer = viewer.is_officer
    out: list[TimelineEntry] = []
    for step in case.steps.select_related("officer", "assignee"):
        text = step.note if officer else ""
        if step.assignee is not None:
            text = f"{step.assignee} {text}".strip()
        out.append(
            TimelineEntry(
                at=step.at,
                kind="step",
                title=str(Action(step.action).label),
                text=text,
                who=str(step.officer) if step.officer else "",
                department=str(Department(step.department).label) if step.department else "",
            )
        )
    for req in case.supplement_requests.select_related("requested_by"):
        lines = "\n".join(
            " — ".join(x for x in (r.get("subject"), r.get("issue"), r.get("guidance")) if x)
            for r in req.items
        )
        out.append(
            TimelineEntry(
                at=req.requested_at,
                kind="supplement",
                title=str(_("Yêu cầu bổ sung")),
                text=lines,
                who=str(req.requested_by),
                department="",
            )
        )
    for msg in case.messages.select_related("author"):
        out.append(
            TimelineEntry(
                at=msg.at,
                kind="message",
                title=str(Message.Side(msg.side).label),
                text=msg.body,
                who=str(msg.author),
                department="",
            )
        )
    out.sort(key=lambda e: e.at)
    return out


# --- time limits -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Remaining:
    """Time left until a case's due date: whole working days after today, plus the office hours
    left today; `overdue` once the due date has passed (then `days` is minus the working days
    since). `paused`: counted at the moment the supplement was requested."""

    due_date: dt.date
    days: int
    hours: int
    overdue: bool
    paused: bool

    def __str__(self) -> str:
        if self.overdue:
            text = _("Quá hạn %(days)d ngày") % {"days": -self.days}
        else:
            text = _("Còn %(days)d ngày %(hours)d giờ") % {"days": self.days, "hours": self.hours}
        return _("%(text)s (tạm dừng)") % {"text": text} if self.paused else text


def remaining(case: Case, now: dt.datetime | None = None) -> Remaining | None:
    """Working time left for a queue row (no query); None once the clock has stopped."""
    clock = workflow.CLOCK[workflow.Stage(case.stage)]
    if clock is workflow.Clock.STOPPED:
        return None
    paused = clock is workflow.Clock.PAUSED and case.paused_since is not None
    at = timezone.localtime(case.paused_since if paused else (now or timezone.now()))
    today = at.date()
    due = case.due_date
    if today > due:
        return Remaining(due, -working_days_between(due, today), 0, True, paused)
    hours = 0
    if is_working_day(today):
        opens = at.replace(hour=OFFICE_OPENS.hour, minute=OFFICE_OPENS.minute, second=0)
        closes = at.replace(hour=OFFICE_CLOSES.hour, minute=OFFICE_CLOSES.minute, second=0)
        seconds = (closes - max(at, opens)).total_seconds()
        hours = max(0, math.ceil(seconds / 3600))
    return Remaining(due, working_days_between(today, due), hours, False, paused)


def _today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(now) if now is not None else timezone.localdate()


def overdue(agency: Agency | int, *, now: dt.datetime | None = None) -> QuerySet[Case]:
    """Cases of an agency past their due date whose clock is running, most overdue first."""
    return Case.objects.filter(
        agency=agency, stage__in=sorted(workflow.COUNTING), due_date__lt=_today(now)
    ).order_by("due_date", "pk")


def near_due(
    agency: Agency | int, days: int = 1, *, now: dt.datetime | None = None
) -> QuerySet[Case]:
    """Cases of an agency due today or within `days` working days, clock running."""
    today = _today(now)
    return Case.objects.filter(
        agency=agency,
        stage__in=sorted(workflow.COUNTING),
        due_date__gte=today,
        due_date__lte=add_working_days(today, days),
    ).order_by("due_date", "pk")


# --- queues and search -------------------------------------------------------------------------


def queue(
    officer: User,
    *,
    department: str | None = None,
    procedure: str | None = None,
    unit: Unit | str | None = None,
    status: str | Iterable[str] | None = None,
    due_before: dt.date | None = None,
    overdue: bool | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Case]:
    """An officer's working queue, by due date: cases of the agencies in their scope, in the
    active stages unless `status` names stages (Stage values). Every filter is a column of
    `Case` covered by an index that starts with the agency (see models.py)."""
    scope = agencies_in_scope(officer)
    if not scope:
        return Case.objects.none()
    stages = (
        sorted(workflow.ACTIVE)
        if status is None
        else [status]
        if isinstance(status, str)
        else list(status)
    )
    qs = Case.objects.filter(agency_id__in=sorted(scope), stage__in=stages)
    if department:
        qs = qs.filter(department=department)
    if procedure:
        qs = qs.filter(procedure_code=procedure)
    if unit is not None:
        qs = qs.filter(unit_code=unit.code if isinstance(unit, Unit) else unit.strip().upper())
    if due_before is not None:
        qs = qs.filter(due_date__lte=due_before)
    if overdue is not None:
        late = Q(stage__in=sorted(workflow.COUNTING), due_date__lt=_today(now))
        qs = qs.filter(late) if overdue else qs.exclude(late)
    return qs.select_related("unit", "assigned_to").order_by("due_date", "pk")


def search(officer: User, text: str) -> QuerySet[Case]:
    """Find cases in the officer's scope by dossier number (whole, or its running-number
    prefix such as "00012/2026"), unit code (the unit's mã số BHXH, MaSoBHXH in the envelope)
    or tax code — exact values on indexed columns. Participants' mã số BHXH inside the forms'
    rows are not searched yet."""
    scope = agencies_in_scope(officer)
    value = (text or "").strip()
    if not scope or not value or len(value) > 40:
        return Case.objects.none()
    match = Q(number=value) | Q(unit_code=value.upper()) | Q(unit_tax_code=value)
    if "/" in value or value.isdigit():
        match |= Q(number__startswith=value)
    return (
        Case.objects.filter(match, agency_id__in=sorted(scope))
        .select_related("unit", "assigned_to")
        .order_by("-received_at", "-pk")
    )


# --- daily digest ------------------------------------------------------------------------------


def digest_for(supervisor: User, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """What a supervisor's digest says: active cases by stage, near-due and overdue counts, and
    the most overdue cases, over the agencies in their scope."""
    scope = sorted(agencies_in_scope(supervisor))
    today = _today(now)
    active = Case.objects.filter(agency_id__in=scope, stage__in=sorted(workflow.ACTIVE))
    by_stage = dict(active.values_list("stage").annotate(n=Count("pk")).values_list("stage", "n"))
    counting = active.filter(stage__in=sorted(workflow.COUNTING))
    late = counting.filter(due_date__lt=today)
    soon = counting.filter(due_date__gte=today, due_date__lte=add_working_days(today, 1))
    rows = [
        {
            "number": c.number,
            "unit_code": c.unit_code,
            "unit_name": c.unit.name,
            "procedure_code": c.procedure_code,
            "due_date": c.due_date,
            "days_late": working_days_between(c.due_date, today),
            "stage": Stage(c.stage).label,
            "department": Department(c.department).label if c.department else "",
            "assigned_to": str(c.assigned_to) if c.assigned_to else "",
            "agency_code": c.agency.code,
        }
        for c in late.select_related("unit", "assigned_to", "agency").order_by("due_date", "pk")[
            :DIGEST_OVERDUE_ROWS
        ]
    ]
    return {
        "date": today,
        "stages": [(Stage(s).label, by_stage.get(s, 0)) for s in Stage.values if s in by_stage],
        "active": sum(by_stage.values()),
        "near_due": soon.count(),
        "overdue": late.count(),
        "overdue_rows": rows,
    }


def daily_digest(*, now: dt.datetime | None = None) -> int:
    """E-mail each supervisor with active cases in scope the day's digest, once a day (after
    DIGEST_HOUR local time; safe to run again: a supervisor already sent today's is skipped).
    Returns the number of e-mails queued."""
    from ebhxh.notify.mail import send
    from ebhxh.notify.models import OutboundEmail

    at = timezone.localtime(now or timezone.now())
    if at.hour < DIGEST_HOUR:
        return 0
    supervisors = (
        User.objects.filter(kind=User.Kind.AGENCY, is_active=True, roles__role=Role.SUPERVISOR)
        .exclude(email="")
        .order_by("pk")
        .distinct()
    )
    sent = 0
    for supervisor in supervisors:
        purpose = f"processing:digest:{at.date().isoformat()}:{supervisor.pk}"
        if OutboundEmail.objects.filter(purpose=purpose).exists():
            continue
        digest = digest_for(supervisor, now=at)
        if not digest["active"]:
            continue
        with transaction.atomic():
            send(
                "processing_digest",
                [supervisor.email],
                {"supervisor": supervisor, "digest": digest},
                purpose=purpose,
                language=supervisor.preferred_language,
            )
        sent += 1
    return sent
