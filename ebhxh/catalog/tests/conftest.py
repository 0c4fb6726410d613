"""Load the catalogues once for this package's tests, and remove them afterwards so the tests
of other apps start from empty catalogue tables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ebhxh.catalog.services import LoadReport, load_catalogues
from ebhxh.catalog.tests.utils import wipe_catalogues


@pytest.fixture(scope="package", autouse=True)
def catalogues(django_db_setup: None, django_db_blocker) -> Iterator[LoadReport]:
    with django_db_blocker.unblock():
        report = load_catalogues()
    yield report
    with django_db_blocker.unblock():
        wipe_catalogues()
