"""The back office pages (docs/processing.md "Back office"): the access matrix (URL × persona ×
expected status, the start of issue 7's), the queue, the dossier page, every action through its
form, messages both ways, attachments served by content, CSRF."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ebhxh.accounts.models import User
from ebhxh.dossiers.models import Dossier
from ebhxh.processing import services
from ebhxh.processing.models import Case, Message, Stage
from ebhxh.processing.views import allowed_actions, default_tab
from ebhxh.processing.workflow import Action
from tests.personas import verified_login

pytestmark = pytest.mark.django_db


def _png(width: int = 1, height: int = 1) -> bytes:
    """A real PNG (a blue band on white), so the content check and the browser both accept it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(
        b"\x00" + (b"\x0b\x4f\x9c" if height // 3 <= y < 2 * height // 3 else b"\xff" * 3) * width
        for y in range(height)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ATTACHMENTS = (("anh-chup.png", _png()), ("hop-dong.pdf", PDF))


@pytest.fixture
def dossier_case(submit: Callable[..., Dossier]) -> Case:
    """A received 3-row dossier of unit A with a PNG and a PDF attached, its case at the desk."""
    dossier = submit(rows=3, attachments=ATTACHMENTS)
    return Case.objects.get(dossier=dossier)


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        verified_login(client, user)
    return client


def _refresh(case: Case) -> Case:
    return Case.objects.select_related("dossier").get(pk=case.pk)


# --- the access matrix ---------------------------------------------------------------------------

PERSONAS = ("anonymous", "desk", "thu", "supervisor", "other_officer", "other_desk", "unit")
OFFICERS_200 = {"desk": 200, "thu": 200, "supervisor": 200, "other_officer": 200, "other_desk": 200}
SCOPED_200 = {"desk": 200, "thu": 200, "supervisor": 200, "other_officer": 404, "other_desk": 404}

# (name, method, url(case), expected status per persona; anonymous is always sent to log in
# and a unit member never gets an officer page)
MATRIX: list[tuple[str, str, Callable[[Case], str], dict[str, int]]] = [
    ("queue", "get", lambda c: reverse("processing:queue"), OFFICERS_200),
    ("search", "get", lambda c: reverse("processing:queue") + f"?q={c.number}", OFFICERS_200),
    ("near_due", "get", lambda c: reverse("processing:near_due"), OFFICERS_200),
    ("overdue", "get", lambda c: reverse("processing:overdue"), OFFICERS_200),
    ("detail", "get", lambda c: reverse("processing:detail", args=[c.pk]), SCOPED_200),
    ("png", "get", lambda c: reverse("processing:attachment", args=[c.pk, 1]), SCOPED_200),
    ("pdf", "get", lambda c: reverse("processing:attachment", args=[c.pk, 2]), SCOPED_200),
    (
        "accept",
        "post",
        lambda c: reverse("processing:act", args=[c.pk, "tiep-nhan"]),
        # the desk only; other roles of the agency get the coded refusal (PRC-ROLE, 403)
        {"desk": 302, "thu": 403, "supervisor": 403, "other_officer": 404, "other_desk": 404},
    ),
    (
        "supplement",
        "post",
        lambda c: reverse("processing:act", args=[c.pk, "yeu-cau-bo-sung"]),
        {"desk": 302, "thu": 403, "supervisor": 403, "other_officer": 404, "other_desk": 404},
    ),
    (
        "assign_at_desk",
        "post",
        lambda c: reverse("processing:act", args=[c.pk, "phan-cong"]),
        # not at this stage: the form is checked first (no such officer: 400), then the table
        {"desk": 400, "thu": 400, "supervisor": 400, "other_officer": 404, "other_desk": 404},
    ),
    (
        "return_at_desk",
        "post",
        lambda c: reverse("processing:act", args=[c.pk, "tra-ket-qua"]),
        {"desk": 409, "thu": 409, "supervisor": 409, "other_officer": 404, "other_desk": 404},
    ),
    (
        "unknown_action",
        "post",
        lambda c: reverse("processing:act", args=[c.pk, "xoa"]),
        {"desk": 404, "thu": 404, "supervisor": 404, "other_officer": 404, "other_desk": 404},
    ),
    (
        "message",
        "post",
        lambda c: reverse("processing:message", args=[c.pk]),
        {"desk": 302, "thu": 302, "supervisor": 302, "other_officer": 404, "other_desk": 404},
    ),
    ("detail_get_only", "get", lambda c: reverse("processing:message", args=[c.pk]), {}),
]

POSTS = {
    "accept": {"department": "collection", "note": ""},
    "supplement": {
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-subject": "D02-TS dòng 2",
        "items-0-issue": "Thiếu số định danh",
        "items-0-guidance": "Bổ sung số định danh cá nhân",
    },
    "assign_at_desk": {"assignee": "999999"},
    "message": {"body": "Đề nghị đơn vị kiểm tra lại mức lương dòng 2."},
}


@pytest.fixture
def personas(
    desk_officer: User,
    thu_officer: User,
    supervisor: User,
    other_officer: User,
    other_desk: User,
    unit_admin: User,
) -> dict[str, User | None]:
    return {
        "anonymous": None,
        "desk": desk_officer,
        "thu": thu_officer,
        "supervisor": supervisor,
        "other_officer": other_officer,
        "other_desk": other_desk,
        "unit": unit_admin,
    }


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "method", "url", "expected"), MATRIX, ids=[m[0] for m in MATRIX])
def test_it_enforces_the_access_matrix(
    name: str,
    method: str,
    url: Callable[[Case], str],
    expected: dict[str, int],
    persona: str,
    personas: dict[str, User | None],
    dossier_case: Case,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = _client(personas[persona])
    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(client, method)(url(dossier_case), POSTS.get(name, {}))
    if name == "detail_get_only":  # POST-only endpoints refuse GET for everyone logged in
        want = 302 if persona == "anonymous" else 405 if persona != "unit" else 405
    elif persona == "anonymous":
        want = 302
    elif persona == "unit":
        want = 403
    else:
        want = expected[persona]
    assert response.status_code == want, (name, persona, response.content[:300])
    if want == 302 and persona == "anonymous":
        assert response["Location"].startswith(reverse("accounts:login"))


def test_it_refuses_an_unverified_officer(dossier_case: Case, desk_officer: User) -> None:
    client = Client()
    client.force_login(desk_officer)  # password only, no second factor yet
    response = client.get(reverse("processing:detail", args=[dossier_case.pk]))
    assert response.status_code == 302 and "/accounts/otp" in response["Location"]


def test_it_requires_csrf_on_every_post(dossier_case: Case, desk_officer: User) -> None:
    client = Client(enforce_csrf_checks=True)
    verified_login(client, desk_officer)
    for url in (
        reverse("processing:act", args=[dossier_case.pk, "tiep-nhan"]),
        reverse("processing:message", args=[dossier_case.pk]),
    ):
        assert client.post(url, {"department": "collection", "body": "x"}).status_code == 403
    assert _refresh(dossier_case).stage == Stage.DESK


# --- the queue ------------------------------------------------------------------------------------


def test_it_opens_the_queue_of_the_officers_role(
    dossier_case: Case, desk_officer: User, thu_officer: User, supervisor: User
) -> None:
    assert default_tab(desk_officer) == "tiep-nhan"
    assert default_tab(thu_officer) == "collection"
    assert default_tab(supervisor) == "tat-ca"
    page = _client(desk_officer).get(reverse("processing:queue")).content.decode()
    assert dossier_case.number in page and "Còn " in page  # remaining time on the row
    page = _client(thu_officer).get(reverse("processing:queue")).content.decode()
    assert dossier_case.number not in page  # still at the desk, not in Thu's queue
    page = _client(supervisor).get(reverse("processing:queue")).content.decode()
    assert dossier_case.number in page


def test_it_filters_and_searches(dossier_case: Case, desk_officer: User) -> None:
    client = _client(desk_officer)
    url = reverse("processing:queue")
    unit = dossier_case.unit
    for text in (dossier_case.number, dossier_case.number[:10], unit.code, unit.tax_code):
        assert dossier_case.number in client.get(url, {"q": text}).content.decode(), text
    assert dossier_case.number not in client.get(url, {"q": "KHONGCO"}).content.decode()
    hit = client.get(url, {"tab": "tat-ca", "procedure": "600", "unit": unit.code})
    assert dossier_case.number in hit.content.decode()
    miss = client.get(url, {"tab": "tat-ca", "procedure": "604"})
    assert dossier_case.number not in miss.content.decode()
    miss = client.get(url, {"tab": "tat-ca", "overdue": "1"})
    assert dossier_case.number not in miss.content.decode()


def test_it_lists_overdue_and_near_due_dossiers_in_colour(
    new_case: Callable[[], Case], desk_officer: User
) -> None:
    late, soon = new_case(), new_case()
    today = timezone.localdate()
    Case.objects.filter(pk=late.pk).update(due_date=today - dt.timedelta(days=10))
    Case.objects.filter(pk=soon.pk).update(due_date=today)
    client = _client(desk_officer)
    overdue = client.get(reverse("processing:overdue")).content.decode()
    assert late.number in overdue and soon.number not in overdue
    assert 'class="left overdue">Quá hạn' in overdue
    near = client.get(reverse("processing:near_due")).content.decode()
    assert soon.number in near and late.number not in near
    assert 'class="left near">Còn 0 ngày' in near
    queue = client.get(reverse("processing:queue")).content.decode()
    assert '<tr class="overdue">' in queue and '<tr class="near">' in queue


# --- the dossier page ------------------------------------------------------------------------------


def test_it_shows_the_forms_as_tables_never_xml(dossier_case: Case, desk_officer: User) -> None:
    page = _client(desk_officer).get(reverse("processing:detail", args=[dossier_case.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="form-D02-TS"' in html and "Họ và tên" in html
    assert "&lt;?xml" not in html and "<D02-TS" not in html and "NguoiLaoDong" not in html
    assert "anh-chup.png" in html and "hop-dong.pdf" in html
    assert '<img class="preview"' in html and '<iframe class="preview"' in html
    # the signature and its certificate
    assert 'id="signatures"' in html and "Số hiệu chứng thư" in html
    assert dossier_case.unit.name in html
    assert 'id="timeline"' in html and "Tiếp nhận" in html


def test_it_serves_attachments_by_their_content(dossier_case: Case, desk_officer: User) -> None:
    client = _client(desk_officer)
    png = client.get(reverse("processing:attachment", args=[dossier_case.pk, 1]))
    assert png["Content-Type"] == "image/png" and png["Content-Disposition"].startswith("inline")
    assert png["X-Content-Type-Options"] == "nosniff"
    assert png.content == ATTACHMENTS[0][1]
    pdf = client.get(reverse("processing:attachment", args=[dossier_case.pk, 2]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["X-Frame-Options"] == "SAMEORIGIN"  # shown in the page's <iframe>
    download = client.get(reverse("processing:attachment", args=[dossier_case.pk, 2]), {"tai": 1})
    assert download["Content-Disposition"].startswith("attachment")
    missing = client.get(reverse("processing:attachment", args=[dossier_case.pk, 9]))
    assert missing.status_code == 404


def test_buttons_follow_the_workflow_table(
    dossier_case: Case, desk_officer: User, thu_officer: User, thu_officer2: User
) -> None:
    assert allowed_actions(desk_officer, dossier_case) == [
        Action.ACCEPT,
        Action.REQUEST_SUPPLEMENT,
    ]
    assert allowed_actions(thu_officer, dossier_case) == []
    html = _client(thu_officer).get(reverse("processing:detail", args=[dossier_case.pk]))
    assert 'id="no-actions"' in html.content.decode()
    services.accept(dossier_case, actor=desk_officer)
    services.assign(_refresh(dossier_case), actor=thu_officer, assignee=thu_officer)
    case = _refresh(dossier_case)
    assert allowed_actions(thu_officer, case) == [
        Action.REASSIGN,
        Action.FORWARD,
        Action.REQUEST_SUPPLEMENT,
        Action.COMPLETE,
    ]
    assert allowed_actions(thu_officer2, case) == [Action.REASSIGN]  # not the assignee
    html = _client(thu_officer2).get(reverse("processing:detail", args=[case.pk])).content
    assert b'id="action-reassign"' in html and b'id="action-complete"' not in html


def _post(client: Client, case: Case, slug: str, data: dict[str, Any], capture: Any) -> Any:
    with capture(execute=True):
        return client.post(reverse("processing:act", args=[case.pk, slug]), data)


def test_the_main_path_through_the_forms(
    dossier_case: Case,
    desk_officer: User,
    thu_officer: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    desk, thu = _client(desk_officer), _client(thu_officer)
    capture = django_capture_on_commit_callbacks
    r = _post(desk, dossier_case, "tiep-nhan", {"department": "collection"}, capture)
    assert r.status_code == 302 and _refresh(dossier_case).stage == Stage.ROUTED
    page = thu.get(reverse("processing:queue")).content.decode()
    assert dossier_case.number in page  # now in Thu's queue
    r = _post(thu, dossier_case, "phan-cong", {"assignee": thu_officer.pk}, capture)
    assert r.status_code == 302 and _refresh(dossier_case).assigned_to == thu_officer
    detail = thu.get(reverse("processing:detail", args=[dossier_case.pk])).content.decode()
    assert 'id="registry-plan"' in detail and 'id="no-conflicts"' in detail
    fingerprint = detail.split('name="fingerprint" value="')[1].split('"')[0]
    r = _post(
        thu,
        dossier_case,
        "hoan-thanh",
        {"fingerprint": fingerprint, "result": "Đã cập nhật 3 lao động."},
        capture,
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    assert _refresh(dossier_case).stage == Stage.RESULT
    r = _post(desk, dossier_case, "tra-ket-qua", {}, capture)
    assert r.status_code == 302 and _refresh(dossier_case).stage == Stage.RETURNED
    r = _post(desk, dossier_case, "ket-thuc", {}, capture)
    assert r.status_code == 302 and _refresh(dossier_case).stage == Stage.CLOSED
    page = desk.get(reverse("processing:detail", args=[dossier_case.pk])).content.decode()
    for title in ("Chuyển phòng giải quyết", "Phân công", "Hoàn thành giải quyết", "Trả kết quả"):
        assert title in page


def test_a_refusal_shows_the_coded_message_in_the_pages_language(
    dossier_case: Case, thu_officer: User
) -> None:
    client = _client(thu_officer)
    url = reverse("processing:act", args=[dossier_case.pk, "tiep-nhan"])
    vi = client.post(url, {"department": "collection"})
    assert vi.status_code == 403
    assert "Vai trò của bạn không được thực hiện thao tác này. [PRC-ROLE]" in vi.content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = client.post(url, {"department": "collection"})
    assert "Your role does not allow this action. [PRC-ROLE]" in en.content.decode()


def test_a_supplement_request_is_itemised(
    dossier_case: Case, desk_officer: User, django_capture_on_commit_callbacks: Any
) -> None:
    client = _client(desk_officer)
    no_guidance = {
        "items-TOTAL_FORMS": "3",
        "items-INITIAL_FORMS": "0",
        "items-0-subject": "D02-TS dòng 2",
        "items-0-issue": "Thiếu số định danh",
    }
    r = _post(
        client, dossier_case, "yeu-cau-bo-sung", no_guidance, django_capture_on_commit_callbacks
    )
    assert r.status_code == 422 and "[PRC-GUIDANCE]" in r.content.decode()
    assert 'value="Thiếu số định danh"' in r.content.decode()  # what was typed is kept
    r = _post(
        client,
        dossier_case,
        "yeu-cau-bo-sung",
        no_guidance | {"items-0-guidance": "Bổ sung số định danh", "items-1-guidance": "Ký lại"},
        django_capture_on_commit_callbacks,
    )
    assert r.status_code == 302
    case = _refresh(dossier_case)
    assert case.stage == Stage.SUPPLEMENT
    assert [i["guidance"] for i in case.supplement_requests.get().items] == [
        "Bổ sung số định danh",
        "Ký lại",
    ]


def test_completing_with_conflicts_needs_them_accepted(
    submit: Callable[..., Dossier],
    omni: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def to_assigned(dossier: Dossier) -> Case:
        case = Case.objects.get(dossier=dossier)
        services.accept(case, actor=omni)
        services.assign(_refresh(case), actor=omni, assignee=omni)
        return _refresh(case)

    first = to_assigned(submit(rows=2, first=6000))
    services.complete(first, actor=omni)
    signed_earlier = dt.datetime(2026, 7, 6, 2, 0, tzinfo=dt.UTC)
    case = to_assigned(submit(rows=2, first=6000, signing_time=signed_earlier))
    client = _client(omni)
    page = client.get(reverse("processing:detail", args=[case.pk])).content.decode()
    assert "RGY-CONFLICT-ALREADY-EMPLOYED" in page and 'name="accept"' in page
    fingerprint = page.split('name="fingerprint" value="')[1].split('"')[0]
    ids = [p.split('"')[0] for p in page.split('name="accept" value="')[1:]]
    assert len(ids) == 2
    capture = django_capture_on_commit_callbacks
    refused = _post(client, case, "hoan-thanh", {"fingerprint": fingerprint}, capture)
    assert refused.status_code == 409
    text = refused.content.decode()
    assert "[PRC-REGISTRY]" in text and "[RGY-UNRESOLVED]" in text
    stale = _post(client, case, "hoan-thanh", {"fingerprint": "0" * 64, "accept": ids}, capture)
    assert stale.status_code == 409 and "[RGY-PLAN-STALE]" in stale.content.decode()
    done = _post(client, case, "hoan-thanh", {"fingerprint": fingerprint, "accept": ids}, capture)
    assert done.status_code == 302 and _refresh(case).stage == Stage.RESULT


# --- messages ----------------------------------------------------------------------------------------


def test_messages_go_both_ways_with_email(
    dossier_case: Case,
    desk_officer: User,
    unit_admin: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    desk_officer.email = "motcua@bhxh.test"
    desk_officer.save(update_fields=["email"])
    officer, unit = _client(desk_officer), _client(unit_admin)
    dossier = dossier_case.dossier
    unit_url = reverse("dossiers:message", args=[dossier.tracking_id])
    with django_capture_on_commit_callbacks(execute=True):
        r = unit.post(unit_url, {"body": "Xin hỏi khi nào có kết quả?"})
    assert r.status_code == 302
    assert any("motcua@bhxh.test" in m.to for m in mail.outbox)
    page = officer.get(reverse("processing:detail", args=[dossier_case.pk])).content.decode()
    assert "Xin hỏi khi nào có kết quả?" in page
    with django_capture_on_commit_callbacks(execute=True):
        r = officer.post(
            reverse("processing:message", args=[dossier_case.pk]),
            {"body": "Dự kiến trả kết quả đúng hẹn."},
        )
    assert r.status_code == 302
    page = unit.get(reverse("dossiers:detail", args=[dossier.tracking_id])).content.decode()
    assert "Dự kiến trả kết quả đúng hẹn." in page and "Xin hỏi khi nào có kết quả?" in page
    assert 'id="processing-timeline"' in page
    assert Message.objects.filter(case=dossier_case).count() == 2
    empty = officer.post(reverse("processing:message", args=[dossier_case.pk]), {"body": " "})
    assert empty.status_code == 422 and "[PRC-MESSAGE]" in empty.content.decode()


def test_a_unit_cannot_message_another_units_dossier(dossier_case: Case, outsider: User) -> None:
    url = reverse("dossiers:message", args=[dossier_case.dossier.tracking_id])
    assert _client(outsider).post(url, {"body": "x"}).status_code == 404
    assert not Message.objects.exists()


def test_the_officer_records_refused_items_and_result_documents(
    dossier_case: Case,
    desk_officer: User,
    thu_officer: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    capture = django_capture_on_commit_callbacks
    desk, thu = _client(desk_officer), _client(thu_officer)
    _post(desk, dossier_case, "tiep-nhan", {"department": "collection"}, capture)
    _post(thu, dossier_case, "phan-cong", {"assignee": thu_officer.pk}, capture)
    detail = thu.get(reverse("processing:detail", args=[dossier_case.pk])).content.decode()
    assert 'enctype="multipart/form-data"' in detail
    fingerprint = detail.split('name="fingerprint" value="')[1].split('"')[0]
    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    bad_line = _post(
        thu,
        dossier_case,
        "hoan-thanh",
        {"fingerprint": fingerprint, "refused_lines": "không có dấu gạch"},
        capture,
    )
    assert bad_line.status_code != 302 and _refresh(dossier_case).stage == Stage.ASSIGNED
    done = _post(
        thu,
        dossier_case,
        "hoan-thanh",
        {
            "fingerprint": fingerprint,
            "outcome": "partly_accepted",
            "refused_lines": "Nguyễn Văn Số 2 | Sai ngày sinh so với CCCD",
            "documents": [SimpleUploadedFile("quyet-dinh.pdf", pdf, "application/pdf")],
        },
        capture,
    )
    assert done.status_code == 302, done.content.decode()[:2000]
    result = _refresh(dossier_case).result
    assert result.outcome == "partly_accepted"
    assert [i["reason"] for i in result.refused_items][-1] == "Sai ngày sinh so với CCCD"
    assert [d["name"] for d in result.documents] == ["quyet-dinh.pdf"]
