"""The dossier API as payroll and I-VAN software use it: POST → 202 → poll → receipt."""

from __future__ import annotations

import base64
import io
import zipfile
from typing import Any

import pytest

from ebhxh.accounts.services import create_api_token
from ebhxh.dossiers.models import Dossier, Status
from ebhxh.dossiers.tests.conftest import envelope_for
from ebhxh.signatures.testing.pki import Issued
from ebhxh.units.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth(active_unit: Unit, unit_admin: Any) -> dict[str, str]:
    _token, value = create_api_token(actor=unit_admin, unit=active_unit, name="Phần mềm lương")
    return {"HTTP_AUTHORIZATION": f"Bearer {value}"}


def _post(client: Any, data: bytes, auth: dict[str, str], **headers: str) -> Any:
    return client.post(
        "/api/v1/dossiers", data=data, content_type="application/xml", **auth, **headers
    )


def test_submit_poll_and_download(
    client: Any, auth: dict[str, str], envelope: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, envelope, auth)
    assert response.status_code == 202, response.content
    ack = response.json()
    assert ack["status"] == "submitted" and ack["replayed"] is False
    assert ack["poll_after_seconds"] > 0
    status = client.get(ack["status_url"], **auth).json()
    assert status["status"] == "received" and status["number"].startswith("00001/")
    assert [e["status"] for e in status["events"]] == ["submitted", "received"]
    assert status["findings"] == []

    receipt = client.get(status["receipt_xml_url"], **auth)
    assert receipt.status_code == 200 and receipt["Content-Type"] == "application/xml"
    assert status["number"].encode() in receipt.content
    pdf = client.get(status["receipt_pdf_url"], **auth)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    bundle = client.get(status["evidence_url"], **auth)
    assert bundle.status_code == 200
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as z:
        assert z.read("received/BHXHDienTu.xml") == envelope
    from ebhxh.dossiers.evidence import verify_bundle

    checked = verify_bundle(bundle.content)
    assert checked.ok, checked.problems
    assert checked.metadata["number"] == status["number"] and checked.receipt_hash_matches

    listed = client.get("/api/v1/dossiers", **auth).json()
    assert [d["tracking_id"] for d in listed] == [ack["tracking_id"]]


def test_replay_returns_the_same_tracking_id(
    client: Any, auth: dict[str, str], envelope: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(client, envelope, auth, HTTP_IDEMPOTENCY_KEY="lan-1").json()
    again = _post(client, envelope, auth, HTTP_IDEMPOTENCY_KEY="lan-1")
    assert again.status_code == 202
    assert again.json()["tracking_id"] == first["tracking_id"] and again.json()["replayed"]
    assert again.json()["status"] == "received"
    assert Dossier.objects.count() == 1


def test_refusals_are_coded_and_bilingual(client: Any, auth: dict[str, str], settings: Any) -> None:
    empty = _post(client, b"", auth)
    assert empty.status_code == 400
    body = empty.json()
    assert body["code"] == "DOS-EMPTY" and body["message_vi"] and body["message_en"]
    settings.DOSSIER_MAX_BYTES = 100
    large = _post(client, b"<Hoso>" + b" " * 200 + b"</Hoso>", auth)
    assert large.status_code == 413 and large.json()["code"] == "DOS-TOO-LARGE"
    assert Dossier.objects.count() == 0


def test_no_token_no_access_and_no_other_units_dossiers(
    client: Any,
    auth: dict[str, str],
    envelope: bytes,
    unit_b: Unit,
    outsider: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    assert _post(client, envelope, {}).status_code == 401
    with django_capture_on_commit_callbacks(execute=True):
        ack = _post(client, envelope, auth).json()
    _t, other = create_api_token(actor=outsider, unit=unit_b, name="Khác")
    other_auth = {"HTTP_AUTHORIZATION": f"Bearer {other}"}
    assert client.get(ack["status_url"], **other_auth).status_code == 404
    assert client.get(f"{ack['status_url']}/receipt.xml", **other_auth).status_code == 404
    assert client.get("/api/v1/dossiers", **other_auth).json() == []


def test_test_mode_returns_findings_and_a_specimen(
    client: Any, auth: dict[str, str], envelope: bytes, active_unit: Unit, unit_cert: Issued
) -> None:
    response = _post(client, envelope, auth, HTTP_X_EBHXH_TEST="1")
    assert response.status_code == 200
    body = response.json()
    assert body["test"] and body["accepted"] and body["findings"] == []
    specimen = base64.b64decode(body["specimen_receipt_base64"])
    assert b"CKy_CQBHXH" in specimen
    bad = _post(
        client, envelope_for(active_unit, unit_cert, procedure="999"), auth, HTTP_X_EBHXH_TEST="1"
    )
    assert bad.json()["accepted"] is False
    assert "DOS-PROCEDURE-UNKNOWN" in {f["code"] for f in bad.json()["findings"]}
    assert Dossier.objects.count() == 0


def test_withdraw_through_the_api(
    client: Any, auth: dict[str, str], envelope: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ack = _post(client, envelope, auth).json()
    url = f"{ack['status_url']}/withdraw"
    response = client.post(
        url, data={"reason": "Gửi nhầm"}, content_type="application/json", **auth
    )
    assert response.status_code == 200 and response.json()["status"] == Status.WITHDRAWN
    again = client.post(url, data={}, content_type="application/json", **auth)
    assert again.status_code == 409 and again.json()["code"] == "DOS-STATE"


@pytest.fixture
def ivan_auth(sysadmin: Any) -> tuple[Any, dict[str, str]]:
    from ebhxh.accounts.services import create_ivan_token
    from ebhxh.catalog.models import IVanProvider

    ivan = IVanProvider.objects.create(code="00040", name="Công ty Thái Sơn")
    _token, value = create_ivan_token(actor=sysadmin, ivan=ivan, name="Cổng I-VAN Thái Sơn")
    return ivan, {"HTTP_AUTHORIZATION": f"Bearer {value}"}


def test_an_ivan_files_only_for_the_units_that_chose_it(
    client: Any,
    ivan_auth: tuple[Any, dict[str, str]],
    active_unit: Unit,
    unit_cert: Issued,
    auth: dict[str, str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    from ebhxh.declarations.envelope import Ivan

    ivan, headers = ivan_auth
    data = envelope_for(active_unit, unit_cert, ivan=Ivan(ivan.code, ivan.name))
    refused = _post(client, data, headers)  # the unit has not chosen this I-VAN
    assert refused.status_code == 403 and refused.json()["code"] == "DOS-NOT-AUTHORISED"

    active_unit.ivan = ivan
    active_unit.save(update_fields=["ivan"])
    other_ivan = envelope_for(active_unit, unit_cert, first=50, ivan=Ivan("00020", "VNPT"))
    assert _post(client, other_ivan, headers).status_code == 403  # names another I-VAN
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, data, headers)
    assert response.status_code == 202, response.content
    status = client.get(response.json()["status_url"], **headers).json()
    assert status["status"] == "received" and status["unit_code"] == active_unit.code
    assert [d["unit_code"] for d in client.get("/api/v1/dossiers", **headers).json()] == [
        active_unit.code
    ]
    # The unit sees it too; an I-VAN token is not a unit token for the unit's own endpoints.
    assert client.get(response.json()["status_url"], **auth).status_code == 200
    assert client.get("/api/v1/me", **headers).status_code == 401
