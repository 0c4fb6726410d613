"""The unit answers a supplement request on the web: the signed supplement joins the case."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from ebhxh.accounts.models import User
from ebhxh.dossiers.models import Dossier, Status
from ebhxh.dossiers.tests.conftest import envelope_for
from ebhxh.processing import services
from ebhxh.processing.models import Case, Stage, SupplementRequest
from ebhxh.signatures.testing.pki import Issued
from tests.personas import verified_login

pytestmark = pytest.mark.django_db

ITEMS = [{"subject": "Hợp đồng", "issue": "Thiếu", "guidance": "Bổ sung hợp đồng đã ký"}]


def test_the_unit_submits_the_supplement_from_the_dossier_page(
    case: Case,
    desk_officer: User,
    unit_admin: User,
    unit_cert: Issued,
    outsider: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    services.request_supplement(case, actor=desk_officer, items=ITEMS)
    original = Dossier.objects.get(pk=case.dossier_id)
    assert original.status == Status.SUPPLEMENT
    client = Client()
    verified_login(client, unit_admin)
    page = client.get(reverse("dossiers:detail", args=[original.tracking_id])).content.decode()
    assert 'id="supplement-link"' in page
    url = f"{reverse('dossiers:upload')}?bo-sung={original.tracking_id}"
    assert 'id="supplement-for"' in client.get(url).content.decode()
    other = Client()
    verified_login(other, outsider)
    assert other.get(url).status_code == 404  # not another unit's dossier

    data = envelope_for(original.unit, unit_cert, first=900)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("dossiers:upload"),
            {
                "bo-sung": str(original.tracking_id),
                "file": SimpleUploadedFile("BHXHDienTu.xml", data, "application/xml"),
            },
        )
    assert response.status_code == 302
    supplement = Dossier.objects.get(supplement_to=original)
    assert supplement.status == Status.RECEIVED
    assert SupplementRequest.objects.get(case=case).supplement == supplement
    case.refresh_from_db()
    assert case.stage == Stage.DESK
    assert not Case.objects.filter(dossier=supplement).exists()  # joined, not a case of its own
