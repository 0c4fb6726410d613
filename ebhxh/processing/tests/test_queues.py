"""Queues, search, remaining time, near-due and overdue lists, the supervisors' digest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from ebhxh.accounts.models import Role, User
from ebhxh.catalog.models import Agency
from ebhxh.lib.workdays import add_working_days
from ebhxh.processing import services, tasks
from ebhxh.processing.models import Case, Stage
from ebhxh.processing.tests.conftest import _officer

pytestmark = pytest.mark.django_db


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


# --- remaining time (no database) --------------------------------------------------------------


def _unsaved(stage: str, due: dt.date, paused_since: dt.datetime | None = None) -> Case:
    return Case(stage=stage, due_date=due, original_due_date=due, paused_since=paused_since)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # due Friday 4 Dec 2026 (an ordinary week)
        (_at(dt.date(2026, 12, 2), 10), (2, 7, False)),  # Wed 10:00: Thu, Fri + 7 h today
        (_at(dt.date(2026, 12, 4), 16, 30), (0, 1, False)),  # Fri 16:30: half an hour left
        (_at(dt.date(2026, 12, 4), 18), (0, 0, False)),  # after hours on the day: not yet late
        (_at(dt.date(2026, 12, 5), 9), (0, 0, True)),  # Saturday: late, 0 working days
        (_at(dt.date(2026, 12, 8), 9), (-2, 0, True)),  # Tuesday: Mon and Tue late
        (_at(dt.date(2026, 11, 28), 10), (5, 0, False)),  # a Saturday: no hours today
    ],
)
def test_remaining_counts_working_days_and_office_hours(
    now: dt.datetime, expected: tuple[int, int, bool]
) -> None:
    left = services.remaining(_unsaved(Stage.ASSIGNED, dt.date(2026, 12, 4)), now)
    assert left is not None
    assert (left.days, left.hours, left.overdue) == expected
    assert not left.paused


def test_remaining_is_frozen_while_paused_and_gone_once_returned() -> None:
    case = _unsaved(Stage.SUPPLEMENT, dt.date(2026, 12, 4), _at(dt.date(2026, 12, 2), 10))
    left = services.remaining(case, _at(dt.date(2027, 1, 20), 10))
    assert left is not None and (left.days, left.hours, left.paused) == (2, 7, True)
    assert str(left) == "Còn 2 ngày 7 giờ (tạm dừng)"
    assert services.remaining(_unsaved(Stage.RETURNED, dt.date(2026, 12, 4))) is None
    late = services.remaining(
        _unsaved(Stage.RESULT, dt.date(2026, 12, 4)), _at(dt.date(2026, 12, 8), 9)
    )
    assert str(late) == "Quá hạn 2 ngày"


# --- queues and search ----------------------------------------------------------------------------


@pytest.fixture
def three(new_case: Callable[[], Case], desk_officer: User, thu_officer: User) -> list[Case]:
    """Three cases of unit A: at the desk, routed to Thu, assigned to thu_officer."""
    at_desk, routed, assigned = new_case(), new_case(), new_case()
    services.accept(routed, actor=desk_officer)
    services.accept(assigned, actor=desk_officer)
    services.assign(Case.objects.get(pk=assigned.pk), actor=thu_officer, assignee=thu_officer)
    return [Case.objects.get(pk=c.pk) for c in (at_desk, routed, assigned)]


def _pks(qs: Any) -> list[int]:
    return [c.pk for c in qs]


def test_the_queue_is_scoped_to_the_officers_agency(
    three: list[Case], desk_officer: User, other_officer: User, supervisor: User, omni: User
) -> None:
    assert set(_pks(services.queue(desk_officer))) == {c.pk for c in three}
    assert _pks(services.queue(other_officer)) == []
    assert set(_pks(services.queue(supervisor))) == {c.pk for c in three}  # the province's
    # a supervisor of a base agency does not see a sibling agency's dossiers
    sibling = Agency.objects.get(code="79902")
    assert _pks(services.queue(_officer("gs.khac", sibling, Role.SUPERVISOR))) == []


def test_the_queue_filters(three: list[Case], desk_officer: User, thu_officer: User) -> None:
    at_desk, routed, assigned = three
    q = services.queue
    assert _pks(q(desk_officer, status=Stage.DESK)) == [at_desk.pk]
    assert set(_pks(q(desk_officer, department="collection"))) == {routed.pk, assigned.pk}
    assert _pks(q(desk_officer, status=[Stage.ASSIGNED])) == [assigned.pk]
    assert len(_pks(q(desk_officer, procedure="600"))) == 3
    assert _pks(q(desk_officer, procedure="604")) == []
    assert len(_pks(q(desk_officer, unit=at_desk.unit))) == 3
    assert _pks(q(desk_officer, unit="TB0002B")) == []
    Case.objects.filter(pk=routed.pk).update(due_date=timezone.localdate() - dt.timedelta(days=3))
    assert _pks(q(desk_officer, overdue=True)) == [routed.pk]
    assert set(_pks(q(desk_officer, overdue=False))) == {at_desk.pk, assigned.pk}
    assert _pks(q(desk_officer, due_before=timezone.localdate())) == [routed.pk]
    assert _pks(q(desk_officer))[0] == routed.pk  # most urgent first


def test_a_queue_page_is_one_query(
    three: list[Case], desk_officer: User, django_assert_num_queries: Any
) -> None:
    services.agencies_in_scope(desk_officer)  # the officer's scope: once per request
    with django_assert_num_queries(1):
        rows = list(services.queue(desk_officer)[:50])
        left = [services.remaining(c) for c in rows]  # no query per row
        names = [(c.unit.name, str(c.assigned_to or "")) for c in rows]
    assert len(rows) == len(left) == len(names) == 3


def test_search_by_number_unit_code_and_tax_code(
    three: list[Case], desk_officer: User, other_officer: User
) -> None:
    case = three[0]
    assert _pks(services.search(desk_officer, case.number)) == [case.pk]
    prefix = case.number.rsplit("/", 1)[0]  # NNNNN/YYYY
    assert _pks(services.search(desk_officer, prefix)) == [case.pk]
    assert len(_pks(services.search(desk_officer, case.unit_code.lower()))) == 3
    assert len(_pks(services.search(desk_officer, case.unit_tax_code))) == 3
    assert _pks(services.search(desk_officer, "")) == []
    assert _pks(services.search(desk_officer, "KHONGCO")) == []
    assert _pks(services.search(other_officer, case.number)) == []


def test_near_due_and_overdue(three: list[Case], base_agency: Agency) -> None:
    at_desk, routed, assigned = three
    today = timezone.localdate()
    now = _at(today, 10)
    Case.objects.filter(pk=at_desk.pk).update(due_date=today - dt.timedelta(days=1))
    Case.objects.filter(pk=routed.pk).update(due_date=add_working_days(today, 1))
    Case.objects.filter(pk=assigned.pk).update(due_date=add_working_days(today, 3))
    assert _pks(services.overdue(base_agency, now=now)) == [at_desk.pk]
    assert _pks(services.near_due(base_agency, now=now)) == [routed.pk]
    assert set(_pks(services.near_due(base_agency, days=3, now=now))) == {routed.pk, assigned.pk}
    # a case waiting for the unit's supplement is neither: its clock is stopped
    Case.objects.filter(pk=at_desk.pk).update(stage=Stage.RESULT)
    assert _pks(services.overdue(base_agency, now=now)) == [at_desk.pk]
    Case.objects.filter(pk=at_desk.pk).update(stage=Stage.SUPPLEMENT, department="")
    assert _pks(services.overdue(base_agency, now=now)) == []


# --- the daily digest ---------------------------------------------------------------------------


def test_the_daily_digest_goes_to_each_supervisor_once_a_day(
    three: list[Case],
    supervisor: User,
    other_agency: Agency,
    django_capture_on_commit_callbacks: Any,
) -> None:
    at_desk, routed, _assigned = three
    idle = _officer("gs.khac", other_agency, Role.SUPERVISOR)  # nothing in scope: no e-mail
    today = timezone.localdate()
    Case.objects.filter(pk=at_desk.pk).update(due_date=today - dt.timedelta(days=7))
    Case.objects.filter(pk=routed.pk).update(due_date=today)
    assert services.daily_digest(now=_at(today, 6)) == 0  # before DIGEST_HOUR
    with django_capture_on_commit_callbacks(execute=True):
        assert services.daily_digest(now=_at(today, 8)) == 1
    sent = mail.outbox[-1]
    assert sent.to == [supervisor.email] and idle.email not in sent.to
    assert "1 hồ sơ quá hạn" in sent.subject
    assert at_desk.number in sent.body and routed.number not in sent.body
    assert "Sắp đến hạn (trong 1 ngày làm việc): 1" in sent.body
    assert "Đang giải quyết: 3" in sent.body
    assert services.daily_digest(now=_at(today, 9)) == 0  # already sent today
    digest = services.digest_for(supervisor, now=_at(today, 8))
    assert (digest["active"], digest["overdue"], digest["near_due"]) == (3, 1, 1)
    assert digest["overdue_rows"][0]["number"] == at_desk.number


def test_the_digest_task_calls_the_service(
    three: list[Case], supervisor: User, monkeypatch: Any
) -> None:
    monkeypatch.setattr(services, "DIGEST_HOUR", 0)
    assert tasks.daily_digest.delay().get() == 1
    assert tasks.daily_digest.delay().get() == 0
