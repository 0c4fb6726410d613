from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_it_prints_counts_per_catalogue():
    out = StringIO()
    call_command("load_catalogues", stdout=out)
    lines = out.getvalue().splitlines()
    communes = next(line for line in lines if line.startswith("communes "))
    assert communes.split()[-5:] == ["0", "0", "3321", "0", "0"]
    assert "vietnam-provinces 2025" in out.getvalue()


def test_it_loads_only_the_named_catalogues():
    out = StringIO()
    call_command("load_catalogues", "--only", "forms", "ethnicities", stdout=out)
    names = [line.split()[0] for line in out.getvalue().splitlines()[1:-1]]
    assert names == ["forms", "ethnicities"]


def test_it_rejects_an_unknown_name():
    with pytest.raises(CommandError):
        call_command("load_catalogues", "--only", "hospitals")
