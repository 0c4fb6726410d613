"""The transition table itself (pure: no database): complete, consistent, and matching the
models and roles it names."""

from __future__ import annotations

import inspect

from ebhxh.accounts.models import AGENCY_ROLES, UNIT_ROLES, Role
from ebhxh.catalog.models import Procedure
from ebhxh.dossiers.models import Status
from ebhxh.processing import models, services, workflow
from ebhxh.processing.workflow import TRANSITIONS, Party, Stage

# The service function that performs each action of the table.
SERVICE_OF = {
    workflow.Action.ACCEPT: services.accept,
    workflow.Action.REQUEST_SUPPLEMENT: services.request_supplement,
    workflow.Action.SUPPLY: services.attach_supplement,
    workflow.Action.ASSIGN: services.assign,
    workflow.Action.REASSIGN: services.reassign,
    workflow.Action.FORWARD: services.forward,
    workflow.Action.COMPLETE: services.complete,
    workflow.Action.RETURN_RESULT: services.return_result,
    workflow.Action.CLOSE: services.close,
    workflow.Action.WITHDRAW: services.on_withdrawn,
}


def test_every_stage_is_reachable_from_the_desk() -> None:
    assert workflow.reachable() == set(Stage)


def test_every_stage_but_the_terminal_ones_has_a_way_out() -> None:
    for stage in Stage:
        outgoing = workflow.actions_from(stage)
        if stage in workflow.TERMINAL:
            assert outgoing == [], stage
        else:
            assert outgoing, f"{stage} is a dead end"


def test_every_terminal_stage_is_reached_from_every_live_stage() -> None:
    for stage in Stage:
        if stage not in workflow.TERMINAL:
            assert workflow.reachable(stage) & workflow.TERMINAL, stage


def test_one_row_per_stage_and_action() -> None:
    keys = [(t.source, t.action) for t in TRANSITIONS]
    assert len(keys) == len(set(keys))


def test_no_action_without_a_role_and_every_role_exists() -> None:
    known = set(Role.values) | {workflow.DEPARTMENT}
    for t in TRANSITIONS:
        assert t.roles, t
        assert t.roles <= known, t
        if t.party is Party.UNIT:
            assert t.roles <= UNIT_ROLES, t
        else:
            assert t.roles <= AGENCY_ROLES | {workflow.DEPARTMENT}, t
        for department in workflow.DEPARTMENTS:
            assert workflow.roles_for(t, department), t


def test_the_department_placeholder_becomes_the_departments_role() -> None:
    complete = workflow.find(Stage.ASSIGNED, workflow.Action.COMPLETE)
    assert complete is not None
    assert workflow.roles_for(complete, "benefits") == {"benefits"}
    assign = workflow.find(Stage.ROUTED, workflow.Action.ASSIGN)
    assert assign is not None
    assert workflow.roles_for(assign, "collection") == {"collection", "supervisor"}
    assert workflow.find(Stage.CLOSED, workflow.Action.ACCEPT) is None
    assert workflow.find("nonsense", "accept") is None


def test_every_stage_maps_to_a_dossier_status_and_a_clock() -> None:
    assert set(workflow.DOSSIER_STATUS) == set(Stage)
    assert set(workflow.DOSSIER_STATUS.values()) <= set(Status.values)
    assert set(workflow.CLOCK) == set(Stage)
    # what the unit sees while the agency works, and the supplement pause
    assert workflow.DOSSIER_STATUS[Stage.DESK] == Status.RECEIVED
    assert workflow.DOSSIER_STATUS[Stage.CLOSED] == Status.RETURNED
    assert workflow.CLOCK[Stage.SUPPLEMENT] is workflow.Clock.PAUSED
    assert {Stage.DESK, Stage.ROUTED, Stage.ASSIGNED, Stage.RESULT} == workflow.COUNTING


def test_the_models_choices_follow_the_table() -> None:
    assert set(models.Stage.values) == {s.value for s in Stage}
    assert {a.value for a in workflow.Action} <= set(models.Action.values)
    assert set(workflow.DEPARTMENTS) == set(models.Department.values)
    assert set(workflow.DEPARTMENTS) == set(Procedure.Field.values)
    assert set(workflow.DEPARTMENTS) <= set(Role.values)
    assert workflow.DESK in Role.values and workflow.SUPERVISOR in Role.values
    assert {str(r) for r in UNIT_ROLES} == workflow.UNIT_ROLES


def test_what_each_row_sets_is_a_field_of_the_case() -> None:
    names = {f.name for f in models.Case._meta.get_fields()}
    for t in TRANSITIONS:
        assert set(t.sets) <= names, t


def test_every_action_has_its_service_taking_the_actor() -> None:
    assert set(SERVICE_OF) == set(workflow.Action)
    for action, fn in SERVICE_OF.items():
        assert "actor" in inspect.signature(fn).parameters, action
