from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from ebhxh.notify.tests.backends import FlakyBackend

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    """Time stands still at START until the test moves it (traveller.shift(seconds))."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def flaky_backend(settings):
    settings.EMAIL_BACKEND = "ebhxh.notify.tests.backends.FlakyBackend"
    FlakyBackend.errors = []
    FlakyBackend.always = None
    yield FlakyBackend
    FlakyBackend.errors = []
    FlakyBackend.always = None


@pytest.fixture
def eager_retries():
    """Let autoretry run as in the embedded mode: retries at once, no exception to the caller."""
    from ebhxh.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


def code_in(message) -> str:
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", message.body)
    assert match, message.body
    return match.group(1)
