"""The result of a case (issue 7 item 4): recorded and sealed as 03/TB-TS when the officer
completes it, given to the unit (download, API, e-mail) only once the desk returns it."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from ebhxh.accounts.models import User
from ebhxh.accounts.services import create_api_token
from ebhxh.dossiers import services as intake
from ebhxh.dossiers.models import Dossier
from ebhxh.dossiers.services import IntakeError
from ebhxh.notices import result as tbts3
from ebhxh.processing import services
from ebhxh.processing.models import Case, Outcome, Result, Stage
from ebhxh.processing.services import ProcessingError
from ebhxh.signatures.services import verify_document
from ebhxh.units.models import Employment, Unit

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ALREADY_EMPLOYED = "Người này đang có quá trình đóng tại đơn vị trong cùng thời gian."


def _refresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def _to_assigned(dossier: Dossier, officer: User) -> Case:
    case = Case.objects.get(dossier=dossier)
    services.accept(case, actor=officer)
    services.assign(_refresh(case), actor=officer, assignee=officer)
    return _refresh(case)


def _verified_notice(result: Result) -> tbts3.ResultNotice:
    from ebhxh.dossiers import blobs

    data = blobs.get_verified(result.notice_blob, result.notice_sha256)
    report, verified = verify_document(data, container=tbts3.SEAL_CONTAINER)
    assert report.valid, report.as_dict()
    assert verified is not None
    return tbts3.decode(verified.content)


def test_completing_issues_a_sealed_notice_with_the_registry_rows_and_documents(
    submit: Callable[..., Dossier], omni: User
) -> None:
    dossier = submit(rows=3, first=7000)
    case = _to_assigned(dossier, omni)
    services.complete(
        case, actor=omni, result="Đã ghi nhận.", documents=[("C12-TS 07-2026.pdf", PDF)]
    )
    case = _refresh(case)
    assert case.stage == Stage.RESULT
    result = Result.objects.get(case=case)
    assert result.outcome == Outcome.ACCEPTED and result.issued_by == omni
    notice = _verified_notice(result)
    assert notice.outcome is tbts3.Outcome.ACCEPTED and notice.refused_items == ()
    assert notice.dossier_number == dossier.number
    assert notice.tracking_id == str(dossier.tracking_id)
    assert [r.subject for r in notice.accepted_items] == [
        f"Nguyễn Văn Số {i}, mã số BHXH 79{i:08d}" for i in (7000, 7001, 7002)
    ]
    assert notice.accepted_items[0].description == "D02-TS dòng 1, phương án TM"
    assert notice.note == "Đã ghi nhận."
    # the document is bound by the hash of the exact bytes stored
    (document,) = notice.documents
    assert (document.name, document.media_type, document.size) == (
        "C12-TS 07-2026.pdf",
        "application/pdf",
        len(PDF),
    )
    assert document.sha256 == hashlib.sha256(PDF).hexdigest() == result.documents[0]["sha256"]
    assert Employment.objects.filter(unit=dossier.unit).count() == 3


def test_rows_skipped_for_accepted_conflicts_are_refused_with_the_conflict_message(
    submit: Callable[..., Dossier], omni: User
) -> None:
    from ebhxh.units import registry

    services.complete(_to_assigned(submit(rows=3, first=5000), omni), actor=omni)
    # 5001 and 5002 are employed already; 5003 and 5004 are new
    again = submit(rows=4, first=5001)
    case = _to_assigned(again, omni)
    seen = registry.plan(again)
    assert {c.code for c in seen.conflicts} == {"RGY-CONFLICT-ALREADY-EMPLOYED"}
    services.complete(
        case,
        actor=omni,
        registry_plan=seen.as_dict(),
        accept_conflicts={c.id for c in seen.conflicts},
    )
    result = Result.objects.get(case=case)
    assert result.outcome == Outcome.PARTLY_ACCEPTED
    notice = _verified_notice(result)
    assert notice.outcome is tbts3.Outcome.PARTLY_ACCEPTED
    assert [r.subject.split(",")[0] for r in notice.accepted_items] == [
        "Nguyễn Văn Số 5003",
        "Nguyễn Văn Số 5004",
    ]
    assert [(r.subject.split(",")[0], r.reason) for r in notice.refused_items] == [
        ("Nguyễn Văn Số 5001", ALREADY_EMPLOYED),
        ("Nguyễn Văn Số 5002", ALREADY_EMPLOYED),
    ]
    assert [r.stt for r in notice.refused_items] == [1, 2]


def test_a_refused_600_dossier_leaves_the_registry_alone(
    submit: Callable[..., Dossier], omni: User
) -> None:
    dossier = submit(rows=2, first=7100)
    case = _to_assigned(dossier, omni)
    with pytest.raises(ProcessingError) as exc:  # a refusal says why
        services.complete(case, actor=omni, outcome=Outcome.REFUSED)
    assert exc.value.code == "PRC-RESULT"
    services.complete(
        case,
        actor=omni,
        outcome=Outcome.REFUSED,
        refused_items=[
            {
                "subject": "Hồ sơ",
                "description": "Đăng ký tăng lao động",
                "reason": "Sai kỳ kê khai",
                "guidance": "Lập lại hồ sơ với kỳ 08/2026",
            }
        ],
    )
    notice = _verified_notice(Result.objects.get(case=case))
    assert notice.outcome is tbts3.Outcome.REFUSED and notice.accepted_items == ()
    assert notice.refused_items[0].guidance == "Lập lại hồ sơ với kỳ 08/2026"
    assert not Employment.objects.filter(unit=dossier.unit).exists()


def test_an_invalid_result_or_document_refuses_the_completion_and_nothing_moves(
    submit: Callable[..., Dossier], omni: User
) -> None:
    case = _to_assigned(submit(rows=2, first=7200), omni)
    refused = [{"subject": "Hồ sơ", "description": "Tăng lao động", "reason": "Trùng"}]
    attempts: list[tuple[dict[str, Any], str]] = [
        ({"outcome": "maybe"}, "PRC-RESULT"),
        ({"refused_items": [{"subject": "Hồ sơ", "description": "x"}]}, "PRC-RESULT"),
        ({"outcome": Outcome.ACCEPTED, "refused_items": refused}, "PRC-RESULT"),
        ({"documents": [("virus.pdf", b"MZ\x90\x00" + b"\x00" * 60)]}, "PRC-RESULT-DOCUMENT"),
        ({"documents": [("a.pdf", PDF), ("a.pdf", PDF)]}, "PRC-RESULT-DOCUMENT"),
        ({"documents": [("empty.pdf", b"")]}, "PRC-RESULT-DOCUMENT"),
    ]
    for kwargs, code in attempts:
        with pytest.raises(ProcessingError) as exc:
            services.complete(_refresh(case), actor=omni, **kwargs)
        assert exc.value.code == code, kwargs
    assert _refresh(case).stage == Stage.ASSIGNED
    assert not Result.objects.exists()
    assert not Employment.objects.exists()  # the registry update was rolled back too


def test_other_procedures_take_the_officers_items(
    submit: Callable[..., Dossier], omni: User
) -> None:
    # the intake opened a 600 case; drop its registry step by using another procedure code
    dossier = submit(rows=1, first=7300)
    Dossier.objects.filter(pk=dossier.pk).update(procedure_code="604")
    Case.objects.filter(dossier=dossier).update(procedure_code="604")
    case = _to_assigned(Dossier.objects.get(pk=dossier.pk), omni)
    services.complete(case, actor=omni, result="Đã cập nhật thông tin đơn vị.")
    notice = _verified_notice(Result.objects.get(case=case))
    assert notice.procedure_code == "604"
    assert [(r.subject, r.description) for r in notice.accepted_items] == [
        (f"Hồ sơ số {dossier.number}", "Đã cập nhật thông tin đơn vị.")
    ]
    assert not Employment.objects.exists()


# --- the unit gets it once returned ---------------------------------------------------------


@pytest.fixture
def completed(submit: Callable[..., Dossier], omni: User) -> Case:
    case = _to_assigned(submit(rows=2, first=7400), omni)
    services.complete(case, actor=omni, documents=[("ket-qua.pdf", PDF)])
    return _refresh(case)


@pytest.fixture
def auth(active_unit: Unit, unit_admin: User) -> dict[str, str]:
    _token, value = create_api_token(actor=unit_admin, unit=active_unit, name="Phần mềm lương")
    return {"HTTP_AUTHORIZATION": f"Bearer {value}"}


def test_the_unit_downloads_the_result_only_after_it_is_returned(
    completed: Case,
    omni: User,
    unit_admin: User,
    auth: dict[str, str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    dossier = Dossier.objects.get(pk=completed.dossier_id)
    base = f"/api/v1/dossiers/{dossier.tracking_id}"
    client = Client()
    web = Client()
    web.force_login(unit_admin)
    with pytest.raises(IntakeError) as exc:
        intake.result_xml(dossier)
    assert exc.value.code == "DOS-STATE"
    for suffix in ("/result.xml", "/result.pdf", "/result/ket-qua.pdf"):
        refused = client.get(base + suffix, **auth)
        assert refused.status_code == 409 and refused.json()["code"] == "DOS-STATE"
    status = client.get(base, **auth).json()
    assert status["result_xml_url"] is None and status["result_documents"] == []
    assert web.get(f"/don-vi/ho-so/{dossier.tracking_id}/ket-qua.xml").status_code == 404
    assert b'id="result-pdf"' not in web.get(f"/don-vi/ho-so/{dossier.tracking_id}/").content
    with zipfile.ZipFile(io.BytesIO(intake.evidence_bundle(dossier))) as z:
        assert "result/03-TB-TS.xml" not in z.namelist()

    with django_capture_on_commit_callbacks(execute=True):
        services.return_result(completed, actor=omni)
    dossier.refresh_from_db()
    result = Result.objects.get(case=completed)
    from ebhxh.dossiers import blobs

    sealed = blobs.get(result.notice_blob)
    status = client.get(base, **auth).json()
    assert status["result_xml_url"] == f"{base}/result.xml"
    assert status["result_pdf_url"] == f"{base}/result.pdf"
    assert status["result_documents"] == [
        {
            "name": "ket-qua.pdf",
            "media_type": "application/pdf",
            "sha256": hashlib.sha256(PDF).hexdigest(),
            "size": len(PDF),
            "url": f"{base}/result/ket-qua.pdf",
        }
    ]
    xml = client.get(status["result_xml_url"], **auth)
    assert xml.status_code == 200 and xml.content == sealed
    assert xml["Content-Type"] == "application/xml"
    pdf = client.get(status["result_pdf_url"], **auth)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    result.refresh_from_db()
    assert result.notice_pdf_blob and blobs.get(result.notice_pdf_blob) == pdf.content
    document = client.get(status["result_documents"][0]["url"], **auth)
    assert document.status_code == 200 and document.content == PDF
    assert document["Content-Type"] == "application/pdf"
    assert client.get(f"{base}/result/khac.pdf", **auth).status_code == 404

    page = web.get(f"/don-vi/ho-so/{dossier.tracking_id}/")
    assert b'id="result-pdf"' in page.content and b"ket-qua.pdf" in page.content
    assert web.get(f"/don-vi/ho-so/{dossier.tracking_id}/ket-qua.xml").content == sealed
    assert web.get(f"/don-vi/ho-so/{dossier.tracking_id}/ket-qua/ket-qua.pdf").content == PDF
    assert web.get(f"/don-vi/ho-so/{dossier.tracking_id}/ket-qua.pdf").content == pdf.content

    with zipfile.ZipFile(io.BytesIO(intake.evidence_bundle(dossier))) as z:
        assert z.read("result/03-TB-TS.xml") == sealed


def test_other_units_cannot_see_the_result(
    completed: Case, omni: User, unit_b: Unit, outsider: User
) -> None:
    services.return_result(completed, actor=omni)
    dossier = Dossier.objects.get(pk=completed.dossier_id)
    _token, value = create_api_token(actor=outsider, unit=unit_b, name="Phần mềm khác")
    other = {"HTTP_AUTHORIZATION": f"Bearer {value}"}
    base = f"/api/v1/dossiers/{dossier.tracking_id}"
    for suffix in ("/result.xml", "/result.pdf", "/result/ket-qua.pdf"):
        response = Client().get(base + suffix, **other)
        assert response.status_code == 404 and response.json()["code"] == "DOS-NOT-FOUND"
    web = Client()
    web.force_login(outsider)
    assert web.get(f"/don-vi/ho-so/{dossier.tracking_id}/ket-qua.xml").status_code == 404


def test_returning_the_result_emails_the_unit_with_the_notice(
    completed: Case, omni: User, django_capture_on_commit_callbacks: Any
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.return_result(completed, actor=omni)
    dossier = Dossier.objects.select_related("unit").get(pk=completed.dossier_id)
    (sent,) = mail.outbox
    assert dossier.unit.contact_email in sent.to
    sealed = Result.objects.get(case=completed)
    from ebhxh.dossiers import blobs

    slug = dossier.number.replace("/", "-")
    assert sent.attachments == [
        (f"03-TB-TS-{slug}.xml", blobs.get(sealed.notice_blob), "application/xml")
    ]
    assert f"/don-vi/ho-so/{dossier.tracking_id}/ket-qua.pdf" in sent.body
    assert f"/don-vi/ho-so/{dossier.tracking_id}/ket-qua/ket-qua.pdf" in sent.body
    assert "Chấp nhận" in sent.body
