"""The registration pages through Django's test client: public form, e-mail code, signing endpoints,
look-up, the agency's review, the unit's history, access rules and rate limits."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ebhxh.registrations import form01, services
from ebhxh.registrations.models import Registration
from ebhxh.registrations.tests.conftest import TAX_CODE, signer_of
from ebhxh.signatures import xmldsig
from tests.personas import verified_login

pytestmark = pytest.mark.django_db


def form_data(base_agency: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "unit_name": "Công ty TNHH Đăng Ký Mới",
        "tax_code": TAX_CODE,
        "unit_code": "",
        "unit_type": "private_enterprise",
        "managing_agency": str(base_agency.pk),
        "wage_region": "1",
        "registered_address": "12 Nguyễn Huệ, TP. Hồ Chí Minh",
        "head_name": "Trần Văn Giám Đốc",
        "contact_person": "Lê Thị Kế Toán",
        "email": "ketoan@dangkymoi.vn",
        "phone": "028 3822 0000",
        "procedures": ["600"],
        "delivery": "electronic",
        "uses_signature": "0",
        "commitment": "on",
        "attachment": SimpleUploadedFile("gcn.pdf", b"%PDF-1.4 test", "application/pdf"),
    }
    data.update(overrides)
    return data


def _code(mail: Any) -> str:
    found = re.search(r"\b(\d{6})\b", mail.body)
    assert found, mail.body
    return found[1]


def test_unsigned_registration_through_the_pages(
    client, base_agency, procedures, mailoutbox, django_capture_on_commit_callbacks
):
    page = client.get(reverse("registrations:register"))
    assert page.status_code == 200 and "01/ĐK-GĐ" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registrations:register"), form_data(base_agency))
    reg = Registration.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "registrations:code", args=[reg.reference]
    )
    page = client.get(response.url)
    assert "ke•" in page.content.decode() or "ke" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(response.url, {"code": _code(mailoutbox[-1])})
    assert response.status_code == 302
    done = client.get(response.url).content.decode()
    assert reg.reference in done and "đã nhận tờ khai" in done
    reg.refresh_from_db()
    assert reg.status == "submitted"


def test_form_errors_are_shown_in_vietnamese_and_nothing_is_stored(client, base_agency, procedures):
    bad = form_data(base_agency, tax_code="0312345675", attachment="")
    page = client.post(reverse("registrations:register"), bad).content.decode()
    assert "chữ số kiểm tra" in page
    assert not Registration.objects.exists()
    no_doc = form_data(base_agency, attachment="")
    page = client.post(reverse("registrations:register"), no_doc).content.decode()
    assert "phải đính kèm giấy chứng nhận" in page
    assert not Registration.objects.exists()


def test_a_draft_is_reachable_only_from_its_browser(client, base_agency, procedures):
    client.post(reverse("registrations:register"), form_data(base_agency))
    reg = Registration.objects.get()
    from django.test import Client

    other = Client()
    for name in ("code", "sign", "done", "document"):
        assert other.get(reverse(f"registrations:{name}", args=[reg.reference])).status_code == 404


def test_signing_endpoints(client, trusted, token_cert, base_agency, procedures):
    client.post(reverse("registrations:register"), form_data(base_agency, uses_signature="1"))
    reg = Registration.objects.get()
    sign_page = client.get(reverse("registrations:sign", args=[reg.reference])).content.decode()
    assert "ebhxh signer" in sign_page and 'data-container="Hoso/CKy_Dvi"' in sign_page
    url = reverse("registrations:certificate", args=[reg.reference])
    bad = client.post(url, "not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "REG-BAD-REQUEST"
    answer = client.post(
        url,
        json.dumps({"certificate": base64.b64encode(token_cert.cert_der).decode()}),
        content_type="application/json",
    )
    assert answer.status_code == 200
    xml = base64.b64decode(answer.json()["document"])
    signed = xmldsig.sign(xml, signer_of(token_cert, trusted), container=form01.CONTAINER)
    tampered = signed.replace(b"Tr\xe1\xba\xa7n", b"Tran")
    refused = client.post(
        reverse("registrations:signed", args=[reg.reference]),
        json.dumps({"signed": base64.b64encode(tampered).decode()}),
        content_type="application/json",
    )
    assert refused.status_code == 422 and refused.json()["code"] == "REG-SIGNATURE-INVALID"
    done = client.post(
        reverse("registrations:signed", args=[reg.reference]),
        json.dumps({"signed": base64.b64encode(signed).decode()}),
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["next"].endswith("/da-gui/")
    reg.refresh_from_db()
    assert reg.status == "submitted"


def test_signed_file_upload_without_javascript(
    client, trusted, token_cert, base_agency, procedures
):
    client.post(reverse("registrations:register"), form_data(base_agency, uses_signature="1"))
    reg = Registration.objects.get()
    unsigned = client.get(reverse("registrations:document", args=[reg.reference])).content
    signed = xmldsig.sign(unsigned, signer_of(token_cert, trusted), container=form01.CONTAINER)
    response = client.post(
        reverse("registrations:sign", args=[reg.reference]),
        {"signed": SimpleUploadedFile("signed.xml", signed, "application/xml")},
    )
    assert response.status_code == 302
    reg.refresh_from_db()
    assert reg.status == "submitted" and reg.verification["valid"]


def _submitted(base_agency: Any) -> Registration:
    reg = services.start(
        data={
            "unit_name": "Công ty TNHH Đăng Ký Mới",
            "tax_code": TAX_CODE,
            "unit_code": "",
            "unit_type": "private_enterprise",
            "registered_address": "12 Nguyễn Huệ",
            "head_name": "Trần Văn Giám Đốc",
            "contact_person": "Lê Thị Kế Toán",
            "email": "ketoan@dangkymoi.vn",
            "phone": "028 3822 0000",
            "managing_agency": base_agency,
            "wage_region": 1,
            "procedures": ["600"],
            "uses_signature": False,
        },
        attachment=("gcn.pdf", b"%PDF-1.4"),
    )
    Registration.objects.filter(pk=reg.pk).update(status="submitted")
    reg.refresh_from_db()
    return reg


def test_lookup_gives_one_answer_for_unknown_and_mismatched(client, base_agency):
    reg = _submitted(base_agency)
    url = reverse("registrations:lookup")
    ok = client.post(
        url, {"reference": reg.reference.lower(), "tax_code": TAX_CODE}
    ).content.decode()
    assert "Chờ cơ quan BHXH duyệt" in ok
    wrong_tax = client.post(url, {"reference": reg.reference, "tax_code": "0301234562"})
    unknown = client.post(url, {"reference": "DK-AAAAAAAA", "tax_code": TAX_CODE})
    message = "Không tìm thấy đăng ký với số tham chiếu và mã số thuế này."
    assert message in wrong_tax.content.decode() and message in unknown.content.decode()


def test_the_desk_reviews_and_approves(client, base_agency, desk_officer, other_officer):
    reg = _submitted(base_agency)
    verified_login(client, desk_officer)
    queue = client.get(reverse("registrations:agency_queue")).content.decode()
    assert reg.reference in queue
    detail_url = reverse("registrations:agency_detail", args=[reg.reference])
    page = client.get(detail_url).content.decode()
    assert "Mã số thuế đúng định dạng" in page and 'value="DN0001A"' in page
    response = client.post(detail_url, {"approve": "1", "unit_code": "DN0007A"})
    assert response.status_code == 302
    reg.refresh_from_db()
    assert reg.status == "approved" and reg.unit_code == "DN0007A"
    pdf = client.get(reverse("registrations:download", args=[reg.reference, "thong-bao.pdf"]))
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    client.logout()
    verified_login(client, other_officer)  # collection officer of another agency: not the desk
    assert client.get(detail_url).status_code == 403
    assert (
        client.get(reverse("registrations:download", args=[reg.reference, "to-khai"])).status_code
        == 404
    )


def test_a_desk_of_another_agency_does_not_see_the_registration(client, base_agency, other_agency):
    from ebhxh.accounts.models import Role, User
    from ebhxh.accounts.tests.factories import UserFactory

    reg = _submitted(base_agency)
    officer = UserFactory(
        username="motcua.khac", kind=User.Kind.AGENCY, agency=other_agency, roles=[Role.DESK]
    )
    client.force_login(officer)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=officer, name="t", confirmed=True)
    verified_login(client, officer)
    assert reg.reference not in client.get(reverse("registrations:agency_queue")).content.decode()
    detail = client.get(reverse("registrations:agency_detail", args=[reg.reference]))
    assert detail.status_code == 404


def test_refusal_needs_a_reason_on_the_page(client, base_agency, desk_officer):
    reg = _submitted(base_agency)
    verified_login(client, desk_officer)
    url = reverse("registrations:agency_detail", args=[reg.reference])
    page = client.post(url, {"refuse": "1", "reason": ""}).content.decode()
    assert "This field is required" in page or "Trường này là bắt buộc" in page
    reg.refresh_from_db()
    assert reg.status == "submitted"


def test_units_and_public_cannot_open_the_desk(client, unit_admin):
    assert client.get(reverse("registrations:agency_queue")).status_code == 302  # to login
    client.force_login(unit_admin)
    assert client.get(reverse("registrations:agency_queue")).status_code == 403


def test_the_unit_sees_its_history_and_starts_a_stop(
    client, base_agency, desk_officer, mailoutbox, django_capture_on_commit_callbacks
):
    reg = _submitted(base_agency)
    services.approve(reg, desk_officer, unit_code="DN0003A")
    reg.refresh_from_db()
    from ebhxh.accounts.models import User

    account = User.objects.get(unit=reg.unit, is_unit_account=True)
    client.force_login(account)
    page = client.get(reverse("registrations:unit")).content.decode()
    assert reg.reference in page and "Ngừng giao dịch điện tử" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("registrations:stop"), {"stop_date": "2099-01-01", "stop_reason": "Giải thể"}
        )
    stop = Registration.objects.get(kind="stop")
    assert response.url == reverse("registrations:code", args=[stop.reference])
    assert mailoutbox[-1].to == ["ketoan@dangkymoi.vn"]


def test_registration_is_rate_limited(client, base_agency, procedures, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "registration": {"ip": "2/h"}}
    url = reverse("registrations:register")
    for _ in range(2):
        client.post(url, form_data(base_agency, tax_code="bad"))
    blocked = client.post(url, form_data(base_agency))
    assert blocked.status_code == 429 and "Retry-After" in blocked
    assert not Registration.objects.exists()
