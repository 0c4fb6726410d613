"""The agency workflow as data: the ONE table of transitions (docs/processing.md).

Pure Python, no Django: `services.py` enforces this table (every action looks its row up here
and is refused with PRC-TRANSITION when there is none), `models.py` takes its stages from it,
and the tests derive their checks from it (every stage reachable, every row with a role, every
missing row refused).

A case starts at the one-stop desk (`INITIAL`, created by `services.start_case` when the intake
receives a dossier) and moves only along the rows below:

    desk ──accept──▶ routed ──assign──▶ assigned ──complete──▶ result ──return_result──▶ returned ──close──▶ closed
     │  ▲                ▲                │ │ ▲
     │  └─supply─┐       └────forward─────┘ │ └─reassign
     │           │                          │
     └─request_supplement──▶ supplement ◀───┘ (request_supplement, the assigned officer)
     └─withdraw (the unit, through the intake) ──▶ withdrawn

Who may act: `roles` lists `accounts.Role` values; `DEPARTMENT` stands for the role named like
the case's current department (collection / books_cards / benefits — Role and Procedure.Field
share these values). `party` says whether agency officers or unit members act; officers act only
on dossiers of their agency (a supervisor also on those of the agencies under it), units only on
their own. `assignee_only`: among the holders of the role, only the officer the case is assigned
to.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Stage(enum.StrEnum):
    DESK = "desk"  # at the one-stop desk, not yet accepted for processing
    SUPPLEMENT = "supplement"  # sent back "chưa đúng, chưa đủ"; the clock is stopped
    ROUTED = "routed"  # in a department's queue, nobody assigned
    ASSIGNED = "assigned"  # an officer of the department is processing it
    RESULT = "result"  # the result is back at the desk
    RETURNED = "returned"  # the result was returned to the unit
    CLOSED = "closed"  # archived: nothing more happens
    WITHDRAWN = "withdrawn"  # the unit took it back before processing started


class Action(enum.StrEnum):
    ACCEPT = "accept"
    REQUEST_SUPPLEMENT = "request_supplement"
    SUPPLY = "supply"
    ASSIGN = "assign"
    REASSIGN = "reassign"
    FORWARD = "forward"
    COMPLETE = "complete"
    RETURN_RESULT = "return_result"
    CLOSE = "close"
    WITHDRAW = "withdraw"


class Party(enum.StrEnum):
    AGENCY = "agency"
    UNIT = "unit"


class Clock(enum.StrEnum):
    RUNNING = "running"  # working days count towards the due date
    PAUSED = "paused"  # supplement requested: the paused working days are added back
    STOPPED = "stopped"  # result returned, closed or withdrawn


# Role values (ebhxh.accounts.models.Role), repeated here so the table stays framework-free;
# a test checks they exist in the Role enum.
DESK = "desk"
SUPERVISOR = "supervisor"
DEPARTMENT = "@department"  # the role named like the case's current department
UNIT_ROLES = frozenset({"unit_admin", "preparer", "signer"})
DEPARTMENTS = ("collection", "books_cards", "benefits")

INITIAL = Stage.DESK
TERMINAL = frozenset({Stage.CLOSED, Stage.WITHDRAWN})

# Stage -> Dossier.status (ebhxh.dossiers.models.Status values). Closed keeps "returned": the
# unit sees no difference; the case's stage and closed_at say it is archived.
DOSSIER_STATUS: dict[Stage, str] = {
    Stage.DESK: "received",
    Stage.SUPPLEMENT: "supplement",
    Stage.ROUTED: "processing",
    Stage.ASSIGNED: "processing",
    Stage.RESULT: "result_ready",
    Stage.RETURNED: "returned",
    Stage.CLOSED: "returned",
    Stage.WITHDRAWN: "withdrawn",
}

CLOCK: dict[Stage, Clock] = {
    Stage.DESK: Clock.RUNNING,
    Stage.SUPPLEMENT: Clock.PAUSED,
    Stage.ROUTED: Clock.RUNNING,
    Stage.ASSIGNED: Clock.RUNNING,
    Stage.RESULT: Clock.RUNNING,  # the appointment date is the day the result is returned
    Stage.RETURNED: Clock.STOPPED,
    Stage.CLOSED: Clock.STOPPED,
    Stage.WITHDRAWN: Clock.STOPPED,
}

# Stages shown in the working queues (everything not finished).
ACTIVE = frozenset(s for s in Stage if s not in TERMINAL and s is not Stage.RETURNED)
# Stages whose due date is counting down (near-due and overdue lists).
COUNTING = frozenset(s for s, c in CLOCK.items() if c is Clock.RUNNING)


@dataclass(frozen=True)
class Transition:
    source: Stage
    action: Action
    target: Stage
    roles: frozenset[str]
    party: Party = Party.AGENCY
    assignee_only: bool = False
    sets: tuple[str, ...] = ()  # case fields the action sets (documentation and tests)
    unit_visible: bool = False  # a DossierEvent on the unit's timeline and an e-mail to the unit

    @property
    def dossier_status(self) -> str:
        return DOSSIER_STATUS[self.target]

    @property
    def clock(self) -> Clock:
        return CLOCK[self.target]


_D = frozenset({DESK})
_DEPT = frozenset({DEPARTMENT})

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        Stage.DESK, Action.ACCEPT, Stage.ROUTED, _D, sets=("department",), unit_visible=True
    ),
    Transition(
        Stage.DESK,
        Action.REQUEST_SUPPLEMENT,
        Stage.SUPPLEMENT,
        _D,
        sets=("paused_since",),
        unit_visible=True,
    ),
    Transition(
        Stage.DESK,
        Action.WITHDRAW,
        Stage.WITHDRAWN,
        UNIT_ROLES,
        party=Party.UNIT,
        sets=("closed_at",),
    ),
    Transition(
        Stage.SUPPLEMENT,
        Action.SUPPLY,
        Stage.DESK,
        UNIT_ROLES,
        party=Party.UNIT,
        sets=("due_date", "paused_days", "paused_since"),
        unit_visible=True,
    ),
    Transition(
        Stage.ROUTED,
        Action.ASSIGN,
        Stage.ASSIGNED,
        _DEPT | {SUPERVISOR},
        sets=("assigned_to",),
    ),
    Transition(
        Stage.ASSIGNED,
        Action.REASSIGN,
        Stage.ASSIGNED,
        _DEPT | {SUPERVISOR},
        sets=("assigned_to",),
    ),
    Transition(
        Stage.ASSIGNED,
        Action.FORWARD,
        Stage.ROUTED,
        _DEPT,
        assignee_only=True,
        sets=("department", "assigned_to"),
    ),
    Transition(
        Stage.ASSIGNED,
        Action.REQUEST_SUPPLEMENT,
        Stage.SUPPLEMENT,
        _DEPT,
        assignee_only=True,
        sets=("paused_since", "assigned_to"),
        unit_visible=True,
    ),
    Transition(
        Stage.ASSIGNED,
        Action.COMPLETE,
        Stage.RESULT,
        _DEPT,
        assignee_only=True,
        sets=("result_at",),
        unit_visible=True,
    ),
    Transition(
        Stage.RESULT,
        Action.RETURN_RESULT,
        Stage.RETURNED,
        _D,
        sets=("returned_at",),
        unit_visible=True,
    ),
    Transition(Stage.RETURNED, Action.CLOSE, Stage.CLOSED, _D | {SUPERVISOR}, sets=("closed_at",)),
)

_BY_KEY: dict[tuple[Stage, Action], Transition] = {(t.source, t.action): t for t in TRANSITIONS}


def find(source: str, action: str) -> Transition | None:
    """The row for `action` from `source`, or None when the table has none."""
    try:
        return _BY_KEY.get((Stage(source), Action(action)))
    except ValueError:
        return None


def actions_from(source: str) -> list[Action]:
    """Actions the table allows from a stage (for the UI's buttons)."""
    return [t.action for t in TRANSITIONS if t.source == source]


def roles_for(t: Transition, department: str) -> frozenset[str]:
    """The concrete roles that may perform `t` on a case now in `department`."""
    out = set(t.roles - {DEPARTMENT})
    if DEPARTMENT in t.roles and department:
        out.add(department)
    return frozenset(out)


def reachable(start: Stage = INITIAL) -> set[Stage]:
    """Stages reachable from `start` along the table."""
    seen = {start}
    todo = [start]
    while todo:
        stage = todo.pop()
        for t in TRANSITIONS:
            if t.source == stage and t.target not in seen:
                seen.add(t.target)
                todo.append(t.target)
    return seen
