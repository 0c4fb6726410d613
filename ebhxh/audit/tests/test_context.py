"""acting_as and current() for commands and tasks."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from ebhxh.audit.context import acting_as, current


def test_there_is_no_context_by_default() -> None:
    ctx = current()
    assert (ctx.actor, ctx.request_id, ctx.ip) == (None, "", None)


def test_acting_as_sets_and_restores() -> None:
    actor = object.__new__(type("FakeUser", (), {"is_authenticated": True}))
    with acting_as(actor=actor, ip="::ffff:192.0.2.1") as ctx:
        assert ctx.actor is actor
        assert ctx.ip == "192.0.2.1"
        assert re.fullmatch(r"[0-9a-f]{32}", ctx.request_id)
        with acting_as(request_id="job.7") as inner:
            # Inner frames inherit what they do not set.
            assert (inner.actor, inner.request_id, inner.ip) == (actor, "job.7", "192.0.2.1")
        assert current().request_id == ctx.request_id
    assert current().request_id == ""


def test_anonymous_is_no_actor() -> None:
    with acting_as(actor=AnonymousUser()) as ctx:
        assert ctx.actor is None


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"request_id": "a b"}, "token"), ({"ip": "nope"}, "IP")]
)
def test_it_refuses_bad_values(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message), acting_as(**kwargs):
        pass
