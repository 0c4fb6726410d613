"""The workflow through its services, on real dossiers received by the intake."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone, translation

from ebhxh.accounts.models import User
from ebhxh.audit.models import AuditEvent
from ebhxh.dossiers import services as intake
from ebhxh.dossiers.models import Dossier, DossierEvent, Status
from ebhxh.lib.workdays import add_working_days, is_working_day, working_days_between
from ebhxh.notify.models import OutboundEmail
from ebhxh.processing import services, workflow
from ebhxh.processing.models import Case, Message, Stage, Step, SupplementRequest
from ebhxh.processing.services import ProcessingError
from ebhxh.processing.workflow import Action

pytestmark = pytest.mark.django_db

ITEMS = [
    {
        "subject": "Nguyễn Văn A (0123456789)",
        "issue": "Thiếu hợp đồng lao động",
        "guidance": "Bổ sung bản chụp hợp đồng lao động đã ký",
    }
]


def _code(exc: pytest.ExceptionInfo[ProcessingError]) -> str:
    return exc.value.code


def _refresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def test_start_case_opens_the_case_at_the_desk_once(case: Case) -> None:
    dossier = case.dossier
    assert case.stage == Stage.DESK and case.department == ""
    assert case.due_date == case.original_due_date == dossier.appointment_date
    assert (case.number, case.unit_code, case.unit_tax_code, case.procedure_code) == (
        dossier.number,
        dossier.unit.code,
        dossier.unit.tax_code,
        "600",
    )
    assert list(case.steps.values_list("seq", "action")) == [(1, "receive")]
    assert services.start_case(dossier).pk == case.pk
    assert Case.objects.count() == 1 and Step.objects.count() == 1
    assert AuditEvent.objects.filter(tag="case:start", subject_id=str(case.pk)).count() == 1


def test_start_case_refuses_a_dossier_not_received(case: Case) -> None:
    other = Dossier.objects.get(pk=case.dossier_id)
    Case.objects.filter(pk=case.pk).delete()
    other.status = Status.SUBMITTED
    other.number = None
    with pytest.raises(ProcessingError) as exc:
        services.start_case(other)
    assert _code(exc) == "PRC-NOT-RECEIVED"


def test_the_main_path_from_desk_to_closed(
    case: Case,
    desk_officer: User,
    thu_officer: User,
    sothe_officer: User,
    supervisor: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.accept(case, actor=desk_officer, note="đủ hồ sơ")
    case = _refresh(case)
    assert (case.stage, case.department) == (Stage.ROUTED, "collection")
    dossier = Dossier.objects.get(pk=case.dossier_id)
    assert dossier.status == Status.PROCESSING
    event = dossier.events.order_by("-pk").first()
    assert event is not None and event.status == Status.PROCESSING
    assert "Phòng Thu" in event.note and event.actor == desk_officer
    sent = mail.outbox[-1]
    assert dossier.unit.contact_email in sent.to and dossier.number in sent.subject
    assert "Đang giải quyết" in sent.subject

    services.assign(case, actor=thu_officer, assignee=thu_officer)
    case = _refresh(case)
    assert (case.stage, case.assigned_to) == (Stage.ASSIGNED, thu_officer)
    services.forward(case, actor=thu_officer, department="books_cards", note="cấp sổ")
    case = _refresh(case)
    assert (case.stage, case.department, case.assigned_to) == (Stage.ROUTED, "books_cards", None)
    # the provincial supervisor oversees the base agency and may assign
    services.assign(case, actor=supervisor, assignee=sothe_officer)
    services.complete(_refresh(case), actor=sothe_officer, result="Đã cập nhật sổ BHXH.")
    case = _refresh(case)
    assert case.stage == Stage.RESULT and case.result_at is not None and case.assigned_to is None
    assert Dossier.objects.get(pk=case.dossier_id).status == Status.RESULT_READY
    services.return_result(case, actor=desk_officer)
    assert Dossier.objects.get(pk=case.dossier_id).status == Status.RETURNED
    services.close(_refresh(case), actor=desk_officer)
    case = _refresh(case)
    assert case.stage == Stage.CLOSED and case.closed_at is not None and case.returned_at

    steps = list(case.steps.values_list("action", "department", "officer__username"))
    assert steps == [
        ("receive", "", None),
        ("accept", "collection", "motcua"),
        ("assign", "collection", "thu.a"),
        ("forward", "books_cards", "thu.a"),
        ("assign", "books_cards", "giamsat"),
        ("complete", "books_cards", "sothe.a"),
        ("return_result", "books_cards", "motcua"),
        ("close", "books_cards", "motcua"),
    ]
    assert list(case.steps.values_list("seq", flat=True)) == list(range(1, 9))
    statuses = list(
        DossierEvent.objects.filter(dossier_id=case.dossier_id).values_list("status", flat=True)
    )
    assert statuses == ["submitted", "received", "processing", "result_ready", "returned"]
    tags = set(AuditEvent.objects.filter(subject_id=str(case.pk)).values_list("tag", flat=True))
    assert {f"case:{a}" for a in ("start", "accept", "assign", "forward", "complete")} <= tags
    assert {"case:return_result", "case:close"} <= tags
    purposes = set(OutboundEmail.objects.values_list("purpose", flat=True))
    assert {"processing:routed", "processing:result", "processing:returned"} <= purposes


def test_the_unit_sees_the_history_without_internal_notes(
    case: Case, desk_officer: User, unit_admin: User
) -> None:
    services.accept(case, actor=desk_officer, note="ghi chú nội bộ: kiểm tra kỹ")
    officer_view = services.timeline(case, viewer=desk_officer)
    unit_view = services.timeline(case, viewer=unit_admin)
    assert any("ghi chú nội bộ" in e.text for e in officer_view)
    assert not any("ghi chú nội bộ" in e.text for e in unit_view)
    assert [e.title for e in unit_view] == ["Tiếp nhận", "Chuyển phòng giải quyết"]


# --- every transition the table does not have is refused ------------------------------------


def _drive(case: Case, stage: Stage, omni: User, submit: Callable[..., Dossier]) -> Case:
    """Bring a fresh case to `stage` along the table, acting as `omni` (every agency role)."""
    if stage == Stage.WITHDRAWN:
        intake.withdraw(case.dossier, user=None, reason="nộp nhầm")
        services.on_withdrawn(case.dossier)
        return _refresh(case)
    if stage == Stage.SUPPLEMENT:
        services.request_supplement(case, actor=omni, items=ITEMS)
        return _refresh(case)
    path = [Stage.ROUTED, Stage.ASSIGNED, Stage.RESULT, Stage.RETURNED, Stage.CLOSED]
    steps = {
        Stage.ROUTED: lambda c: services.accept(c, actor=omni),
        Stage.ASSIGNED: lambda c: services.assign(c, actor=omni, assignee=omni),
        Stage.RESULT: lambda c: services.complete(c, actor=omni),
        Stage.RETURNED: lambda c: services.return_result(c, actor=omni),
        Stage.CLOSED: lambda c: services.close(c, actor=omni),
    }
    for target in path[: path.index(stage) + 1] if stage in path else []:
        steps[target](_refresh(case))
    return _refresh(case)


def _perform(action: Action, case: Case, omni: User, unit_actor: User) -> None:
    """Attempt `action` with an actor holding every role it could need."""
    calls: dict[Action, Callable[[], Any]] = {
        Action.ACCEPT: lambda: services.accept(case, actor=omni),
        Action.REQUEST_SUPPLEMENT: lambda: services.request_supplement(
            case, actor=omni, items=ITEMS
        ),
        Action.SUPPLY: lambda: services.attach_supplement(case, case.dossier, actor=unit_actor),
        Action.ASSIGN: lambda: services.assign(case, actor=omni, assignee=omni),
        Action.REASSIGN: lambda: services.reassign(case, actor=omni, assignee=omni),
        Action.FORWARD: lambda: services.forward(case, actor=omni, department="benefits"),
        Action.COMPLETE: lambda: services.complete(case, actor=omni),
        Action.RETURN_RESULT: lambda: services.return_result(case, actor=omni),
        Action.CLOSE: lambda: services.close(case, actor=omni),
        Action.WITHDRAW: lambda: services.on_withdrawn(case.dossier),
    }
    assert set(calls) == set(Action)
    calls[action]()


@pytest.mark.parametrize("stage", list(Stage))
def test_every_action_missing_from_the_table_is_refused(
    stage: Stage,
    new_case: Callable[[], Case],
    omni: User,
    unit_admin: User,
    submit: Callable[..., Dossier],
) -> None:
    case = _drive(new_case(), stage, omni, submit)
    assert case.stage == stage
    allowed = set(workflow.actions_from(stage))
    refused = [a for a in Action if a not in allowed]
    if stage == Stage.WITHDRAWN:
        refused.remove(Action.WITHDRAW)  # following the intake's withdrawal again is a no-op
    for action in refused:
        before = (case.stage, Step.objects.filter(case=case).count())
        with pytest.raises(ProcessingError) as exc:
            _perform(action, _refresh(case), omni, unit_admin)
        assert _code(exc) == "PRC-TRANSITION", (stage, action)
        assert exc.value.status == 409
        after = _refresh(case)
        assert (after.stage, Step.objects.filter(case=case).count()) == before


# --- roles and agencies -------------------------------------------------------------------------


def test_officers_of_another_agency_are_refused(
    case: Case, other_officer: User, other_desk: User, thu_officer: User, desk_officer: User
) -> None:
    for actor in (other_desk, other_officer):
        with pytest.raises(ProcessingError) as exc:
            services.accept(case, actor=actor)
        assert _code(exc) == "PRC-SCOPE" and exc.value.status == 403
    services.accept(case, actor=desk_officer)
    with pytest.raises(ProcessingError) as exc:
        services.assign(_refresh(case), actor=other_officer, assignee=other_officer)
    assert _code(exc) == "PRC-SCOPE"
    # nor can an officer of the right department elsewhere be given the dossier
    with pytest.raises(ProcessingError) as exc:
        services.assign(_refresh(case), actor=thu_officer, assignee=other_officer)
    assert _code(exc) == "PRC-ASSIGNEE"
    assert _refresh(case).stage == Stage.ROUTED


def test_the_wrong_role_is_refused(
    case: Case,
    desk_officer: User,
    thu_officer: User,
    thu_officer2: User,
    sothe_officer: User,
    unit_admin: User,
) -> None:
    for actor in (thu_officer, unit_admin):  # the desk accepts, not a department or the unit
        with pytest.raises(ProcessingError) as exc:
            services.accept(case, actor=actor)
        assert _code(exc) == "PRC-ROLE"
    services.accept(case, actor=desk_officer)
    for actor in (sothe_officer, desk_officer):  # Thu's queue: Sổ-thẻ and the desk may not assign
        with pytest.raises(ProcessingError) as exc:
            services.assign(_refresh(case), actor=actor, assignee=thu_officer)
        assert _code(exc) == "PRC-ROLE"
    with pytest.raises(ProcessingError) as exc:  # the assignee must hold the department's role
        services.assign(_refresh(case), actor=thu_officer, assignee=desk_officer)
    assert _code(exc) == "PRC-ASSIGNEE"
    services.assign(_refresh(case), actor=thu_officer, assignee=thu_officer)
    with pytest.raises(ProcessingError) as exc:  # same department, but not the assignee
        services.complete(_refresh(case), actor=thu_officer2)
    assert _code(exc) == "PRC-NOT-ASSIGNEE"
    services.reassign(_refresh(case), actor=thu_officer2, assignee=thu_officer2)
    with pytest.raises(ProcessingError) as exc:
        services.complete(_refresh(case), actor=thu_officer)
    assert _code(exc) == "PRC-NOT-ASSIGNEE"
    services.complete(_refresh(case), actor=thu_officer2)
    with pytest.raises(ProcessingError) as exc:  # the department does not return results
        services.return_result(_refresh(case), actor=thu_officer2)
    assert _code(exc) == "PRC-ROLE"


def test_forward_needs_another_valid_department(
    case: Case, desk_officer: User, thu_officer: User
) -> None:
    services.accept(case, actor=desk_officer)
    services.assign(_refresh(case), actor=thu_officer, assignee=thu_officer)
    for department in ("collection", "nonsense"):
        with pytest.raises(ProcessingError) as exc:
            services.forward(_refresh(case), actor=thu_officer, department=department)
        assert _code(exc) == "PRC-DEPARTMENT"


def test_routing_is_configurable_per_procedure(
    new_case: Callable[[], Case], desk_officer: User, sysadmin: User
) -> None:
    from ebhxh.catalog.models import Procedure

    first = new_case()
    services.set_routing(Procedure.objects.get(code="600"), "benefits", actor=sysadmin)
    services.accept(first, actor=desk_officer)
    assert _refresh(first).department == "benefits"
    second = new_case()
    services.accept(second, actor=desk_officer, department="books_cards")  # the desk decides
    assert _refresh(second).department == "books_cards"
    with pytest.raises(ProcessingError) as exc:
        services.accept(new_case(), actor=desk_officer, department="thu")
    assert _code(exc) == "PRC-DEPARTMENT"
    assert AuditEvent.objects.filter(tag="processing:routing:set").count() == 1


def test_withdrawal_by_the_unit_takes_the_case_off_the_desk(
    case: Case, desk_officer: User, unit_admin: User
) -> None:
    intake.withdraw(case.dossier, user=unit_admin, reason="nộp nhầm")  # calls on_withdrawn
    with pytest.raises(ProcessingError) as exc:
        services.accept(_refresh(case), actor=desk_officer)
    assert _code(exc) in ("PRC-WITHDRAWN", "PRC-TRANSITION")
    services.on_withdrawn(case.dossier, actor=unit_admin)  # idempotent
    case = _refresh(case)
    assert case.stage == Stage.WITHDRAWN and case.closed_at is not None
    assert case.steps.filter(action="withdraw").count() == 1
    assert not services.queue(desk_officer).filter(pk=case.pk).exists()


# --- supplements and the clock ------------------------------------------------------------------


def _working_run(start: dt.date, length: int) -> dt.date:
    """The first working day on or after `start` followed by `length` more working days in a
    row (so a pause from it lasts exactly `length` working days over `length` calendar days)."""
    day = start
    while not all(is_working_day(day + dt.timedelta(days=i)) for i in range(length + 1)):
        day += dt.timedelta(days=1)
    return day


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def test_a_supplement_stops_the_clock_and_moves_the_due_date(
    case: Case,
    desk_officer: User,
    unit_admin: User,
    submit: Callable[..., Dossier],
    django_capture_on_commit_callbacks: Any,
) -> None:
    start = _working_run(timezone.localdate() + dt.timedelta(days=1), 2)
    due = case.due_date
    with pytest.raises(ProcessingError) as exc:
        services.request_supplement(case, actor=desk_officer, items=[{"issue": "thiếu"}])
    assert _code(exc) == "PRC-GUIDANCE"
    with time_machine.travel(_at(start, 9), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            request = services.request_supplement(case, actor=desk_officer, items=ITEMS)
        frozen = services.remaining(_refresh(case))
    case = _refresh(case)
    assert case.stage == Stage.SUPPLEMENT and case.paused_since == _at(start, 9)
    dossier = Dossier.objects.get(pk=case.dossier_id)
    assert dossier.status == Status.SUPPLEMENT
    assert "Thiếu hợp đồng lao động" in dossier.events.order_by("-pk")[0].note
    sent = mail.outbox[-1]
    assert "Bổ sung bản chụp hợp đồng lao động đã ký" in sent.body
    assert dossier.unit.contact_email in sent.to
    # while paused, the remaining time does not run down
    assert frozen is not None and frozen.paused
    later = services.remaining(case, _at(start + dt.timedelta(days=30), 10))
    assert later == frozen

    with time_machine.travel(_at(start + dt.timedelta(days=2), 10), tick=False):
        # the unit's software names the dossier it answers; the intake attaches it
        supplement = submit(supplement_to=case.dossier)
    answered = SupplementRequest.objects.get(pk=request.pk)
    case = _refresh(case)
    assert answered.pk == request.pk and answered.supplement == supplement
    assert answered.paused_working_days == 2 and case.paused_days == 2
    assert case.due_date == add_working_days(due, 2)
    assert working_days_between(due, case.due_date) == 2
    assert case.original_due_date == due and case.paused_since is None
    assert case.stage == Stage.DESK
    assert Dossier.objects.get(pk=case.dossier_id).status == Status.RECEIVED
    note = Dossier.objects.get(pk=case.dossier_id).events.order_by("-pk")[0].note
    assert supplement.number in note and case.due_date.strftime("%d/%m/%Y") in note
    assert case.number in supplement.events.order_by("-pk")[0].note
    # back at the desk: it goes on as any other dossier
    services.accept(case, actor=desk_officer)
    assert _refresh(case).stage == Stage.ROUTED


def test_a_supplement_must_be_a_received_dossier_of_the_same_unit(
    case: Case,
    desk_officer: User,
    unit_admin: User,
    outsider: User,
    submit: Callable[..., Dossier],
) -> None:
    services.request_supplement(case, actor=desk_officer, items=ITEMS)
    case = _refresh(case)
    with pytest.raises(ProcessingError) as exc:  # its own dossier
        services.attach_supplement(case, case.dossier, actor=unit_admin)
    assert _code(exc) == "PRC-SUPPLEMENT"
    started = services.start_case(submit())  # a dossier already processed on its own
    with pytest.raises(ProcessingError) as exc:
        services.attach_supplement(case, started.dossier, actor=unit_admin)
    assert _code(exc) == "PRC-SUPPLEMENT"
    supplement = submit(open_case=False)
    with pytest.raises(ProcessingError) as exc:  # another unit's member
        services.attach_supplement(case, supplement, actor=outsider)
    assert _code(exc) == "PRC-SCOPE"
    with pytest.raises(ProcessingError) as exc:  # an officer does not supply for the unit
        services.attach_supplement(case, supplement, actor=desk_officer)
    assert _code(exc) == "PRC-ROLE"
    services.attach_supplement(case, supplement)  # filed by software: no user
    assert SupplementRequest.objects.get().supplement == supplement


def test_a_department_may_also_ask_for_a_supplement(
    case: Case, desk_officer: User, thu_officer: User, thu_officer2: User
) -> None:
    services.accept(case, actor=desk_officer)
    services.assign(_refresh(case), actor=thu_officer, assignee=thu_officer)
    with pytest.raises(ProcessingError) as exc:
        services.request_supplement(_refresh(case), actor=thu_officer2, items=ITEMS)
    assert _code(exc) == "PRC-NOT-ASSIGNEE"
    services.request_supplement(_refresh(case), actor=thu_officer, items=ITEMS)
    case = _refresh(case)
    assert (case.stage, case.department, case.assigned_to) == (Stage.SUPPLEMENT, "", None)


# --- messages ---------------------------------------------------------------------------------


def test_messages_are_emailed_to_the_other_side(
    case: Case,
    desk_officer: User,
    thu_officer: User,
    unit_admin: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(case, actor=unit_admin, body="Xin hỏi khi nào có kết quả?")
    # at the desk with nobody assigned: the desk officers
    assert mail.outbox[-1].to == [desk_officer.email]
    assert "Xin hỏi khi nào có kết quả?" in mail.outbox[-1].body
    services.accept(case, actor=desk_officer)
    services.assign(_refresh(case), actor=thu_officer, assignee=thu_officer)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(_refresh(case), actor=unit_admin, body="Bổ sung thông tin.")
    assert mail.outbox[-1].to == [thu_officer.email]
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(_refresh(case), actor=thu_officer, body="Đã nhận, cảm ơn.")
    assert mail.outbox[-1].to == [case.unit.contact_email.lower()]
    assert "Đã nhận, cảm ơn." in mail.outbox[-1].body
    sides = list(Message.objects.values_list("side", flat=True))
    assert sides == ["unit", "unit", "agency"]
    kinds = [e.kind for e in services.timeline(case, viewer=unit_admin)]
    assert kinds.count("message") == 3
    assert AuditEvent.objects.filter(tag="case:message:add").count() == 3


def test_messages_are_refused_outside_scope_empty_or_closed(
    case: Case, outsider: User, other_officer: User, unit_admin: User, omni: User
) -> None:
    for actor in (outsider, other_officer):
        with pytest.raises(ProcessingError) as exc:
            services.post_message(case, actor=actor, body="xin chào")
        assert _code(exc) == "PRC-SCOPE"
    for body in ("   ", "x" * 4001):
        with pytest.raises(ProcessingError) as exc:
            services.post_message(case, actor=unit_admin, body=body)
        assert _code(exc) == "PRC-MESSAGE"
    _drive(case, Stage.CLOSED, omni, lambda: case.dossier)
    with pytest.raises(ProcessingError) as exc:
        services.post_message(_refresh(case), actor=unit_admin, body="còn gì nữa không?")
    assert _code(exc) == "PRC-CLOSED"
    assert Message.objects.count() == 0


def test_error_codes_have_vietnamese_and_english() -> None:
    codes = services.error_codes()
    assert all(code.startswith("PRC-") for code in codes)
    for vi, en, status in codes.values():
        assert vi and en and vi != en and status in (403, 409, 422)
    with translation.override("en"):
        error = ProcessingError("PRC-SCOPE")
    assert error.as_dict() == {
        "code": "PRC-SCOPE",
        "message_vi": "Hồ sơ không thuộc phạm vi của bạn.",
        "message_en": codes["PRC-SCOPE"][1],
    }


# --- the registry on completion ------------------------------------------------------------------


def test_completing_a_600_dossier_updates_the_registry_and_stops_on_conflicts(
    submit: Callable[..., Dossier], omni: User
) -> None:
    from ebhxh.units import registry
    from ebhxh.units.models import Employment

    def to_result(dossier: Dossier) -> None:
        case = Case.objects.get(dossier=dossier)
        services.accept(case, actor=omni)
        services.assign(_refresh(case), actor=omni, assignee=omni)
        services.complete(_refresh(case), actor=omni)

    first = submit(rows=3, first=5000)
    to_result(first)
    employed = Employment.objects.filter(unit=first.unit, end_month__isnull=True)
    assert employed.count() == 3
    # the same three people increased again: already employed here
    signed_earlier = dt.datetime(2026, 7, 6, 2, 0, tzinfo=dt.UTC)  # other bytes, same rows
    again = submit(rows=3, first=5000, signing_time=signed_earlier)
    with pytest.raises(ProcessingError) as exc:
        to_result(again)
    assert _code(exc) == "PRC-REGISTRY" and "RGY-UNRESOLVED" in exc.value.detail
    case = _refresh(Case.objects.get(dossier=again))
    assert case.stage == Stage.ASSIGNED  # nothing moved
    seen = registry.plan(again)
    assert {c.code for c in seen.conflicts} == {"RGY-CONFLICT-ALREADY-EMPLOYED"}
    services.complete(
        case,
        actor=omni,
        registry_plan=seen.as_dict(),
        accept_conflicts={c.id for c in seen.conflicts},
    )
    assert _refresh(case).stage == Stage.RESULT
    assert employed.count() == 3  # the accepted conflicts skipped their rows
