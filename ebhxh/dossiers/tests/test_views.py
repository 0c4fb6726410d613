"""The unit's dossier pages: who sees what, CSRF, findings next to rows, withdraw, downloads,
the upload and its test mode, the signing round trips as signing.js makes them."""

from __future__ import annotations

import base64
import datetime as dt
import io
import zipfile
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ebhxh.accounts.models import User
from ebhxh.dossiers import drafts, services
from ebhxh.dossiers.models import Channel, Dossier, Draft, DraftStatus, Status
from ebhxh.dossiers.tests.conftest import envelope_for, signer_of
from ebhxh.signatures import xmldsig
from ebhxh.signatures.testing.pki import Issued
from ebhxh.units.models import Employment, Unit
from ebhxh.units.tests.factories import EmploymentFactory, ParticipantFactory
from tests.personas import verified_login

pytestmark = pytest.mark.django_db


def client_for(user: User, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


@pytest.fixture
def received(
    active_unit: Unit, envelope: bytes, signer: User, django_capture_on_commit_callbacks: Any
) -> Dossier:
    with django_capture_on_commit_callbacks(execute=True):
        ack = services.submit(envelope, unit=active_unit, channel=Channel.WEB, user=signer)
    ack.dossier.refresh_from_db()
    assert ack.dossier.status == Status.RECEIVED, ack.dossier.findings
    return ack.dossier


@pytest.fixture
def registry(active_unit: Unit) -> list[Employment]:
    return [
        EmploymentFactory(
            unit=active_unit,
            participant=ParticipantFactory(full_name=name),
            position="Công nhân may",
            salary_amount=6_500_000,
            contract_type=Employment.ContractType.FIXED_TERM,
            contract_start=dt.date(2026, 7, 1),
            contract_end=dt.date(2027, 6, 30),
            start_month=dt.date(2026, 7, 1),
        )
        for name in ("Nguyễn Thị Lan", "Trần Văn Hùng", "Lê Minh Châu")
    ]


def test_it_lists_the_units_dossiers_newest_first_with_filters(
    received: Dossier, preparer: User
) -> None:
    client = client_for(preparer)
    page = client.get(reverse("dossiers:list")).content.decode()
    assert received.number in page and "Đã tiếp nhận" in page
    empty = client.get(reverse("dossiers:list"), {"status": "rejected"}).content.decode()
    assert received.number not in empty
    by_period = client.get(reverse("dossiers:list"), {"period": "07/2026"}).content.decode()
    assert received.number in by_period


def test_it_shows_status_number_appointment_and_timeline(received: Dossier, preparer: User) -> None:
    page = client_for(preparer).get(reverse("dossiers:detail", args=[received.tracking_id]))
    text = page.content.decode()
    assert received.number in text and received.appointment_date.strftime("%d/%m/%Y") in text
    assert "Đã gửi, đang kiểm tra" in text  # the first timeline step
    assert reverse("dossiers:receipt_pdf", args=[received.tracking_id]) in text


def test_another_units_dossier_is_404(received: Dossier, outsider: User) -> None:
    client = client_for(outsider)
    for name in ("detail", "receipt_xml", "receipt_pdf", "evidence", "withdraw"):
        assert (
            client.get(reverse(f"dossiers:{name}", args=[received.tracking_id])).status_code == 404
        )


def test_agency_officers_and_anonymous_users_are_kept_out(desk_officer: User) -> None:
    assert Client().get(reverse("dossiers:list")).status_code == 302  # to the login page
    officer = verified_login(Client(), desk_officer)
    assert officer.get(reverse("dossiers:list")).status_code == 403


def test_the_receipt_and_the_evidence_bundle_download(received: Dossier, preparer: User) -> None:
    client = client_for(preparer)
    xml = client.get(reverse("dossiers:receipt_xml", args=[received.tracking_id]))
    assert xml.status_code == 200 and received.number.encode() in xml.content
    assert "attachment" in xml["Content-Disposition"]
    pdf = client.get(reverse("dossiers:receipt_pdf", args=[received.tracking_id]))
    assert pdf.content.startswith(b"%PDF")
    bundle = client.get(reverse("dossiers:evidence", args=[received.tracking_id]))
    names = zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()
    assert any(n.endswith("BHXHDienTu.xml") for n in names)


def test_withdraw_asks_for_confirmation_and_a_preparer_may_not(
    received: Dossier, preparer: User, signer: User
) -> None:
    url = reverse("dossiers:withdraw", args=[received.tracking_id])
    assert client_for(preparer).post(url, {"reason": "x", "confirm": "on"}).status_code == 403
    client = client_for(signer)
    assert "Tôi xác nhận" in client.get(url).content.decode()
    client.post(url, {"reason": "Gửi nhầm kỳ"})  # not confirmed: nothing happens
    assert Dossier.objects.get(pk=received.pk).status == Status.RECEIVED
    response = client.post(url, {"reason": "Gửi nhầm kỳ", "confirm": "on"})
    assert response.status_code == 302
    received.refresh_from_db()
    assert received.status == Status.WITHDRAWN
    assert "Đơn vị đã rút hồ sơ" in client.get(response["Location"]).content.decode()


def test_csrf_is_enforced_on_posts(received: Dossier, signer: User, active_unit: Unit) -> None:
    client = client_for(signer, csrf=True)
    url = reverse("dossiers:withdraw", args=[received.tracking_id])
    assert client.post(url, {"reason": "x", "confirm": "on"}).status_code == 403
    draft = drafts.create(active_unit, user=signer, procedure_code="600", period="07/2026")
    for name in ("ready", "draft_delete", "certificate", "signed"):
        assert client.post(reverse(f"dossiers:{name}", args=[draft.pk])).status_code == 403
    assert client.post(reverse("dossiers:draft_new"), {"procedure": "600"}).status_code == 403
    assert Dossier.objects.get(pk=received.pk).status == Status.RECEIVED


def test_upload_submits_a_signed_file_and_test_mode_keeps_nothing(
    active_unit: Unit, unit_cert: Issued, signer: User, preparer: User
) -> None:
    data = envelope_for(active_unit, unit_cert, first=500)
    url = reverse("dossiers:upload")
    file = io.BytesIO(data)
    file.name = "BHXHDienTu.xml"
    tested = client_for(preparer).post(url, {"file": file, "test": "1"})
    text = tested.content.decode()
    assert "Hồ sơ sẽ được tiếp nhận nếu nộp thật" in text and "data:application/xml;base64," in text
    assert Dossier.objects.count() == 0
    file.seek(0)
    refused = client_for(preparer).post(url, {"file": file, "submit": "1"})
    assert "không có quyền" in refused.content.decode() and Dossier.objects.count() == 0
    file.seek(0)
    done = client_for(signer).post(url, {"file": file, "submit": "1"})
    dossier = Dossier.objects.get()
    assert done["Location"] == reverse("dossiers:detail", args=[dossier.tracking_id])
    assert dossier.channel == Channel.WEB and dossier.submitted_by == signer


def test_findings_are_rendered_next_to_the_rows(
    active_unit: Unit, preparer: User, registry: list[Employment]
) -> None:
    client = client_for(preparer)
    response = client.post(reverse("dossiers:draft_new"), {"procedure": "600", "period": "07/2026"})
    draft = Draft.objects.get()
    assert response["Location"] == reverse("dossiers:compose", args=[draft.pk])
    client.post(
        reverse("dossiers:registry", args=[draft.pk]),
        {"pa": "TM", "employments": [e.pk for e in registry]},
    )
    draft.refresh_from_db()
    assert len(draft.rows) == 3
    edit = client.get(reverse("dossiers:row_edit", args=[draft.pk, 1])).content.decode()
    assert "Nguyễn Thị Lan" in edit
    values = {
        "pa": "TM",
        "full_name": "Nguyễn Thị Lan",
        "bhxh_code": "12345",
        "birth_date": "17/05/1990",
        "gender": "1",
        "position": "Công nhân may",
        "salary": "6.500.000",
        "contract_kind": "fixed",
        "contract_from": "01/07/2026",
        "contract_to": "30/06/2027",
        "from_month": "07/2026",
    }
    client.post(reverse("dossiers:row_edit", args=[draft.pk, 1]), values)
    page = client.get(reverse("dossiers:compose", args=[draft.pk])).content.decode()
    row2 = page[page.index('id="row-2"') : page.index('id="row-3"')]
    assert 'class="cell-error" data-field="bhxh_code"' in row2
    assert "Mã số BHXH</strong>" in row2 and "ID-BHXH-FORMAT" in row2
    assert "cell-error" not in page[page.index('id="row-1"') : page.index('id="row-2"')]
    assert 'id="summary"' in page and "lỗi" in page


def test_a_new_person_row_is_validated_by_the_form(active_unit: Unit, preparer: User) -> None:
    draft = drafts.create(active_unit, user=preparer, procedure_code="600", period="07/2026")
    client = client_for(preparer)
    response = client.post(
        reverse("dossiers:row_add", args=[draft.pk]),
        {"pa": "TM", "full_name": "A", "birth_date": "31/02/1990", "salary": "abc"},
    )
    text = response.content.decode()
    assert (
        response.status_code == 200
        and "Ngày sinh phải có dạng" in text
        and "Không phải là số" in text
    )
    assert Draft.objects.get(pk=draft.pk).rows == []


def test_maker_checker_on_the_pages(
    active_unit: Unit, preparer: User, signer: User, unit_cert: Issued, registry: list[Employment]
) -> None:
    draft = drafts.create(active_unit, user=preparer, procedure_code="600", period="07/2026")
    drafts.add_from_registry(draft, [registry[0].pk], "TM", user=preparer)
    client = client_for(preparer)
    client.post(reverse("dossiers:ready", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == DraftStatus.AWAITING_SIGNATURE
    sign_page = client.get(reverse("dossiers:sign", args=[draft.pk])).content.decode()
    assert 'id="agent"' not in sign_page and "Người ký của đơn vị" in sign_page
    cert = base64.b64encode(unit_cert.cert_der).decode()
    refused = client.post(
        reverse("dossiers:certificate", args=[draft.pk]),
        {"certificate": cert},
        content_type="application/json",
    )
    assert refused.status_code == 403 and refused.json()["code"] == "DRAFT-ROLE"


def test_the_signing_round_trips_as_signing_js_makes_them(
    active_unit: Unit,
    preparer: User,
    signer: User,
    unit_cert: Issued,
    registry: list[Employment],
    django_capture_on_commit_callbacks: Any,
) -> None:
    draft = drafts.create(active_unit, user=preparer, procedure_code="600", period="07/2026")
    drafts.add_from_registry(draft, [e.pk for e in registry], "TM", user=preparer)
    drafts.mark_ready(Draft.objects.get(pk=draft.pk), user=preparer)
    client = client_for(signer)
    page = client.get(reverse("dossiers:sign", args=[draft.pk])).content.decode()
    assert 'id="agent"' in page and "D02-TS-595.xml" in page
    step = client.post(
        reverse("dossiers:certificate", args=[draft.pk]),
        {"certificate": base64.b64encode(unit_cert.cert_der).decode()},
        content_type="application/json",
    ).json()
    containers = []
    with django_capture_on_commit_callbacks(execute=True):
        while "document" in step:
            containers.append(step["container"])
            signed = xmldsig.sign(
                base64.b64decode(step["document"]),
                signer_of(unit_cert),
                container=step["container"],
            )
            step = client.post(
                reverse("dossiers:signed", args=[draft.pk]),
                {"signed": base64.b64encode(signed).decode(), "id": step["id"]},
                content_type="application/json",
            ).json()
    assert containers == ["D02-TS/Cky", "Hoso/CKy_Dvi"]
    dossier = Dossier.objects.get()
    assert step["next"] == reverse("dossiers:detail", args=[dossier.tracking_id])
    assert "Đã tiếp nhận" in client.get(step["next"]).content.decode()


def test_the_unit_home_page_lists_recent_status_changes(received: Dossier, preparer: User) -> None:
    client = client_for(preparer)
    home = client.get("/").content.decode()
    assert 'id="notifications"' in home and received.number in home and "Mới" in home
    client.get(reverse("dossiers:list"))  # seen
    again = client.get("/").content.decode()
    assert 'class="badge new">Mới' not in again


def test_an_excel_upload_shows_findings_with_sheet_and_cell(
    active_unit: Unit, preparer: User
) -> None:
    import dataclasses

    from ebhxh.declarations.excel import write_d02_workbook
    from ebhxh.dossiers.testing import d02_form

    form = d02_form(2)
    rows = list(form.rows)
    rows[0] = dataclasses.replace(rows[0], bhxh_code="79ABC")
    book = io.BytesIO(write_d02_workbook(dataclasses.replace(form, rows=tuple(rows))))
    book.name = "D02-TS.xlsx"
    draft = drafts.create(active_unit, user=preparer, procedure_code="600", period="07/2026")
    page = client_for(preparer).post(reverse("dossiers:attach", args=[draft.pk]), {"file": book})
    text = page.content.decode()
    assert "Đã thêm 2 dòng" in text and "DuLieu" in text and "ID-BHXH-FORMAT" in text
