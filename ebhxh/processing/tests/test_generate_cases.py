"""`ebhxh generate_cases`: synthetic dossiers and cases for the queue benchmark."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from ebhxh.dossiers.models import Dossier, DossierCounter
from ebhxh.processing import services
from ebhxh.processing.models import Case, Stage, Step

pytestmark = pytest.mark.django_db


def test_it_makes_valid_cases_the_queues_find() -> None:
    call_command("generate_cases", count=600, agencies=2)
    assert Dossier.objects.count() == Case.objects.count() == 600
    assert Step.objects.filter(seq=1, action="receive").count() == 600
    # every case satisfies the model's rules and mirrors its dossier
    for case in Case.objects.select_related("dossier")[:200]:
        assert case.number == case.dossier.number and case.agency_id == case.dossier.agency_id
        case.full_clean(validate_unique=False)
    assert Case.objects.filter(stage=Stage.ASSIGNED, assigned_to__isnull=True).count() == 0
    stages = set(Case.objects.values_list("stage", flat=True))
    assert {Stage.CLOSED, Stage.DESK, Stage.ASSIGNED} <= stages
    # the counters move past the generated numbers
    for counter in DossierCounter.objects.all():
        prefix = f"{counter.last:05d}/{counter.year}/"
        assert Dossier.objects.filter(number__startswith=prefix).exists()
    desk = Case.objects.first()
    assert desk is not None
    from ebhxh.accounts.models import User

    officer = User.objects.get(username=f"bench.{desk.agency.code}.desk")
    assert services.search(officer, desk.number).get() == desk
    assert list(services.queue(officer, status=[Stage.DESK])) == list(
        Case.objects.filter(agency=desk.agency, stage=Stage.DESK).order_by("due_date", "pk")
    )
    call_command("generate_cases", count=10, agencies=2)  # again: numbers go on
    assert Dossier.objects.count() == 610
