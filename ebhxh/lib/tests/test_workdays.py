"""Tests for ebhxh.lib.workdays (pure Python, no Django needed).

Holiday facts below were checked against holidays 0.109 (`holidays.Vietnam(years=[2026, 2027])`)
and stack-notes.md §7.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebhxh.lib import workdays
from ebhxh.lib.workdays import (
    DEFAULT_ADJUSTMENTS_PATH,
    WorkCalendar,
    default_calendar,
    load_adjustments,
)

PROPERTY = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

D = date


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def non_working(cal: WorkCalendar, first: date, last: date) -> list[date]:
    days = []
    d = first
    while d <= last:
        if not cal.is_working_day(d):
            days.append(d)
        d += timedelta(days=1)
    return days


# --------------------------------------------------------------------------- holidays


def test_tet_2026(cal: WorkCalendar) -> None:
    # Tết Bính Ngọ: 16-20 Feb 2026 (Mon-Fri) + weekends -> 14-22 Feb off, 9 days.
    assert non_working(cal, D(2026, 2, 9), D(2026, 2, 27)) == [
        D(2026, 2, 14) + timedelta(days=i) for i in range(9)
    ]
    assert cal.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 23)
    assert cal.add_working_days(D(2026, 2, 13), 5) == D(2026, 2, 27)
    assert cal.add_working_days(D(2026, 2, 12), 2) == D(2026, 2, 23)


def test_tet_2027(cal: WorkCalendar) -> None:
    # Tết Đinh Mùi: 4-10 Feb 2027 (Thu-Wed; 6-7 Feb are the weekend, compensated).
    assert non_working(cal, D(2027, 2, 1), D(2027, 2, 14)) == [
        D(2027, 2, 4) + timedelta(days=i) for i in range(7)
    ] + [D(2027, 2, 13), D(2027, 2, 14)]
    assert cal.is_working_day(D(2027, 2, 3))
    assert cal.is_working_day(D(2027, 2, 11))
    assert cal.add_working_days(D(2027, 2, 3), 1) == D(2027, 2, 11)


def test_hung_kings_and_reunification_2026(cal: WorkCalendar) -> None:
    # 26 Apr (Sun) Hùng Kings, observed Mon 27 Apr; 30 Apr (Thu), 1 May (Fri).
    assert not cal.is_working_day(D(2026, 4, 26))
    assert not cal.is_working_day(D(2026, 4, 27))
    assert cal.is_working_day(D(2026, 4, 28))
    assert cal.is_working_day(D(2026, 4, 29))
    assert not cal.is_working_day(D(2026, 4, 30))
    assert not cal.is_working_day(D(2026, 5, 1))
    assert cal.add_working_days(D(2026, 4, 24), 1) == D(2026, 4, 28)
    assert cal.add_working_days(D(2026, 4, 29), 1) == D(2026, 5, 4)
    assert cal.working_days_between(D(2026, 4, 24), D(2026, 5, 4)) == 3


def test_national_day_2026_with_swap(cal: WorkCalendar) -> None:
    # 1-2 Sep (Tue-Wed); Monday 31 Aug off, swapped with Saturday 22 Aug.
    assert not cal.is_working_day(D(2026, 9, 1))
    assert not cal.is_working_day(D(2026, 9, 2))
    assert not cal.is_working_day(D(2026, 8, 31))
    assert cal.is_working_day(D(2026, 8, 22))
    assert cal.add_working_days(D(2026, 8, 28), 1) == D(2026, 9, 3)


def test_2027_reunification_labour_and_national_day(cal: WorkCalendar) -> None:
    assert not cal.is_working_day(D(2027, 4, 16))  # Hùng Kings (Fri)
    assert not cal.is_working_day(D(2027, 4, 30))  # Fri
    assert not cal.is_working_day(D(2027, 5, 3))  # 1 May is a Saturday -> observed Monday
    assert not cal.is_working_day(D(2027, 9, 2))
    assert not cal.is_working_day(D(2027, 9, 3))


def test_vietnam_cultural_day_from_2026(cal: WorkCalendar) -> None:
    assert not cal.is_working_day(D(2026, 11, 24))
    assert cal.is_working_day(D(2025, 11, 24))


def test_2025_swap(cal: WorkCalendar) -> None:
    assert cal.is_working_day(D(2025, 4, 26))  # make-up Saturday
    assert not cal.is_working_day(D(2025, 5, 2))  # bridge Friday


# --------------------------------------------------------------------------- data file


def test_new_year_2026_swap_comes_from_data_file(cal: WorkCalendar) -> None:
    # The holidays package does not know this swap; only the data file provides it.
    bare = WorkCalendar(adjustments_path=None)
    assert bare.is_working_day(D(2026, 1, 2))
    assert not bare.is_working_day(D(2026, 1, 10))

    assert not cal.is_working_day(D(2026, 1, 2))  # Friday off
    assert cal.is_working_day(D(2026, 1, 10))  # make-up Saturday counts as working
    assert cal.add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 5)
    assert cal.add_working_days(D(2026, 1, 9), 1) == D(2026, 1, 10)
    assert cal.add_working_days(D(2026, 1, 10), 0) == D(2026, 1, 10)
    assert cal.make_up_working_days(2026) == [D(2026, 1, 10), D(2026, 8, 22)]


def test_bundled_data_file_is_valid() -> None:
    adjustments = load_adjustments(DEFAULT_ADJUSTMENTS_PATH)
    assert adjustments
    kinds = {a.kind for a in adjustments}
    assert kinds == {"day_off", "working_day"}
    for adj in adjustments:
        assert adj.source
        assert adj.name_vi and adj.name_en
        if adj.kind == "working_day":
            assert adj.day.weekday() >= 5, adj
        else:
            assert adj.day.weekday() < 5, adj


def test_holidays_in(cal: WorkCalendar) -> None:
    vi = dict(cal.holidays_in(2026))
    en = dict(cal.holidays_in(2026, "en"))
    assert vi.keys() == en.keys()
    assert vi[D(2026, 2, 17)] == "Tết Nguyên Đán"
    assert en[D(2026, 2, 17)] == "Lunar New Year"
    assert D(2026, 1, 2) in vi  # data-file day off
    assert D(2026, 1, 10) not in vi
    days = [d for d, _ in cal.holidays_in(2026)]
    assert days == sorted(days)
    assert all(d.year == 2026 for d in days)
    assert {D(2026, 4, 26), D(2026, 4, 27), D(2026, 8, 31), D(2026, 11, 24)} <= set(days)


def test_extra_adjustments_override_file() -> None:
    cal = WorkCalendar(
        extra_adjustments=[
            {"date": "2026-01-02", "kind": "working_day", "source": "test"},
            {"date": "2026-03-06", "kind": "day_off", "source": "test", "name_en": "Bridge"},
            {"date": "2026-03-14", "kind": "working_day", "source": "test"},
        ]
    )
    assert cal.is_working_day(D(2026, 1, 2))
    assert not cal.is_working_day(D(2026, 3, 6))
    assert cal.is_working_day(D(2026, 3, 14))
    assert (D(2026, 3, 6), "Bridge") in cal.holidays_in(2026, "en")
    assert cal.add_working_days(D(2026, 3, 5), 1) == D(2026, 3, 9)
    assert cal.add_working_days(D(2026, 3, 13), 1) == D(2026, 3, 14)


def test_working_day_override_beats_public_holiday() -> None:
    cal = WorkCalendar(
        adjustments_path=None,
        extra_adjustments=[{"date": "2026-09-01", "kind": "working_day", "source": "test"}],
    )
    assert cal.is_working_day(D(2026, 9, 1))
    assert D(2026, 9, 1) not in dict(cal.holidays_in(2026))


def _write(tmp_path: Path, entries: object, **top: object) -> Path:
    path = tmp_path / "adj.json"
    path.write_text(
        json.dumps({"schema_version": 1, "adjustments": entries, **top}), encoding="utf-8"
    )
    return path


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"date": "2026-03-06", "kind": "holiday", "source": "x"}, "kind must be"),
        ({"date": "2026-02-30", "kind": "day_off", "source": "x"}, "invalid date"),
        ({"date": "06/03/2026", "kind": "day_off", "source": "x"}, "YYYY-MM-DD"),
        ({"date": 20260306, "kind": "day_off", "source": "x"}, "YYYY-MM-DD"),
        ({"date": "2026-03-06", "kind": "day_off"}, "missing key"),
        ({"date": "2026-03-06", "kind": "day_off", "source": " "}, "source must not be empty"),
        ({"date": "2026-03-06", "kind": "day_off", "source": "x", "sauce": 1}, "unknown key"),
        ({"date": "2026-03-06", "kind": "day_off", "source": "x", "note": 3}, "note must be"),
    ],
)
def test_bad_entry_is_rejected_with_clear_message(
    tmp_path: Path, entry: dict[str, object], message: str
) -> None:
    good = {"date": "2026-03-14", "kind": "working_day", "source": "x"}
    path = _write(tmp_path, [good, entry])
    with pytest.raises(ValueError, match=message) as exc_info:
        WorkCalendar(adjustments_path=path)
    assert "adjustments[1]" in str(exc_info.value)
    assert str(path) in str(exc_info.value)
    if isinstance(entry["date"], str):
        assert entry["date"] in str(exc_info.value)


def test_bad_extra_entry_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"<extra>: adjustments\[0\].*kind must be"):
        WorkCalendar(extra_adjustments=[{"date": "2026-03-06", "kind": "off", "source": "x"}])


def test_duplicate_date_is_rejected(tmp_path: Path) -> None:
    entry = {"date": "2026-03-06", "kind": "day_off", "source": "x"}
    with pytest.raises(ValueError, match=r"adjustments\[1\].*duplicate.*adjustments\[0\]"):
        WorkCalendar(adjustments_path=_write(tmp_path, [entry, dict(entry)]))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ("[]", "top level"),
        ('{"adjustments": []}', "schema_version"),
        ('{"schema_version": 1, "adjustments": {}}', "must be a list"),
        ('{"schema_version": 1, "adjustments": [1]}', r"adjustments\[0\]: expected an object"),
    ],
)
def test_bad_file_structure(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "adj.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_adjustments(path)


# --------------------------------------------------------------------------- API edges


def test_add_working_days_zero(cal: WorkCalendar) -> None:
    assert cal.add_working_days(D(2026, 3, 4), 0) == D(2026, 3, 4)  # Wednesday
    assert cal.add_working_days(D(2026, 3, 7), 0) == D(2026, 3, 9)  # Saturday -> Monday
    assert cal.add_working_days(D(2026, 2, 16), 0) == D(2026, 2, 23)  # during Tết


def test_receipt_on_non_working_day_counts_from_next_working_day(cal: WorkCalendar) -> None:
    # Received Saturday -> receipt day Monday -> 1 working day later is Tuesday.
    assert cal.add_working_days(D(2026, 3, 7), 1) == D(2026, 3, 10)
    assert cal.add_working_days(D(2026, 3, 6), 1) == D(2026, 3, 9)  # Friday -> Monday


def test_working_days_between_examples(cal: WorkCalendar) -> None:
    assert cal.working_days_between(D(2026, 3, 2), D(2026, 3, 2)) == 0
    assert cal.working_days_between(D(2026, 3, 2), D(2026, 3, 9)) == 5
    assert cal.working_days_between(D(2026, 3, 9), D(2026, 3, 2)) == -5
    assert cal.working_days_between(D(2026, 2, 13), D(2026, 2, 23)) == 1
    assert cal.working_days_between(D(2026, 1, 1), D(2026, 12, 31)) == len(
        [
            d
            for d in (D(2026, 1, 2) + timedelta(days=i) for i in range(364))
            if cal.is_working_day(d)
        ]
    )


def test_invalid_arguments(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add_working_days(D(2026, 3, 2), -1)
    with pytest.raises(TypeError):
        cal.is_working_day(datetime(2026, 3, 2, 9, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="supported years"):
        cal.is_working_day(D(2150, 1, 1))
    with pytest.raises(ValueError, match="supported years"):
        cal.holidays_in(1900)


def test_weekend_parameter() -> None:
    six_day_week = WorkCalendar(weekend={workdays.SUNDAY})
    assert six_day_week.is_working_day(D(2026, 3, 7))  # Saturday
    assert not six_day_week.is_working_day(D(2026, 3, 8))  # Sunday
    assert not six_day_week.is_working_day(D(2026, 2, 17))  # Tết still off
    assert six_day_week.add_working_days(D(2026, 3, 6), 1) == D(2026, 3, 7)
    with pytest.raises(ValueError):
        WorkCalendar(weekend=range(7))
    with pytest.raises(ValueError):
        WorkCalendar(weekend={7})


def test_default_calendar_and_module_functions() -> None:
    assert default_calendar() is default_calendar()
    assert workdays.add_working_days(D(2026, 2, 13), 5) == D(2026, 2, 27)
    assert workdays.is_working_day(D(2026, 2, 23))
    assert workdays.working_days_between(D(2026, 2, 13), D(2026, 2, 27)) == 5


def test_a_year_of_working_days_is_cheap() -> None:
    fresh = WorkCalendar()
    started = time.perf_counter()
    end = fresh.add_working_days(D(2026, 1, 1), 250)
    for _ in range(20):
        assert fresh.add_working_days(D(2026, 1, 1), 250) == end
    assert time.perf_counter() - started < 2.0
    # 1 Jan is a holiday and 2 Jan a swapped day off: the receipt day is Monday 5 Jan.
    assert fresh.add_working_days(D(2026, 1, 1), 0) == D(2026, 1, 5)
    assert fresh.working_days_between(D(2026, 1, 5), end) == 250


# --------------------------------------------------------------------------- properties

dates = st.dates(min_value=D(2024, 1, 1), max_value=D(2028, 6, 30))
counts = st.integers(min_value=0, max_value=60)


@PROPERTY
@given(start=dates, n=counts)
def test_result_is_a_working_day_not_before_start(start: date, n: int) -> None:
    cal = default_calendar()
    result = cal.add_working_days(start, n)
    assert cal.is_working_day(result)
    assert result >= start
    assert (result > start) if n else True


@PROPERTY
@given(start=dates, n=counts)
def test_add_working_days_is_strictly_monotone(start: date, n: int) -> None:
    cal = default_calendar()
    current, following = cal.add_working_days(start, n), cal.add_working_days(start, n + 1)
    assert following > current
    # nothing working in between: the (n+1)-th day is the next working day after the n-th
    assert cal.working_days_between(current, following) == 1


@PROPERTY
@given(start=dates, n=counts)
def test_between_consistent_with_add(start: date, n: int) -> None:
    cal = default_calendar()
    receipt = cal.add_working_days(start, 0)
    result = cal.add_working_days(start, n)
    assert cal.working_days_between(receipt, result) == n
    assert cal.working_days_between(result, receipt) == -n
    if cal.is_working_day(start):
        assert cal.working_days_between(start, result) == n


@PROPERTY
@given(a=dates, b=dates, c=dates)
def test_between_is_additive(a: date, b: date, c: date) -> None:
    cal = default_calendar()
    ab = cal.working_days_between(a, b)
    assert ab + cal.working_days_between(b, c) == cal.working_days_between(a, c)
    assert abs(ab) <= abs((b - a).days)
