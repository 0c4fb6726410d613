"""Registry update from a procedure-600 dossier (issue 7 item 5; docs/registry.md).

When the agency completes a procedure 600 (600a, 600b, 600c) dossier, its D02-TS rows (and the
TK1-TS that carry the identity of new participants and identity corrections) create or update
participants and employments of the unit, keeping history. The processing workflow calls:

    plan = registry.plan(dossier)           # read-only; JSON: plan.as_dict()
    plan.conflicts                          # each with .id ("D02-TS#3:RGY-CONFLICT-IDENTITY"),
                                            # .code, .message_vi/.message_en, .if_accepted
    result = registry.apply(dossier, plan, actor=officer, accept_conflicts={conflict.id, ...})

`plan` reads the exact received envelope and computes, row by row and without writing, what
would change and what conflicts with the registry. `apply` recomputes the plan in one
transaction (refusing with RGY-PLAN-STALE when it no longer has the fingerprint of the plan the
officer saw, passed as a RegistryPlan or its `as_dict()`), refuses with RGY-UNRESOLVED while a
conflict is not accepted, then writes every row: a row with an accepted conflict is applied or
skipped as the conflict's `if_accepted` says. History rows (EmploymentChange) name the dossier
number, form and row; every write is audited. A dossier is applied at most once
(RegistryApplication): `apply` again returns the first result with `already_applied=True`.

Errors are RegistryError with a stable code (error_codes()); conflict codes are conflict_codes().
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ebhxh.accounts.models import User
from ebhxh.audit.services import record_event
from ebhxh.catalog.models import Ethnicity, Nationality
from ebhxh.declarations.envelope import decode_envelope
from ebhxh.declarations.findings import DeclarationError
from ebhxh.declarations.forms import D02TS, TK1TS, D02Row, Month, PartialDate, TK1Row, salary_basis
from ebhxh.declarations.xmlcodec import decode
from ebhxh.dossiers import blobs
from ebhxh.dossiers.models import Dossier
from ebhxh.units import services
from ebhxh.units.models import Employment, Participant, RegistryApplication, Unit

__all__ = [
    "Conflict",
    "RegistryError",
    "RegistryPlan",
    "RegistryResult",
    "RowPlan",
    "apply",
    "conflict_codes",
    "error_codes",
    "plan",
    "plan_forms",
    "read_forms",
    "summary",
]

# Procedures whose D02-TS changes the registry (catalog procedures.json); 601 (truy đóng) only
# collects arrears and changes nobody's employment.
PROCEDURES: Final = frozenset({"600", "600a", "600b", "600c"})

# What each PA of list 600 (API 082, vss-domain.md §3.5) does to the registry. The catalogue's
# direction is not enough: KL/OF/TS are "decreases" that suspend, not end, an employment; the
# one-fund changes and the "bổ sung" corrections change money, not the employment [I].
Effect = Literal["start", "end", "leave", "return", "salary", "position", "record", "correction"]
EFFECTS: Final[dict[str, Effect]] = {
    "TM": "start",  # tăng mới
    "TH": "start",  # tăng mới hợp đồng
    "TD": "start",  # tăng do chuyển đơn vị
    "TC": "start",  # tăng do chuyển tỉnh
    "ON": "return",  # đi làm lại: back from leave, or a new start when not employed here
    "DC": "salary",  # điều chỉnh lương
    "CD": "position",  # điều chỉnh chức danh (and the salary when it changes)
    "GH": "end",  # giảm hẳn
    "GD": "end",  # giảm do chuyển đơn vị
    "GC": "end",  # giảm do chuyển tỉnh
    "KL": "leave",  # nghỉ không lương
    "OF": "leave",  # nghỉ do ốm đau / nghỉ không lương
    "TS": "leave",  # thai sản
    "TL": "record",  # one fund only (TNLĐ-BNN, BHTN, HTTT): history row, no field change
    "TN": "record",
    "TV": "record",
    "DL": "record",
    "DN": "record",
    "GL": "record",
    "GN": "record",
    "GV": "record",
    "TT": "correction",  # bổ sung / truy đóng: money for past months; history row only
    "AD": "correction",
    "AT": "correction",
    "SB": "correction",
    "TU": "correction",
}
LEAVE_STATUS: Final = {
    "KL": Employment.Status.UNPAID_LEAVE,
    "OF": Employment.Status.SICK_LEAVE,
    "TS": Employment.Status.MATERNITY,
}
# D02 gender codes in ebhxh's schema: 1 = nam, 0 = nữ (forms.GENDER).
GENDERS: Final = {"1": Participant.Gender.MALE, "0": Participant.Gender.FEMALE}
IDENTITY_FIELDS: Final = ("full_name", "birth_date", "gender", "personal_id")
SALARY_FIELDS: Final = (
    "salary_amount",
    "salary_coefficient",
    "position_allowance",
    "seniority_over_frame_pct",
    "seniority_job_pct",
    "salary_allowance",
    "additional_allowance",
)
POSITION_FIELDS: Final = ("position", "job_group", "department")


def conflict_codes() -> dict[str, tuple[str, str, str]]:
    """Conflict code -> (Vietnamese in the active language, English, what accepting it does)."""
    return {
        "RGY-CONFLICT-ACTIVE-ELSEWHERE": (
            _("Mã số BHXH đang có quá trình đóng tại đơn vị khác trong cùng thời gian."),
            "The social insurance number has an active employment at another unit for an "
            "overlapping period.",
            "apply",
        ),
        "RGY-CONFLICT-IDENTITY": (
            _(
                "Họ tên, ngày sinh, giới tính hoặc số định danh trên tờ khai khác thông tin của "
                "người tham gia trong cơ sở dữ liệu."
            ),
            "The name, birth date, gender or personal ID on the form differs from the "
            "participant in the registry.",
            "apply",
        ),
        "RGY-CONFLICT-DUPLICATE-ID": (
            _("Số định danh cá nhân đã thuộc về một người tham gia khác."),
            "The personal ID already belongs to another participant.",
            "apply",
        ),
        "RGY-CONFLICT-NOT-EMPLOYED": (
            _("Người này không có quá trình đóng tại đơn vị để giảm hoặc điều chỉnh."),
            "This person has no employment at the unit to decrease or adjust.",
            "skip",
        ),
        "RGY-CONFLICT-ALREADY-EMPLOYED": (
            _("Người này đang có quá trình đóng tại đơn vị trong cùng thời gian."),
            "This person is already employed at the unit for an overlapping period.",
            "skip",
        ),
        "RGY-CONFLICT-MONTHS": (
            _("Tháng giảm không sau tháng bắt đầu đóng tại đơn vị."),
            "The month of the decrease is not after the first month of the employment.",
            "apply",
        ),
        "RGY-CONFLICT-INCOMPLETE": (
            _(
                "Thiếu thông tin để ghi nhận người tham gia hoặc quá trình đóng (mã số BHXH hoặc "
                "số định danh, ngày sinh, giới tính, chức danh, tiền lương, từ tháng)."
            ),
            "Information needed to record the participant or the employment is missing (social "
            "insurance number or personal ID, birth date, gender, position, salary, first month).",
            "skip",
        ),
    }


def error_codes() -> dict[str, tuple[str, str]]:
    """Codes of RegistryError with Vietnamese (active language) and English."""
    return {
        "RGY-PROCEDURE": (
            _("Hồ sơ không thuộc thủ tục cập nhật quá trình đóng (600)."),
            "The dossier is not of a procedure that updates employments (600).",
        ),
        "RGY-NOT-ACCEPTED": (
            _("Hồ sơ chưa được tiếp nhận."),
            "The dossier has not been accepted.",
        ),
        "RGY-FORMS": (
            _("Không đọc được tờ khai D02-TS hoặc TK1-TS của hồ sơ."),
            "The dossier's D02-TS or TK1-TS cannot be read.",
        ),
        "RGY-PLAN-STALE": (
            _("Dữ liệu đã thay đổi từ khi lập kế hoạch cập nhật; hãy xem lại kế hoạch."),
            "The registry changed since the plan was made; review the plan again.",
        ),
        "RGY-UNRESOLVED": (
            _("Còn xung đột chưa được cán bộ chấp nhận."),
            "Some conflicts have not been accepted by the officer.",
        ),
        "RGY-ACCEPT-UNKNOWN": (
            _("Xung đột được chấp nhận không có trong kế hoạch."),
            "An accepted conflict is not in the plan.",
        ),
    }


class RegistryError(Exception):
    """The registry cannot be updated from this dossier: stable code, Vietnamese and English."""

    def __init__(self, code: str, detail: Any = None) -> None:
        vi, en = error_codes()[code]
        super().__init__(f"{code}: {en}")
        self.code = code
        self.message_vi = vi
        self.message_en = en
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.message_vi} ({self.code})"


# --- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    code: str
    form: str
    row: int  # position of the row in its form, from 1
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.form}#{self.row}:{self.code}"

    @property
    def message_vi(self) -> str:
        return conflict_codes()[self.code][0]

    @property
    def message_en(self) -> str:
        return conflict_codes()[self.code][1]

    @property
    def if_accepted(self) -> str:
        """ "apply": the row is applied anyway (as its changes say); "skip": it is left out."""
        return conflict_codes()[self.code][2]

    def core(self) -> dict[str, Any]:
        return {"code": self.code, "form": self.form, "row": self.row, "detail": self.detail}

    def as_dict(self) -> dict[str, Any]:
        return self.core() | {
            "id": self.id,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
            "if_accepted": self.if_accepted,
        }


@dataclass(frozen=True)
class RowPlan:
    """What one form row does to the registry. `changes` are the writes in order, each
    {"action": …, …values}; `person` names the participant across rows ("p1", …) and
    `participant_id` is None for a participant the plan creates."""

    form: str
    row: int
    stt: int | None
    pa: str
    full_name: str
    bhxh_code: str
    personal_id: str
    person: str
    participant_id: int | None
    changes: tuple[dict[str, Any], ...] = ()
    conflicts: tuple[Conflict, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.form}#{self.row}"

    def core(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "row": self.row,
            "stt": self.stt,
            "pa": self.pa,
            "full_name": self.full_name,
            "bhxh_code": self.bhxh_code,
            "personal_id": self.personal_id,
            "person": self.person,
            "participant_id": self.participant_id,
            "changes": list(self.changes),
            "conflicts": [c.core() for c in self.conflicts],
        }

    def as_dict(self) -> dict[str, Any]:
        return self.core() | {"id": self.id, "conflicts": [c.as_dict() for c in self.conflicts]}


@dataclass(frozen=True)
class RegistryPlan:
    dossier_number: str
    unit_code: str
    rows: tuple[RowPlan, ...]

    @property
    def conflicts(self) -> list[Conflict]:
        return [c for r in self.rows for c in r.conflicts]

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the plan without its messages (which follow the active language)."""
        core = {
            "dossier": self.dossier_number,
            "unit": self.unit_code,
            "rows": [r.core() for r in self.rows],
        }
        text = json.dumps(core, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        return {
            "dossier_number": self.dossier_number,
            "unit_code": self.unit_code,
            "fingerprint": self.fingerprint,
            "rows": [r.as_dict() for r in self.rows],
            "conflicts": [c.as_dict() for c in self.conflicts],
        }


@dataclass(frozen=True)
class RegistryResult:
    dossier_number: str
    already_applied: bool
    applied_rows: tuple[str, ...]
    skipped_rows: tuple[str, ...]
    counts: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "dossier_number": self.dossier_number,
            "applied_rows": list(self.applied_rows),
            "skipped_rows": list(self.skipped_rows),
            "counts": dict(self.counts),
        }


def read_forms(dossier: Dossier) -> tuple[D02TS | None, list[TK1TS]]:
    """The D02-TS and TK1-TS of the exact bytes received (RGY-FORMS when unreadable)."""
    data = blobs.get_verified(dossier.blob, dossier.sha256)
    limit = len(data) + 1  # intake already enforced the size limit on these bytes
    try:
        envelope, _found = decode_envelope(data, max_bytes=limit)
        d02: D02TS | None = None
        tk1s: list[TK1TS] = []
        for file in envelope.files:
            if file.form_code not in ("D02-TS", "TK1-TS") or file.content is None:
                continue
            form, _form_found = decode(file.content, expect=file.form_code, max_bytes=limit)
            if isinstance(form, D02TS) and d02 is None:
                d02 = form
            elif isinstance(form, TK1TS):
                tk1s.append(form)
    except DeclarationError as exc:
        raise RegistryError("RGY-FORMS", exc.finding.code) from exc
    return d02, tk1s


def plan(dossier: Dossier) -> RegistryPlan:
    """What the dossier's D02-TS and TK1-TS rows would change in the registry, and the conflicts;
    writes nothing."""
    if dossier.procedure_code not in PROCEDURES:
        raise RegistryError("RGY-PROCEDURE", dossier.procedure_code)
    if not dossier.number:
        raise RegistryError("RGY-NOT-ACCEPTED")
    d02, tk1s = read_forms(dossier)
    if d02 is None:
        raise RegistryError("RGY-FORMS", "D02-TS")
    return plan_forms(dossier.unit, dossier.number, d02, tk1s)


def plan_forms(
    unit: Unit, dossier_number: str, d02: D02TS, tk1s: Iterable[TK1TS] = ()
) -> RegistryPlan:
    """`plan` for forms already decoded (tests, previews)."""
    return _Planner(unit, dossier_number, d02, list(tk1s)).run()


# --- planning -----------------------------------------------------------------------------------


@dataclass
class _Job:
    """An employment at this unit as the plan sees it."""

    employment_id: int | None
    start_month: dt.date
    end_month: dt.date | None
    status: str
    basis: dict[str, Any]


@dataclass
class _Person:
    ref: str
    participant_id: int | None
    bhxh_code: str | None
    personal_id: str | None
    full_name: str
    birth: PartialDate | None
    gender: str | None
    jobs: list[_Job] = field(default_factory=list)  # at this unit, oldest first
    elsewhere: list[tuple[str, dt.date, dt.date | None]] = field(default_factory=list)

    def open_job(self) -> _Job | None:
        return next((j for j in self.jobs if j.end_month is None), None)


def _unique(conflicts: list[Conflict]) -> list[Conflict]:
    """One conflict per code and row (its id must be unique)."""
    seen: dict[str, Conflict] = {}
    for conflict in conflicts:
        seen.setdefault(conflict.code, conflict)
    return list(seen.values())


def _email(value: str | None) -> str:
    try:
        validate_email(value or "")
    except ValidationError:
        return ""
    return (value or "")[:254]


def _norm_name(name: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", name or "").split()).casefold()


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _partial(birth: dt.date, kind: int) -> PartialDate:
    if kind == Participant.BirthDateKind.YEAR:
        return PartialDate(birth.year)
    if kind == Participant.BirthDateKind.MONTH_YEAR:
        return PartialDate(birth.year, birth.month)
    return PartialDate.of(birth)


def _birth_fields(birth: PartialDate) -> dict[str, Any]:
    return {
        "birth_date": dt.date(birth.year, birth.month or 1, birth.day or 1).isoformat(),
        "birth_date_kind": birth.kind,
    }


def _month(value: Month) -> dt.date:
    return value.first_day()


def _previous_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _dec(value: Decimal | None) -> str:
    return str((value or Decimal(0)).quantize(Decimal("0.01")))


def _basis_of(employment: Employment) -> dict[str, Any]:
    def dec(v: Any) -> str | None:
        return None if v is None else _dec(Decimal(v))

    return {
        "position": employment.position,
        "job_group": employment.job_group,
        "department": employment.department,
        "salary_amount": employment.salary_amount,
        "salary_coefficient": dec(employment.salary_coefficient),
        "position_allowance": dec(employment.position_allowance),
        "seniority_over_frame_pct": dec(employment.seniority_over_frame_pct),
        "seniority_job_pct": dec(employment.seniority_job_pct),
        "salary_allowance": employment.salary_allowance,
        "additional_allowance": employment.additional_allowance,
    }


def _job_group(row: D02Row) -> str | None:
    for attr, group in (
        ("manager_from", Employment.JobGroup.MANAGER),
        ("senior_specialist_from", Employment.JobGroup.HIGH_SKILLED),
        ("mid_specialist_from", Employment.JobGroup.MID_SKILLED),
        ("other_position_from", Employment.JobGroup.OTHER),
    ):
        if getattr(row, attr) is not None:
            return str(group)
    return None


def _row_basis(row: D02Row) -> dict[str, Any]:
    """Salary and position of a D02-TS row in the Employment fields (JSON values)."""
    salary = row.salary or Decimal(0)
    coefficient = salary_basis(salary) == "coefficient"
    return {
        "position": (row.position or "").strip()[:500],
        "job_group": _job_group(row),
        "department": (row.department or "").strip()[:200] or None,
        "salary_amount": None if coefficient else int(salary),
        "salary_coefficient": _dec(salary) if coefficient else None,
        "position_allowance": _dec(row.allowance_position),
        "seniority_over_frame_pct": _dec(row.allowance_seniority_excess),
        "seniority_job_pct": _dec(row.allowance_seniority_profession),
        "salary_allowance": int(row.allowance_salary or 0),
        "additional_allowance": int(row.allowance_other or 0),
    }


def _contract(row: D02Row, start: dt.date) -> dict[str, Any]:
    begin: dt.date | None
    end: dt.date | None
    if row.contract_indefinite_from is not None:
        kind, begin, end = Employment.ContractType.INDEFINITE, row.contract_indefinite_from, None
    elif row.contract_fixed_from is not None:
        kind, begin, end = (
            Employment.ContractType.FIXED_TERM,
            row.contract_fixed_from,
            row.contract_fixed_to,
        )
    else:
        kind, begin, end = (
            Employment.ContractType.OTHER,
            row.contract_other_from,
            row.contract_other_to,
        )
    return {
        "contract_type": str(kind),
        "contract_start": (begin or start).isoformat(),
        "contract_end": end.isoformat() if end else None,
    }


class _Planner:
    def __init__(self, unit: Unit, number: str, d02: D02TS, tk1s: list[TK1TS]) -> None:
        self.unit = unit
        self.number = number
        self.d02 = d02
        self.tk1_rows = [r for form in tk1s for r in form.rows]
        self.by_code: dict[str, _Person] = {}
        self.by_pid: dict[str, _Person] = {}
        self.loaded: dict[int, _Person] = {}
        self.refs = 0

    # -- the registry, loaded lazily and updated as rows are planned

    def _load(self, participant: Participant) -> _Person:
        if participant.pk in self.loaded:
            return self.loaded[participant.pk]
        self.refs += 1
        person = _Person(
            ref=f"p{self.refs}",
            participant_id=participant.pk,
            bhxh_code=participant.bhxh_code,
            personal_id=participant.personal_id,
            full_name=participant.full_name,
            birth=_partial(participant.birth_date, participant.birth_date_kind),
            gender=participant.gender,
        )
        for e in participant.employments.select_related("unit").order_by("start_month", "pk"):
            if e.unit_id == self.unit.pk:
                person.jobs.append(_Job(e.pk, e.start_month, e.end_month, e.status, _basis_of(e)))
            else:
                person.elsewhere.append(
                    (e.unit.code or e.unit.tax_code, e.start_month, e.end_month)
                )
        self.loaded[participant.pk] = person
        self._index(person)
        return person

    def _index(self, person: _Person) -> None:
        if person.bhxh_code:
            self.by_code[person.bhxh_code] = person
        if person.personal_id:
            self.by_pid[person.personal_id] = person

    def _by_code(self, code: str | None) -> _Person | None:
        if not code:
            return None
        if code not in self.by_code:
            found = Participant.objects.filter(bhxh_code=code).first()
            if found is None:
                return None
            self._load(found)
        return self.by_code.get(code)

    def _by_pid(self, pid: str | None) -> _Person | None:
        if not pid:
            return None
        if pid not in self.by_pid:
            found = Participant.objects.filter(personal_id=pid).first()
            if found is None:
                return None
            self._load(found)
        return self.by_pid.get(pid)

    def _tk1_for(self, code: str | None, pid: str | None, name: str, birth: Any) -> TK1Row | None:
        for tk1 in self.tk1_rows:
            if code and _clean(tk1.bhxh_code) == code:
                return tk1
            if pid and _clean(tk1.personal_id) == pid:
                return tk1
        for tk1 in self.tk1_rows:
            if (
                not code
                and not pid
                and _norm_name(tk1.full_name) == name
                and tk1.birth_date == birth
            ):
                return tk1
        return None

    # -- rows

    def run(self) -> RegistryPlan:
        rows: list[RowPlan] = []
        used_tk1: set[int] = set()
        for n, row in enumerate(self.d02.rows, 1):
            code, pid = _clean(row.bhxh_code), _clean(row.personal_id)
            tk1 = self._tk1_for(code, pid, _norm_name(row.full_name), row.birth_date)
            if tk1 is not None:
                used_tk1.add(id(tk1))
            rows.append(self._d02_row(n, row, tk1))
        for n, tk1 in enumerate(self.tk1_rows, 1):
            if id(tk1) not in used_tk1:
                rows.append(self._tk1_only(n, tk1))
        return RegistryPlan(self.number, self.unit.code or self.unit.tax_code, tuple(rows))

    def _conflict(self, form: str, n: int, code: str, **detail: Any) -> Conflict:
        return Conflict(code, form, n, {k: v for k, v in detail.items() if v is not None})

    def _find(
        self, form: str, n: int, code: str | None, pid: str | None
    ) -> tuple[_Person | None, list[Conflict], bool]:
        """The participant of a row, the DUPLICATE-ID conflict, and whether the row's personal
        id may be stored (it belongs to nobody else)."""
        person = self._by_code(code) if code else None
        owner = self._by_pid(pid)
        if person is None and (code is None or (owner is not None and owner.bhxh_code is None)):
            return owner, [], True  # by personal id; a code on the row fills the registry's
        if owner is not None and owner is not person:
            return (
                person,
                [self._conflict(form, n, "RGY-CONFLICT-DUPLICATE-ID", owner=owner.bhxh_code or "")],
                False,
            )
        return person, [], True

    def _identity(
        self, form: str, n: int, person: _Person, row: Any, corrected: dict[str, Any], pid_ok: bool
    ) -> tuple[list[Conflict], dict[str, Any]]:
        """Identity of a form row against the registry (a value may be the registry's or the
        TK1-TS correction's); the fields the row fills in where the registry has none."""
        declared: dict[str, Any] = {
            "full_name": row.full_name,
            "birth_date": row.birth_date,
            "gender": GENDERS.get(row.gender or ""),
            "personal_id": _clean(row.personal_id),
        }
        current: dict[str, Any] = {
            "full_name": person.full_name,
            "birth_date": person.birth,
            "gender": person.gender,
            "personal_id": person.personal_id,
        }
        differs = []
        for name in IDENTITY_FIELDS:
            value, known = declared[name], current[name]
            if value is None or known is None:
                continue
            same = _norm_name(value) == _norm_name(known) if name == "full_name" else value == known
            fixed = corrected.get(name)
            if fixed is not None and name == "full_name":
                same = same or _norm_name(value) == _norm_name(fixed)
            elif fixed is not None:
                same = same or value == fixed
            if not same and not (name == "personal_id" and not pid_ok):
                differs.append(name)
        conflicts = []
        if differs:
            conflicts.append(self._conflict(form, n, "RGY-CONFLICT-IDENTITY", fields=differs))
        fill: dict[str, Any] = {}
        if person.personal_id is None and declared["personal_id"] and pid_ok:
            fill["personal_id"] = declared["personal_id"]
        if person.bhxh_code is None and _clean(row.bhxh_code):
            fill["bhxh_code"] = _clean(row.bhxh_code)
        return conflicts, fill

    def _corrections(
        self, form: str, n: int, person: _Person | None, tk1: TK1Row | None
    ) -> tuple[dict[str, Any], list[Conflict]]:
        """TK1-TS [14] corrections as participant fields (JSON values), and their conflicts."""
        adj = tk1.adjustment if tk1 is not None else None
        if adj is None:
            return {}, []
        out: dict[str, Any] = {}
        conflicts: list[Conflict] = []
        if _clean(adj.full_name):
            out["full_name"] = " ".join((adj.full_name or "").split())
        if adj.gender in GENDERS:
            out["gender"] = str(GENDERS[adj.gender or ""])
        if adj.birth_date is not None:
            out["birth_date"] = adj.birth_date
        pid = _clean(adj.personal_id)
        if pid:
            owner = self._by_pid(pid)
            if owner is not None and owner is not person:
                conflicts.append(
                    self._conflict(
                        form, n, "RGY-CONFLICT-DUPLICATE-ID", owner=owner.bhxh_code or ""
                    )
                )
            else:
                out["personal_id"] = pid
        return out, conflicts

    def _identity_change(self, person: _Person, fields: dict[str, Any]) -> dict[str, Any] | None:
        after: dict[str, Any] = {}
        for name, value in fields.items():
            if name == "birth_date":
                if value != person.birth:
                    after |= _birth_fields(value)
            elif value != getattr(person, name):
                after[name] = value
        return {"action": "update_participant", "after": after} if after else None

    def _apply_identity(self, person: _Person, change: dict[str, Any]) -> None:
        after = change["after"]
        for name in ("full_name", "gender", "personal_id", "bhxh_code"):
            if name in after:
                setattr(person, name, after[name])
        if "birth_date" in after:
            day = dt.date.fromisoformat(after["birth_date"])
            person.birth = _partial(day, after["birth_date_kind"])
        self._index(person)

    def _new_person(
        self, form: str, n: int, row: D02Row, tk1: TK1Row | None, pid_ok: bool
    ) -> tuple[_Person | None, dict[str, Any] | None, list[Conflict]]:
        code, pid = _clean(row.bhxh_code), _clean(row.personal_id) if pid_ok else None
        birth = row.birth_date or (tk1.birth_date if tk1 else None)
        gender = GENDERS.get(row.gender or "") or GENDERS.get((tk1.gender if tk1 else "") or "")
        name = " ".join((row.full_name or (tk1.full_name if tk1 else "") or "").split())
        if not (code or pid) or birth is None or gender is None or not name:
            missing = [
                k
                for k, ok in (
                    ("bhxh_code", code or pid),
                    ("birth_date", birth),
                    ("gender", gender),
                    ("full_name", name),
                )
                if not ok
            ]
            return None, None, [self._conflict(form, n, "RGY-CONFLICT-INCOMPLETE", fields=missing)]
        values: dict[str, Any] = {
            "bhxh_code": code,
            "personal_id": pid,
            "full_name": name[:100],
            "gender": str(gender),
            **_birth_fields(birth),
        }
        if tk1 is not None:
            values |= {
                "phone": (tk1.phone or "")[:30],
                "email": _email(tk1.email),
                "address": (tk1.address_text or tk1.address_street or "")[:400],
                "nationality": _clean(tk1.nationality),
                "ethnicity": _clean(tk1.ethnicity),
            }
        self.refs += 1
        person = _Person(f"p{self.refs}", None, code, pid, name, birth, str(gender))
        return person, {"action": "create_participant", "values": values}, []

    def _d02_row(self, n: int, row: D02Row, tk1: TK1Row | None) -> RowPlan:
        form = "D02-TS"
        pa = (row.pa or "").strip().upper()
        effect = EFFECTS.get(pa, "record")
        code, pid = _clean(row.bhxh_code), _clean(row.personal_id)
        person, conflicts, pid_ok = self._find(form, n, code, pid)
        changes: list[dict[str, Any]] = []
        corrected, more = self._corrections(form, n, person, tk1)
        conflicts += more
        job = person.open_job() if person is not None else None
        starts = effect == "start" or (effect == "return" and job is None)
        if person is not None:
            found, fill = self._identity(form, n, person, row, corrected, pid_ok)
            conflicts += found
            identity = self._identity_change(person, fill | corrected)
            if identity is not None:
                changes.append(identity)
        elif starts:
            person, created, found = self._new_person(form, n, row, tk1, pid_ok)
            conflicts += found
            if created is not None:
                changes.append(created)
        else:
            conflicts.append(self._conflict(form, n, "RGY-CONFLICT-NOT-EMPLOYED"))

        if person is not None:
            if starts:
                conflicts += self._start(form, n, row, pa, person, changes)
            else:
                conflicts += self._change(form, n, row, pa, effect, person, changes)
        conflicts = _unique(conflicts)
        skip = any(c.if_accepted == "skip" for c in conflicts)
        if person is not None and not skip:
            self._index(person)
            self._simulate(person, changes)
        return RowPlan(
            form=form,
            row=n,
            stt=row.stt,
            pa=pa,
            full_name=row.full_name or "",
            bhxh_code=code or "",
            personal_id=pid or "",
            person=person.ref if person is not None else "",
            participant_id=person.participant_id if person is not None else None,
            changes=tuple(changes),
            conflicts=tuple(conflicts),
        )

    def _start(
        self,
        form: str,
        n: int,
        row: D02Row,
        pa: str,
        person: _Person,
        changes: list[dict[str, Any]],
    ) -> list[Conflict]:
        if row.from_month is None or not (row.position or "").strip() or row.salary is None:
            missing = [
                k
                for k in ("from_month", "position", "salary")
                if not (getattr(row, k) if k != "position" else (row.position or "").strip())
            ]
            return [self._conflict(form, n, "RGY-CONFLICT-INCOMPLETE", fields=missing)]
        start = _month(row.from_month)
        conflicts = []
        for job in person.jobs:
            if job.end_month is None or job.end_month >= start:
                conflicts.append(
                    self._conflict(
                        form,
                        n,
                        "RGY-CONFLICT-ALREADY-EMPLOYED",
                        since=str(Month.of(job.start_month)),
                    )
                )
                break
        for unit_code, begin, end in person.elsewhere:
            if end is None or end >= start:
                conflicts.append(
                    self._conflict(
                        form,
                        n,
                        "RGY-CONFLICT-ACTIVE-ELSEWHERE",
                        unit=unit_code,
                        since=str(Month.of(begin)),
                    )
                )
                break
        basis = _row_basis(row)
        values = basis | {
            "job_group": basis["job_group"] or str(Employment.JobGroup.OTHER),
            "department": basis["department"] or "",
            "start_month": start.isoformat(),
            **_contract(row, start),
        }
        changes.append({"action": "start_employment", "change_type": pa, "values": values})
        return conflicts

    def _change(
        self,
        form: str,
        n: int,
        row: D02Row,
        pa: str,
        effect: Effect,
        person: _Person,
        changes: list[dict[str, Any]],
    ) -> list[Conflict]:
        job = person.open_job()
        if effect == "correction" and job is None and person.jobs:
            job = person.jobs[-1]  # a correction may concern a past employment here
        if job is None:
            return [self._conflict(form, n, "RGY-CONFLICT-NOT-EMPLOYED")]
        month = row.from_month or row.to_month or self.d02.header.period
        effective = _month(month) if month else job.start_month
        change: dict[str, Any] = {
            "action": "change_employment",
            "change_type": pa,
            "effective_month": effective.isoformat(),
            "after": {},
        }
        conflicts: list[Conflict] = []
        if effect == "return" and job.status == Employment.Status.CONTRIBUTING:
            return [self._conflict(form, n, "RGY-CONFLICT-ALREADY-EMPLOYED")]
        if effect == "end":
            last = _previous_month(effective)
            if last < job.start_month:
                conflicts.append(
                    self._conflict(
                        form, n, "RGY-CONFLICT-MONTHS", since=str(Month.of(job.start_month))
                    )
                )
                last = job.start_month
            change["after"] = {"end_month": last.isoformat(), "status": "stopped"}
        elif effect == "leave":
            change["after"] = {"status": str(LEAVE_STATUS[pa])}
            if row.to_month is not None:
                change["until"] = str(row.to_month)
        elif effect == "return":
            change["after"] = {"status": "contributing"}
        elif effect in ("salary", "position"):
            basis = _row_basis(row)
            names = SALARY_FIELDS + (POSITION_FIELDS if effect == "position" else ())
            change["after"] = {
                k: basis[k]
                for k in names
                if basis[k] is not None
                and (k != "position" or basis[k])
                and basis[k] != job.basis.get(k)
            }
            if "salary_amount" in change["after"] or "salary_coefficient" in change["after"]:
                # one salary basis at a time (units_employment_one_salary_basis)
                change["after"]["salary_amount"] = basis["salary_amount"]
                change["after"]["salary_coefficient"] = basis["salary_coefficient"]
        change["employment_id"] = job.employment_id
        if row.note:
            change["note"] = row.note[:500]
        changes.append(change)
        return conflicts

    def _simulate(self, person: _Person, changes: list[dict[str, Any]]) -> None:
        for change in changes:
            action = change["action"]
            if action == "update_participant":
                self._apply_identity(person, change)
            elif action == "start_employment":
                values = change["values"]
                person.jobs.append(
                    _Job(
                        None,
                        dt.date.fromisoformat(values["start_month"]),
                        None,
                        Employment.Status.CONTRIBUTING,
                        {k: values.get(k) for k in SALARY_FIELDS + POSITION_FIELDS},
                    )
                )
            elif action == "change_employment":
                job = next(
                    (j for j in person.jobs if j.employment_id == change["employment_id"]),
                    person.open_job(),
                )
                if job is None:
                    continue
                after = change["after"]
                job.basis |= {k: v for k, v in after.items() if k in job.basis}
                job.status = after.get("status", job.status)
                if after.get("end_month"):
                    job.end_month = dt.date.fromisoformat(after["end_month"])

    def _tk1_only(self, n: int, tk1: TK1Row) -> RowPlan:
        """A TK1-TS row without a D02-TS row: an identity correction of someone employed here."""
        form = "TK1-TS"
        code, pid = _clean(tk1.bhxh_code), _clean(tk1.personal_id)
        person, conflicts, pid_ok = self._find(form, n, code, pid)
        changes: list[dict[str, Any]] = []
        if person is None or not person.jobs:
            conflicts.append(self._conflict(form, n, "RGY-CONFLICT-NOT-EMPLOYED"))
        else:
            corrected, more = self._corrections(form, n, person, tk1)
            conflicts += more
            found, fill = self._identity(form, n, person, tk1, corrected, pid_ok)
            conflicts += found
            identity = self._identity_change(person, fill | corrected)
            if identity is not None:
                changes.append(identity)
            conflicts = _unique(conflicts)
            if not any(c.if_accepted == "skip" for c in conflicts):
                self._simulate(person, changes)
        return RowPlan(
            form=form,
            row=n,
            stt=tk1.stt,
            pa="",
            full_name=tk1.full_name or "",
            bhxh_code=code or "",
            personal_id=pid or "",
            person=person.ref if person is not None else "",
            participant_id=person.participant_id if person is not None else None,
            changes=tuple(changes),
            conflicts=tuple(conflicts),
        )


# --- applying -----------------------------------------------------------------------------------


def _fingerprint_of(given: RegistryPlan | Mapping[str, Any]) -> str:
    if isinstance(given, RegistryPlan):
        return given.fingerprint
    return str(given.get("fingerprint", ""))


def apply(
    dossier: Dossier,
    plan_seen: RegistryPlan | Mapping[str, Any],
    *,
    actor: User | None,
    accept_conflicts: set[str] | None = None,
) -> RegistryResult:
    """Apply the dossier's plan to the registry in one transaction (see the module docstring)."""
    accepted = set(accept_conflicts or ())
    with transaction.atomic():
        locked = Dossier.objects.select_for_update().select_related("unit").get(pk=dossier.pk)
        done = RegistryApplication.objects.filter(dossier=locked).first()
        if done is not None:
            return _result(done.dossier_number, done.result, already=True)
        Unit.objects.select_for_update().filter(pk=locked.unit_id).first()  # one unit at a time
        current = plan(locked)
        if current.fingerprint != _fingerprint_of(plan_seen):
            raise RegistryError("RGY-PLAN-STALE")
        ids = {c.id for c in current.conflicts}
        if unknown := sorted(accepted - ids):
            raise RegistryError("RGY-ACCEPT-UNKNOWN", unknown)
        if open_ := sorted(ids - accepted):
            raise RegistryError("RGY-UNRESOLVED", open_)
        applied, skipped, counts = _execute(locked, current, actor)
        result = RegistryResult(current.dossier_number, False, applied, skipped, counts)
        application = RegistryApplication.objects.create(
            dossier=locked,
            dossier_number=current.dossier_number,
            plan=current.as_dict(),
            accepted_conflicts=sorted(accepted),
            result=result.as_dict(),
            applied_by=actor,
            applied_at=timezone.now(),
        )
        record_event(
            "registry:apply",
            actor=actor,
            subject=application,
            data=result.as_dict() | {"accepted_conflicts": sorted(accepted)},
        )
    return result


def _result(number: str, stored: Mapping[str, Any], *, already: bool) -> RegistryResult:
    return RegistryResult(
        number,
        already,
        tuple(stored.get("applied_rows", ())),
        tuple(stored.get("skipped_rows", ())),
        dict(stored.get("counts", {})),
    )


def _participant_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "birth_date" in out:
        out["birth_date"] = dt.date.fromisoformat(out["birth_date"])
    for name, model in (("nationality", Nationality), ("ethnicity", Ethnicity)):
        if name in out:
            code = out.pop(name)
            out[name] = model.objects.filter(code=code).first() if code else None
    return out


def _employment_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            out[name] = value
        elif name in ("start_month", "end_month", "contract_start", "contract_end"):
            out[name] = dt.date.fromisoformat(value)
        elif name in (
            "salary_coefficient",
            "position_allowance",
            "seniority_over_frame_pct",
            "seniority_job_pct",
        ):
            out[name] = Decimal(value)
        else:
            out[name] = value
    return out


def _execute(
    dossier: Dossier, current: RegistryPlan, actor: User | None
) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, int]]:
    unit = dossier.unit
    people: dict[str, Participant] = {}
    counts = {
        "participants_created": 0,
        "participants_updated": 0,
        "employments_started": 0,
        "employments_changed": 0,
    }
    applied: list[str] = []
    skipped: list[str] = []
    for row in current.rows:
        if any(c.if_accepted == "skip" for c in row.conflicts):
            skipped.append(row.id)
            continue
        source = {"dossier": current.dossier_number, "form": row.form, "row": row.row}
        participant = people.get(row.person)
        if participant is None and row.participant_id is not None:
            participant = Participant.objects.get(pk=row.participant_id)
        for change in row.changes:
            action = change["action"]
            if action == "create_participant":
                participant = services.create_participant(
                    actor=actor, source=source, **_participant_fields(change["values"])
                )
                counts["participants_created"] += 1
            elif action == "update_participant":
                assert participant is not None
                participant = services.update_participant(
                    participant, actor=actor, source=source, **_participant_fields(change["after"])
                )
                counts["participants_updated"] += 1
            elif action == "start_employment":
                assert participant is not None
                services.start_employment(
                    unit=unit,
                    participant=participant,
                    change_type=change["change_type"],
                    actor=actor,
                    source=source,
                    **_employment_fields(change["values"]),
                )
                counts["employments_started"] += 1
            elif action == "change_employment":
                assert participant is not None
                employment = _employment_for(unit, participant, change.get("employment_id"))
                services.change_employment(
                    employment,
                    change_type=change["change_type"],
                    effective_month=dt.date.fromisoformat(change["effective_month"]),
                    actor=actor,
                    source=source,
                    note=change.get("note", ""),
                    **_employment_fields(change["after"]),
                )
                counts["employments_changed"] += 1
        if participant is not None and row.person:
            people[row.person] = participant
        applied.append(row.id)
    return tuple(applied), tuple(skipped), counts


def _employment_for(unit: Unit, participant: Participant, employment_id: int | None) -> Employment:
    if employment_id is not None:
        return Employment.objects.get(pk=employment_id, unit=unit, participant=participant)
    # started earlier in this dossier: the open employment (one per unit and participant)
    return Employment.objects.get(Q(end_month__isnull=True), unit=unit, participant=participant)


def summary(plan_: RegistryPlan) -> dict[str, int]:
    """Counts of the planned actions, for the officer's page."""
    counts: dict[str, int] = {}
    for row in plan_.rows:
        for change in row.changes:
            counts[change["action"]] = counts.get(change["action"], 0) + 1
    return counts
