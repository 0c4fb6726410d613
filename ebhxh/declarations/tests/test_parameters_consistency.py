"""The offline parameter table and the server's catalogue resolver give the same answers.

ebhxh.catalog.resolver imports the catalogue models (Django), so the rules package cannot reuse
its helpers; ebhxh.declarations.parameters has its own. These tests keep the two in step: same
parsing, same constants, and the same parameters for every month 07/2024–12/2027 in every
region, with the database loaded from the same data files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from ebhxh.catalog import resolver
from ebhxh.catalog.models import ContributionRate
from ebhxh.catalog.resolver import CatalogError
from ebhxh.catalog.services import load_catalogues
from ebhxh.declarations import parameters
from ebhxh.declarations.parameters import ParameterError, load_parameters, months

PARAMETER_CATALOGUES = ["minimum_wages", "reference_salaries", "contribution_rates"]

PERIOD_INPUTS = [
    "06/2026",
    "2026-06",
    "062026",
    " 06/2026 ",
    "\t12/2025\n",
    "01/1900",
    dt.date(2026, 6, 17),
    dt.datetime(2026, 6, 30, 23, 59),
    "13-2026",
    "13/2026",
    "00/2026",
    "2026-13",
    "2026-00",
    "6/2026",
    "2026/06",
    "06-2026",
    "0620261",
    "12/1899",
    "",
    "June",
    202606,
    None,
]
# Both accept ASCII digits only: other scripts' digits and superscripts are refused with a code.
PERIOD_INPUTS += ["٠٦/٢٠٢٦", "２０２６-０６"]
REGION_INPUTS = [1, 2, 3, 4, "1", "01", "04", "IV", "iii", " ii ", 0, 5, "05", "V", "", True]
REGION_INPUTS += ["1.0", "001", -1, None, 1.0, "²", "٠١"]


def _outcome(function, value):
    try:
        return ("ok", function(value))
    except (CatalogError, ParameterError) as error:
        return (error.code, error.message_vi, error.message_en, error.status)


@pytest.mark.parametrize("value", PERIOD_INPUTS, ids=repr)
def test_both_parse_periods_identically(value):
    assert _outcome(parameters.parse_period, value) == _outcome(resolver.parse_period, value)


@pytest.mark.parametrize("value", REGION_INPUTS, ids=repr)
def test_both_parse_regions_identically(value):
    assert _outcome(parameters.parse_region, value) == _outcome(resolver.parse_region, value)


def test_both_share_the_constants():
    assert tuple(ContributionRate.Fund.values) == parameters.FUNDS
    assert parameters.REFERENCE_CAPPED_FUNDS == resolver.REFERENCE_CAPPED_FUNDS
    assert parameters.REGIONS == resolver.REGIONS
    assert parameters.CAP_MULTIPLIER == resolver.CAP_MULTIPLIER
    assert (parameters.PERIOD_FORMAT, parameters.REGION_INVALID, parameters.NO_VALUE) == (
        resolver.PERIOD_FORMAT,
        resolver.REGION_INVALID,
        resolver.NO_VALUE,
    )
    assert parameters.AMBIGUOUS == resolver.AMBIGUOUS
    assert [f.name for f in dataclasses.fields(parameters.PeriodParameters)] == [
        f.name for f in dataclasses.fields(resolver.PeriodParameters)
    ]
    assert [f.name for f in dataclasses.fields(parameters.FundRate)] == [
        f.name for f in dataclasses.fields(resolver.FundRate)
    ]


@pytest.mark.django_db
def test_both_resolvers_agree_for_every_month_and_region():
    load_catalogues(only=PARAMETER_CATALOGUES)
    table = load_parameters()
    periods = months("07/2024", "12/2027")
    assert len(periods) == 42
    for first_day in periods:
        for region in parameters.REGIONS:
            period = f"{first_day:%m/%Y}"
            offline = table.for_period(period, region)
            server = resolver.parameters_for(period, region)
            assert dataclasses.asdict(offline) == dataclasses.asdict(server), (period, region)
            assert (offline.employer_total, offline.employee_total) == (
                server.employer_total,
                server.employee_total,
            )
            for fund in parameters.FUNDS:
                assert offline.cap_for(fund) == server.cap_for(fund)
        assert dataclasses.asdict(table.minimum_wages_for(first_day)[0]) == dataclasses.asdict(
            resolver.minimum_wages_for(first_day)[0]
        )


@pytest.mark.django_db
@pytest.mark.parametrize(("period", "region"), [("06/2024", 1), ("13/2026", 1), ("06/2026", 7)])
def test_both_resolvers_fail_the_same_way(period, region):
    load_catalogues(only=PARAMETER_CATALOGUES)
    table = load_parameters()
    offline = _outcome(lambda _: table.for_period(period, region), None)
    server = _outcome(lambda _: resolver.parameters_for(period, region), None)
    assert offline[0] != "ok"
    assert offline == server
