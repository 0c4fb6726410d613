"""Processing fixtures: real dossiers built with the intake (the dossiers app's fixtures), and
the officers of the agency that manages unit A, one per role."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from ebhxh.accounts.models import Role, User
from ebhxh.accounts.tests.factories import UserFactory
from ebhxh.catalog.models import Agency
from ebhxh.dossiers import services as intake
from ebhxh.dossiers.models import Channel, Dossier, Status
from ebhxh.dossiers.tests.conftest import (  # noqa: F401  fixtures
    active_unit,
    agency_seal,
    envelope,
    envelope_for,
    media,
    pki,
    procedures,
    seal_p12,
    unit_cert,
)
from ebhxh.processing import services
from ebhxh.processing.models import Case
from ebhxh.signatures.testing.pki import Issued
from ebhxh.units.models import Unit


def _officer(username: str, agency: Agency, *roles: str) -> User:
    user = UserFactory(username=username, kind=User.Kind.AGENCY, agency=agency, roles=list(roles))
    TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return user


@pytest.fixture
def thu_officer(base_agency: Agency) -> User:
    """Collection (Thu) officer of unit A's agency: processes procedure 600."""
    return _officer("thu.a", base_agency, Role.COLLECTION)


@pytest.fixture
def thu_officer2(base_agency: Agency) -> User:
    """Another collection officer of the same agency: not assigned to the test dossiers."""
    return _officer("thu.b", base_agency, Role.COLLECTION)


@pytest.fixture
def sothe_officer(base_agency: Agency) -> User:
    """Books-and-cards (Sổ-thẻ) officer of unit A's agency."""
    return _officer("sothe.a", base_agency, Role.BOOKS_CARDS)


@pytest.fixture
def other_desk(other_agency: Agency) -> User:
    """Desk officer of another base agency: must not act on unit A's dossiers."""
    return _officer("motcua.khac", other_agency, Role.DESK)


@pytest.fixture
def omni(base_agency: Agency) -> User:
    """An officer of unit A's agency holding every agency role: only the table can stop them."""
    return _officer(
        "tatca",
        base_agency,
        Role.DESK,
        Role.COLLECTION,
        Role.BOOKS_CARDS,
        Role.BENEFITS,
        Role.SUPERVISOR,
    )


SubmitFn = Callable[..., Dossier]


@pytest.fixture
def submit(
    active_unit: Unit,  # noqa: F811  the fixtures imported above
    unit_cert: Issued,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> SubmitFn:
    """Submit a fresh signed dossier of unit A through the intake; returns it RECEIVED (with its
    case at the desk, or attached to the case it supplements). `open_case=False`: a received
    dossier without a case, to test what `attach_supplement` refuses."""
    counter = iter(range(1, 10_000, 20))

    def make(
        *, open_case: bool = True, supplement_to: Dossier | None = None, **kwargs: Any
    ) -> Dossier:
        kwargs.setdefault("first", next(counter))
        data = envelope_for(active_unit, unit_cert, **kwargs)
        with contextlib.ExitStack() as stack:
            if not open_case:
                stack.enter_context(mock.patch.object(intake, "_open_case", lambda d: None))
            stack.enter_context(django_capture_on_commit_callbacks(execute=True))
            ack = intake.submit(
                data, unit=active_unit, channel=Channel.API, supplement_to=supplement_to
            )
        dossier = Dossier.objects.get(pk=ack.dossier.pk)
        assert dossier.status == Status.RECEIVED, dossier.findings
        return dossier

    return make


@pytest.fixture
def new_case(submit: SubmitFn) -> Callable[[], Case]:
    """A received dossier of unit A with its case (started by the intake)."""

    def make() -> Case:
        return services.start_case(submit())

    return make


@pytest.fixture
def case(new_case: Callable[[], Case]) -> Case:
    return new_case()
