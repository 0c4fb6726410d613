"""The registration flow through its service functions: both paths, the agency's decision, changes,
stops, the TS24 link, expiry warnings. E-mails go through the real notify pipeline (on commit,
Celery eager) into Django's test outbox."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone
from lxml import etree
from pypdf import PdfReader

from ebhxh.accounts.models import Role, User
from ebhxh.audit.models import AuditEvent
from ebhxh.notify.models import OneTimeCode
from ebhxh.registrations import form01, services
from ebhxh.registrations.models import Registration
from ebhxh.registrations.services import RegistrationError
from ebhxh.registrations.tests.conftest import TAX_CODE, read, signer_of
from ebhxh.signatures import xmldsig
from ebhxh.signatures.models import RegisteredCertificate
from ebhxh.units.models import Unit

pytestmark = pytest.mark.django_db

ATTACHMENT = ("giay-phep.pdf", b"%PDF-1.4 giay chung nhan dang ky doanh nghiep")


def _code_from(mail: Any) -> str:
    body = mail.body
    digits = [token for token in body.split() if token.isdigit() and len(token) == 6]
    assert digits, body
    return digits[0]


def signed_registration(declaration, token_cert, pki, *, attachment=ATTACHMENT):
    reg = services.start(data=declaration, attachment=attachment)
    xml = services.choose_certificate(reg, token_cert.cert_der)
    signed = xmldsig.sign(xml, signer_of(token_cert, pki), container=form01.CONTAINER)
    return services.submit_signed(reg, signed)


def test_signed_first_registration_is_approved_with_account_notice_and_emails(
    trusted, token_cert, declaration, desk_officer, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reg = signed_registration(declaration, token_cert, trusted)
    assert reg.status == Registration.Status.SUBMITTED
    assert reg.kind == Registration.Kind.FIRST
    assert reg.verification["valid"] is True
    assert reg.certificate_serial and TAX_CODE in reg.certificate_subject
    assert [m.subject for m in mailoutbox][0].startswith("Đã nhận tờ khai đăng ký")
    # The stored document is the signed one, and it carries the attachment under the signature.
    stored = services.document_bytes(reg)
    root = etree.fromstring(stored)
    assert root.find("CKy_Dvi/{http://www.w3.org/2000/09/xmldsig#}Signature") is not None
    assert root.findtext("NoiDung/ToKhais/FileToKhai/TenFile") == "giay-phep.pdf"

    with django_capture_on_commit_callbacks(execute=True):
        services.approve(reg, desk_officer, unit_code="DN0001A")
    reg.refresh_from_db()
    unit = Unit.objects.get(tax_code=TAX_CODE)
    assert (reg.status, reg.unit, unit.code, unit.etx_status) == (
        "approved",
        unit,
        "DN0001A",
        "active",
    )
    account = User.objects.get(unit=unit, is_unit_account=True)
    assert account.username == "DN0001A" and not account.has_usable_password()
    assert account.has_role(Role.UNIT_ADMIN)
    assert RegisteredCertificate.objects.filter(unit=unit, status="active").count() == 1

    # The sealed notice verifies; the PDF is the Vietnamese notice.
    notice = read(reg.notice_xml)
    from ebhxh.notices import tbgd

    verified = xmldsig.verify(notice, container=tbgd.CONTAINER)
    assert verified.root.findtext("XACNHAN_GDICH/TTGDICH/MA_KQUA") == "1"
    text = PdfReader(io.BytesIO(read(reg.notice_pdf))).pages[0].extract_text()
    assert "Công ty TNHH Đăng Ký Mới" in text and "DN0001A" in text

    subjects = [m.subject for m in mailoutbox]
    assert any(s.startswith("Xác nhận đơn vị giao dịch BHXH điện tử") for s in subjects)
    approved = next(m for m in mailoutbox if m.subject.startswith("Xác nhận đơn vị"))
    assert {name for name, _c, _t in approved.attachments} == {
        f"01-TB-GD-{reg.reference}.pdf",
        f"01-TB-GD-{reg.reference}.xml",
    }
    link_mail = mailoutbox[-1]
    assert link_mail.to == ["ketoan@dangkymoi.vn"]
    assert "/accounts/" in link_mail.body and "mật khẩu" in link_mail.body
    assert "DN0001A" in link_mail.body
    tags = list(AuditEvent.objects.filter(subject_id=str(reg.pk)).values_list("tag", flat=True))
    assert {"registration:start", "registration:submit", "registration:approve"} <= set(tags)


def test_unsigned_registration_needs_the_code_from_the_email(
    declaration, mailoutbox, django_capture_on_commit_callbacks
):
    declaration["uses_signature"] = False
    reg = services.start(data=declaration, attachment=ATTACHMENT)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_code(reg)
    code = _code_from(mailoutbox[-1])
    assert not OneTimeCode.objects.filter(code_hash__contains=code).exists()
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(RegistrationError) as bad:
        services.submit_with_code(reg, wrong)
    assert bad.value.code == "REG-CODE-INVALID"
    reg.refresh_from_db()
    assert reg.status == Registration.Status.DRAFT
    services.submit_with_code(reg, code)
    reg.refresh_from_db()
    assert reg.status == Registration.Status.SUBMITTED and reg.email_verified_at
    assert reg.certificate_der is None
    # A code works once.
    with pytest.raises(RegistrationError):
        services.submit_with_code(reg, code)


def test_a_signature_over_another_content_is_refused(trusted, token_cert, declaration):
    reg = services.start(data=declaration, attachment=ATTACHMENT)
    xml = services.choose_certificate(reg, token_cert.cert_der)
    tampered = xml.replace("Trần Văn Giám Đốc".encode(), "Người Khác".encode())
    signed = xmldsig.sign(tampered, signer_of(token_cert, trusted), container=form01.CONTAINER)
    with pytest.raises(RegistrationError) as exc:
        services.submit_signed(reg, signed)
    assert exc.value.code == "REG-CONTENT-MISMATCH"
    reg.refresh_from_db()
    assert reg.status == Registration.Status.DRAFT


def test_another_certificate_than_the_chosen_one_is_refused(trusted, token_cert, declaration):
    other = trusted.issue("Công ty TNHH Đăng Ký Mới", tax_code=TAX_CODE)
    reg = services.start(data=declaration, attachment=ATTACHMENT)
    xml = services.choose_certificate(reg, token_cert.cert_der)
    signed = xmldsig.sign(xml, signer_of(other, trusted), container=form01.CONTAINER)
    with pytest.raises(RegistrationError) as exc:
        services.submit_signed(reg, signed)
    assert exc.value.code == "REG-CERT-MISMATCH"


def test_an_untrusted_certificate_is_refused(pki, token_cert, declaration):
    reg = services.start(data=declaration, attachment=ATTACHMENT)  # no trusted root in this test
    xml = services.choose_certificate(reg, token_cert.cert_der)
    signed = xmldsig.sign(xml, signer_of(token_cert, pki), container=form01.CONTAINER)
    with pytest.raises(RegistrationError) as exc:
        services.submit_signed(reg, signed)
    assert exc.value.code == "REG-SIGNATURE-INVALID" and "CERT-UNTRUSTED" in exc.value.message_en
    reg.refresh_from_db()
    assert reg.status == Registration.Status.DRAFT


def test_an_expired_certificate_is_refused_before_signing(trusted, declaration):
    old = trusted.issue(
        "Công ty TNHH Đăng Ký Mới",
        tax_code=TAX_CODE,
        not_before=timezone.now() - dt.timedelta(days=400),
        not_after=timezone.now() - dt.timedelta(days=1),
    )
    reg = services.start(data=declaration, attachment=ATTACHMENT)
    with pytest.raises(RegistrationError) as exc:
        services.choose_certificate(reg, old.cert_der)
    assert exc.value.code == "REG-CERT-INVALID" and "CERT-EXPIRED" in exc.value.message_en


def test_a_certificate_of_another_tax_code_is_refused(trusted, declaration):
    stranger = trusted.issue("Công ty Khác", tax_code="0301234562")
    reg = services.start(data=declaration, attachment=ATTACHMENT)
    with pytest.raises(RegistrationError) as exc:
        services.choose_certificate(reg, stranger.cert_der)
    assert exc.value.code == "REG-CERT-TAX-CODE"


def test_upload_without_choosing_takes_the_certificate_from_the_signature(
    trusted, token_cert, declaration
):
    reg = services.start(data=declaration, attachment=ATTACHMENT)
    unsigned = services.document_bytes(reg)
    signed = xmldsig.sign(unsigned, signer_of(token_cert, trusted), container=form01.CONTAINER)
    reg = services.submit_signed(reg, signed)
    assert reg.status == "submitted" and reg.certificate_serial


def test_first_registration_needs_the_business_document(declaration):
    with pytest.raises(RegistrationError) as exc:
        services.start(data=declaration)
    assert exc.value.code == "REG-ATTACHMENT-REQUIRED"
    assert not Registration.objects.exists()


def test_refusal_needs_a_reason_and_sends_a_notice(
    trusted, token_cert, declaration, desk_officer, mailoutbox, django_capture_on_commit_callbacks
):
    reg = signed_registration(declaration, token_cert, trusted)
    with pytest.raises(RegistrationError):
        services.refuse(reg, desk_officer, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        services.refuse(reg, desk_officer, reason="Giấy chứng nhận không rõ nét")
    reg.refresh_from_db()
    assert reg.status == "refused" and not Unit.objects.filter(tax_code=TAX_CODE).exists()
    from ebhxh.notices import tbgd

    verified = xmldsig.verify(read(reg.notice_xml), container=tbgd.CONTAINER)
    assert verified.root.findtext("XACNHAN_GDICH/TTGDICH/MA_KQUA") == "2"
    assert (
        verified.root.findtext("XACNHAN_GDICH/TTGDICH/MOTA_LOI") == "Giấy chứng nhận không rõ nét"
    )
    assert "Giấy chứng nhận không rõ nét" in mailoutbox[-1].body
    with pytest.raises(RegistrationError) as again:
        services.approve(reg, desk_officer)
    assert again.value.code == "REG-STATE"


def test_only_the_managing_agency_decides(trusted, token_cert, declaration, other_officer):
    reg = signed_registration(declaration, token_cert, trusted)
    with pytest.raises(RegistrationError) as exc:
        services.approve(reg, other_officer)
    assert exc.value.code == "REG-AGENCY"


def test_reregistration_of_a_ts24_unit_links_the_legacy_account(
    legacy_account, declaration, desk_officer
):
    declaration.update(tax_code=legacy_account.tax_code, unit_code="TS0024A", uses_signature=False)
    assert services.legacy_not_reregistered().count() == 1
    reg = services.start(data=declaration)
    assert reg.kind == Registration.Kind.REREGISTRATION and reg.legacy_account == legacy_account
    reg.status, reg.email_verified_at = "submitted", timezone.now()
    reg.save()
    services.approve(reg, desk_officer)
    assert Unit.objects.get(code="TS0024A").etx_status == "active"
    assert services.legacy_not_reregistered().count() == 0


def _approved_unit(trusted, token_cert, declaration, desk_officer):
    reg = signed_registration(declaration, token_cert, trusted)
    return services.approve(reg, desk_officer, unit_code="DN0001A")


def test_a_change_with_a_new_certificate_is_a_new_version(
    trusted, token_cert, declaration, desk_officer
):
    first = _approved_unit(trusted, token_cert, declaration, desk_officer)
    unit = first.unit
    renewed = trusted.issue("Công ty TNHH Đăng Ký Mới", tax_code=TAX_CODE)
    change = services.start(
        data={"email": "moi@dangkymoi.vn", "uses_signature": True}, unit=unit, kind="change"
    )
    assert (change.kind, change.version, change.previous) == ("change", 2, first)
    xml = services.choose_certificate(change, renewed.cert_der)
    services.submit_signed(
        change, xmldsig.sign(xml, signer_of(renewed, trusted), container=form01.CONTAINER)
    )
    services.approve(change, desk_officer)
    change.refresh_from_db()
    unit.refresh_from_db()
    assert unit.contact_email == "moi@dangkymoi.vn"
    statuses = dict(RegisteredCertificate.objects.filter(unit=unit).values_list("serial", "status"))
    assert statuses == {first.certificate_serial: "withdrawn", change.certificate_serial: "active"}
    assert [r.version for r in services.history(unit)] == [2, 1]
    # The unit account's e-mail follows the registration.
    assert User.objects.get(unit=unit, is_unit_account=True).email == "moi@dangkymoi.vn"


def test_one_open_change_at_a_time(trusted, token_cert, declaration, desk_officer):
    unit = _approved_unit(trusted, token_cert, declaration, desk_officer).unit
    first = services.start(data={"phone": "028 1111 2222", "uses_signature": False}, unit=unit)
    first.status = "submitted"
    first.save()
    with pytest.raises(RegistrationError) as exc:
        services.start(data={"phone": "028 3333 4444", "uses_signature": False}, unit=unit)
    assert exc.value.code == "REG-OPEN-CHANGE"


def test_a_change_without_signature_sends_the_code_to_the_registered_address(
    trusted, token_cert, declaration, desk_officer, mailoutbox, django_capture_on_commit_callbacks
):
    unit = _approved_unit(trusted, token_cert, declaration, desk_officer).unit
    change = services.start(
        data={"email": "ke-gian@example.com", "uses_signature": False}, unit=unit
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.send_code(change)
    assert mailoutbox[-1].to == ["ketoan@dangkymoi.vn"]


def test_stop_on_a_future_date_applies_on_that_date(trusted, token_cert, declaration, desk_officer):
    unit = _approved_unit(trusted, token_cert, declaration, desk_officer).unit
    later = timezone.localdate() + dt.timedelta(days=3)
    stop = services.start(
        data={"stop_date": later, "stop_reason": "Giải thể", "uses_signature": False},
        unit=unit,
        kind="stop",
    )
    stop.status, stop.email_verified_at = "submitted", timezone.now()
    stop.save()
    services.approve(stop, desk_officer)
    unit.refresh_from_db()
    assert unit.etx_status == "active"
    assert services.apply_due_stops(timezone.localdate()) == 0
    assert services.apply_due_stops(later) == 1
    unit.refresh_from_db()
    assert unit.etx_status == "stopped"
    with pytest.raises(RegistrationError) as exc:
        services.start(data={"phone": "028 0000 0000"}, unit=unit)
    assert exc.value.code == "REG-STOPPED"


def test_expiry_warning_is_sent_once_30_days_ahead(
    trusted, declaration, desk_officer, mailoutbox, django_capture_on_commit_callbacks
):
    now = timezone.now()
    short = trusted.issue(
        "Công ty TNHH Đăng Ký Mới", tax_code=TAX_CODE, not_after=now + dt.timedelta(days=40)
    )
    unit = _approved_unit(trusted, short, declaration, desk_officer).unit
    assert services.warn_expiring_certificates(now.date()) == 0
    in_15 = (now + dt.timedelta(days=15)).date()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.warn_expiring_certificates(in_15) == 1
    assert services.warn_expiring_certificates(in_15) == 0
    warning = mailoutbox[-1]
    assert warning.to == [unit.contact_email] and "hết hạn" in warning.subject


def test_form01_xml_carries_the_declaration(declaration):
    reg = services.start(data={**declaration, "uses_signature": False}, attachment=ATTACHMENT)
    root = etree.fromstring(services.document_bytes(reg))
    assert root.tag == "Hoso"
    assert root.findtext("NoiDung/MaToKhai") == "01/ĐK-GĐ"
    assert root.findtext("NoiDung/MaSoThue") == TAX_CODE
    assert root.findtext("NoiDung/LoaiDangKy") == "1"
    assert root.findtext("NoiDung/SuDungChuKySo") == "0"
    assert [e.text for e in root.findall("NoiDung/ThuTucs/MaThuTuc")] == ["600"]
    assert root.find("CKy_Dvi") is not None


def test_the_chosen_ivan_is_signed_and_given_to_the_unit(
    trusted, token_cert, declaration, desk_officer
):
    from ebhxh.catalog.models import IVanProvider

    ivan = IVanProvider.objects.create(code="00040", name="Công ty Thái Sơn")
    reg = signed_registration({**declaration, "ivan": ivan}, token_cert, trusted)
    assert b"<MaIVAN>00040</MaIVAN>" in read(reg.document)
    services.approve(reg, desk_officer, unit_code="DN0001A")
    assert Unit.objects.get(code="DN0001A").ivan == ivan
