"""Working-day calendar for Vietnam (time limits in working days, vss-domain.md §5.3).

Pure Python, no Django. Layers, from bottom to top:

1. weekly rest days, Saturday and Sunday by default (``weekend`` parameter);
2. public holidays from the ``holidays`` package (``holidays.Vietnam``): the statutory days
   of the Labour Code incl. the lunar ones (Tết, Hùng Kings), their observed/compensatory
   days, and the few swaps the package knows (a substituted day off is a holiday, the
   make-up Saturday is in ``weekend_workdays``);
3. the government's yearly swaps from ``data/calendar_adjustments.json`` (extra days off,
   make-up working days), plus ``extra_adjustments`` given to the constructor.
   A later layer wins: ``working_day`` makes a date a working day even if it is a weekend
   day or a holiday; ``day_off`` makes it a non-working day.

The swaps are decreed for civil servants (cán bộ, công chức, viên chức), i.e. for the
calendar the VSS agency works on, which is what appointment dates are computed with.

Counting rule (:meth:`WorkCalendar.add_working_days`): a time limit of *n* working days is
counted from the day after receipt. The *receipt day* is the date received if it is a working
day, otherwise the next working day (a dossier that arrives on a Saturday or during Tết counts
as received on the next working day). The appointment date is the *n*-th working day after
the receipt day; with ``n = 0`` it is the receipt day itself. Example: received on Friday
2026-02-13 with a 5-working-day limit -> Tết runs 16-20 Feb -> the count runs 23, 24, 25, 26,
27 Feb -> appointment date 2026-02-27. Receipt after office hours is not handled here: pass
the next day as ``start`` if the procedure treats it as received the next day.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

from holidays import HolidayBase, country_holidays
from holidays.countries.vietnam import Vietnam

__all__ = [
    "DEFAULT_ADJUSTMENTS_PATH",
    "DEFAULT_WEEKEND",
    "MAX_YEAR",
    "MIN_YEAR",
    "SATURDAY",
    "SUNDAY",
    "Adjustment",
    "AdjustmentKind",
    "WorkCalendar",
    "add_working_days",
    "default_calendar",
    "is_working_day",
    "load_adjustments",
    "parse_adjustments",
    "working_days_between",
]

SATURDAY = 5
SUNDAY = 6
DEFAULT_WEEKEND: frozenset[int] = frozenset({SATURDAY, SUNDAY})
DEFAULT_ADJUSTMENTS_PATH = Path(__file__).resolve().parent / "data" / "calendar_adjustments.json"

# Years for which holidays.Vietnam computes holidays; outside them it silently returns
# nothing, which would make every weekday a working day, so such years are refused. Before
# 1995 the package has no observed (compensatory) days, so those years are refused too.
MIN_YEAR: int = max(Vietnam.start_year, 1995)
MAX_YEAR: int = Vietnam.end_year

AdjustmentKind = Literal["day_off", "working_day"]
_KINDS: tuple[AdjustmentKind, ...] = ("day_off", "working_day")
_REQUIRED_KEYS = frozenset({"date", "kind", "source"})
_OPTIONAL_KEYS = frozenset({"note", "name_vi", "name_en"})
_ISO_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One government-decreed change to the calendar."""

    day: date
    kind: AdjustmentKind
    source: str
    note: str = ""
    name_vi: str = ""
    name_en: str = ""


# --------------------------------------------------------------------------- loading


def _parse_entry(raw: object, where: str) -> Adjustment:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected an object, got {type(raw).__name__}")
    label = f"{where} (date={raw.get('date')!r})"
    keys = set(raw)
    if unknown := keys - _REQUIRED_KEYS - _OPTIONAL_KEYS:
        raise ValueError(f"{label}: unknown key(s) {sorted(map(str, unknown))}")
    if missing := _REQUIRED_KEYS - keys:
        raise ValueError(f"{label}: missing key(s) {sorted(missing)}")

    raw_date = raw["date"]
    if not isinstance(raw_date, str) or not _ISO_DATE_RE.fullmatch(raw_date):
        raise ValueError(f"{label}: date must be a string YYYY-MM-DD")
    try:
        day = date.fromisoformat(raw_date)
    except ValueError as exc:
        raise ValueError(f"{label}: invalid date ({exc})") from None

    kind = raw["kind"]
    if kind not in _KINDS:
        raise ValueError(f"{label}: kind must be 'day_off' or 'working_day', got {kind!r}")

    texts: dict[str, str] = {}
    for key in ("source", *sorted(_OPTIONAL_KEYS)):
        value = raw.get(key, "")
        if not isinstance(value, str):
            raise ValueError(f"{label}: {key} must be a string")
        texts[key] = value.strip()
    if not texts["source"]:
        raise ValueError(f"{label}: source must not be empty")

    return Adjustment(
        day=day,
        kind="day_off" if kind == "day_off" else "working_day",
        source=texts["source"],
        note=texts["note"],
        name_vi=texts["name_vi"],
        name_en=texts["name_en"],
    )


def parse_adjustments(
    entries: Iterable[object], origin: str = "<adjustments>"
) -> tuple[Adjustment, ...]:
    """Validate adjustment entries (dicts shaped like the JSON file's ``adjustments`` items).

    Raises ValueError naming the offending entry (``origin: adjustments[i] (date=...)``);
    a date may appear only once per source.
    """
    result: list[Adjustment] = []
    seen: dict[date, int] = {}
    for i, raw in enumerate(entries):
        where = f"{origin}: adjustments[{i}]"
        adj = _parse_entry(raw, where)
        if adj.day in seen:
            raise ValueError(
                f"{where} (date={adj.day.isoformat()!r}): duplicate date, "
                f"already given in adjustments[{seen[adj.day]}]"
            )
        seen[adj.day] = i
        result.append(adj)
    return tuple(result)


def load_adjustments(path: str | os.PathLike[str]) -> tuple[Adjustment, ...]:
    """Read and validate a calendar adjustments JSON file (see data/calendar_adjustments.json)."""
    origin = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data: object = json.load(fh)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{origin}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{origin}: top level must be a JSON object")
    if data.get("schema_version") != _SCHEMA_VERSION:
        raise ValueError(f"{origin}: schema_version must be {_SCHEMA_VERSION}")
    entries = data.get("adjustments")
    if not isinstance(entries, list):
        raise ValueError(f"{origin}: 'adjustments' must be a list")
    return parse_adjustments(entries, origin)


# --------------------------------------------------------------------------- calendar


def _check_date(d: object) -> date:
    # datetime is a date subclass but never equal to one, so set lookups would miss.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"expected a datetime.date, got {type(d).__name__}")
    return d


def _vietnam(year: int, language: str) -> HolidayBase:
    # language is explicit: by default the package picks it from the LANG/LC_* variables.
    return country_holidays("VN", years=year, language=language)


class WorkCalendar:
    """Vietnamese working-day calendar; see the module docstring for the rules.

    Per-year sets of non-working days are computed once and cached (thread-safe), so
    ``is_working_day`` is a set lookup. Supported years: ``MIN_YEAR``..``MAX_YEAR``
    (ValueError outside).
    """

    def __init__(
        self,
        adjustments_path: str | os.PathLike[str] | None = DEFAULT_ADJUSTMENTS_PATH,
        *,
        extra_adjustments: Iterable[Mapping[str, object]] = (),
        weekend: Iterable[int] = DEFAULT_WEEKEND,
    ) -> None:
        """
        :param adjustments_path: JSON file of government swaps; None for none.
        :param extra_adjustments: more entries (same shape as the file's); on the same date
            they override the file.
        :param weekend: weekly rest days as ``date.weekday()`` numbers (Monday = 0).
        """
        rest = frozenset(weekend)
        if not rest <= set(range(7)) or any(isinstance(x, bool) for x in rest):
            raise ValueError(f"weekend days must be weekday numbers 0..6, got {sorted(rest)}")
        if len(rest) == 7:
            raise ValueError("weekend cannot cover the whole week")
        self.weekend: frozenset[int] = rest

        merged: dict[date, Adjustment] = {}
        if adjustments_path is not None:
            merged.update((a.day, a) for a in load_adjustments(adjustments_path))
        merged.update((a.day, a) for a in parse_adjustments(extra_adjustments, "<extra>"))
        self.adjustments: tuple[Adjustment, ...] = tuple(sorted(merged.values(), key=_day))
        self._by_year: dict[int, list[Adjustment]] = {}
        for adj in self.adjustments:
            self._by_year.setdefault(adj.day.year, []).append(adj)

        self._lock = threading.Lock()
        self._nonworking: dict[int, frozenset[date]] = {}
        self._names: dict[tuple[int, str], tuple[tuple[date, str], ...]] = {}

    # -- per-year data

    def _check_year(self, year: int) -> None:
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValueError(
                f"no holiday data for {year}: supported years are {MIN_YEAR}..{MAX_YEAR}"
            )

    def _nonworking_days(self, year: int) -> frozenset[date]:
        days = self._nonworking.get(year)
        if days is None:
            with self._lock:
                days = self._nonworking.get(year)
                if days is None:
                    days = self._build_year(year)
                    self._nonworking[year] = days
        return days

    def _build_year(self, year: int) -> frozenset[date]:
        self._check_year(year)
        lib = _vietnam(year, "vi")
        public = {d for d in lib if d.year == year}
        makeup = {d for d in getattr(lib, "weekend_workdays", ()) if d.year == year}
        result: set[date] = set()
        day = date(year, 1, 1)
        while day.year == year:
            if day in public or (day.weekday() in self.weekend and day not in makeup):
                result.add(day)
            day += timedelta(days=1)
        for adj in self._by_year.get(year, ()):
            if adj.kind == "day_off":
                result.add(adj.day)
            else:
                result.discard(adj.day)
        return frozenset(result)

    # -- public API

    def is_working_day(self, d: date) -> bool:
        d = _check_date(d)
        return d not in self._nonworking_days(d.year)

    def next_working_day(self, d: date) -> date:
        """``d`` itself if it is a working day, otherwise the first working day after it."""
        d = _check_date(d)
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def add_working_days(self, start: date, n: int) -> date:
        """Appointment date for a time limit of ``n`` working days for a dossier received on
        ``start``: the n-th working day after the receipt day, the receipt day being ``start``
        if it is a working day, else the next working day (so ``n=0`` returns the receipt
        day). Raises ValueError if ``n < 0``.
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        day = self.next_working_day(start)
        remaining = n
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Number of working days ``d`` with ``a < d <= b`` (negative if ``b < a``).

        Consistent with :meth:`add_working_days`: for every ``start`` and ``n >= 0``,
        ``working_days_between(r, add_working_days(start, n)) == n`` where
        ``r = add_working_days(start, 0)`` is the receipt day.
        """
        a, b = _check_date(a), _check_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        day = a
        while day < b:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def holidays_in(
        self, year: int, language: Literal["vi", "en"] = "vi"
    ) -> list[tuple[date, str]]:
        """Non-working days of ``year`` other than plain weekly rest days, sorted: public
        holidays (incl. observed and substituted days) and ``day_off`` adjustments, minus
        dates an adjustment turns into working days. Names in Vietnamese or English.
        """
        key = (year, language)
        cached = self._names.get(key)
        if cached is None:
            self._check_year(year)
            lib = _vietnam(year, "vi" if language == "vi" else "en_US")
            names = {d: name for d, name in lib.items() if d.year == year}
            for adj in self._by_year.get(year, ()):
                if adj.kind == "working_day":
                    names.pop(adj.day, None)
                elif adj.day not in names:
                    if language == "vi":
                        names[adj.day] = adj.name_vi or "Ngày nghỉ hoán đổi"
                    else:
                        names[adj.day] = adj.name_en or "Swapped day off"
            cached = tuple(sorted(names.items()))
            with self._lock:
                self._names[key] = cached
        return list(cached)

    def make_up_working_days(self, year: int) -> list[date]:
        """Weekly rest days of ``year`` that are working days (make-up days), sorted."""
        self._check_year(year)
        nonworking = self._nonworking_days(year)
        day = date(year, 1, 1)
        result: list[date] = []
        while day.year == year:
            if day.weekday() in self.weekend and day not in nonworking:
                result.append(day)
            day += timedelta(days=1)
        return result


def _day(adj: Adjustment) -> date:
    return adj.day


@functools.cache
def default_calendar() -> WorkCalendar:
    """The shared calendar: Saturday/Sunday weekend + holidays + the bundled data file."""
    return WorkCalendar()


def add_working_days(start: date, n: int) -> date:
    """:meth:`WorkCalendar.add_working_days` on :func:`default_calendar`."""
    return default_calendar().add_working_days(start, n)


def is_working_day(d: date) -> bool:
    """:meth:`WorkCalendar.is_working_day` on :func:`default_calendar`."""
    return default_calendar().is_working_day(d)


def working_days_between(a: date, b: date) -> int:
    """:meth:`WorkCalendar.working_days_between` on :func:`default_calendar`."""
    return default_calendar().working_days_between(a, b)
