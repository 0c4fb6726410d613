"""Web drafts through their services: compose, validate, hand over, sign each form and the
envelope, submit; maker-checker refusals; the e-mail-code path for procedures without a signature."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail

from ebhxh.accounts.models import Role, User
from ebhxh.accounts.tests.factories import UserFactory
from ebhxh.audit.models import AuditEvent
from ebhxh.declarations.excel import write_d02_workbook
from ebhxh.declarations.xmlcodec import encode
from ebhxh.dossiers import drafts
from ebhxh.dossiers.drafts import DraftError
from ebhxh.dossiers.models import Channel, Dossier, Draft, DraftStatus, Status
from ebhxh.dossiers.testing import d02_form
from ebhxh.dossiers.tests.conftest import signer_of
from ebhxh.signatures import xmldsig
from ebhxh.signatures.testing.pki import Issued, TestPKI
from ebhxh.units.models import Employment, Unit
from ebhxh.units.tests.factories import EmploymentFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

PERIOD = "07/2026"


@pytest.fixture
def registry(active_unit: Unit) -> list[Employment]:
    """Three people on unit A's registry, on fixed-term contracts from 07/2026."""
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


@pytest.fixture
def draft(active_unit: Unit, preparer: User) -> Draft:
    return drafts.create(active_unit, user=preparer, procedure_code="600", period=PERIOD)


def sign_all(draft: Draft, user: User, cert: Issued) -> Any:
    """What signing.js does with the agent: sign each document the server hands over."""
    step = drafts.begin_signing(draft, cert.cert_der, user=user)
    signer = signer_of(cert)
    while isinstance(step, drafts.SignStep):
        signed = xmldsig.sign(step.document, signer, container=step.container)
        step = drafts.accept_signed(Draft.objects.get(pk=draft.pk), step.id, signed, user=user)
    return step


def test_a_preparer_composes_from_the_registry_and_a_signer_signs_and_submits(
    draft: Draft,
    preparer: User,
    signer: User,
    unit_cert: Issued,
    registry: list[Employment],
    django_capture_on_commit_callbacks: Any,
) -> None:
    draft = drafts.add_from_registry(draft, [e.pk for e in registry], "TM", user=preparer)
    assert len(draft.rows) == 3 and draft.rows[0]["full_name"] == "Lê Minh Châu"
    assert draft.rows[0]["contract_fixed_from"] == "01/07/2026"
    assert drafts.errors_in(draft.findings) == 0, draft.findings
    draft = drafts.mark_ready(draft, user=preparer)
    assert draft.status == DraftStatus.AWAITING_SIGNATURE and draft.ready_by == preparer
    with django_capture_on_commit_callbacks(execute=True):
        dossier = sign_all(draft, signer, unit_cert)
    assert isinstance(dossier, Dossier)
    dossier.refresh_from_db()
    assert dossier.channel == Channel.WEB and dossier.submitted_by == signer
    assert dossier.status == Status.RECEIVED, dossier.findings
    assert [f["code"] for f in dossier.forms] == ["D02-TS"]
    draft.refresh_from_db()
    assert draft.status == DraftStatus.SUBMITTED and draft.dossier == dossier
    tags = set(AuditEvent.objects.filter(subject_id=str(draft.pk)).values_list("tag", flat=True))
    assert {"draft:create", "draft:row:registry", "draft:ready", "draft:submit"} <= tags


def test_a_preparer_can_neither_sign_nor_submit(
    draft: Draft, preparer: User, unit_cert: Issued, registry: list[Employment]
) -> None:
    draft = drafts.add_from_registry(draft, [registry[0].pk], "TM", user=preparer)
    draft = drafts.mark_ready(draft, user=preparer)
    with pytest.raises(DraftError) as exc:
        drafts.begin_signing(draft, unit_cert.cert_der, user=preparer)
    assert exc.value.code == "DRAFT-ROLE"
    with pytest.raises(DraftError):
        drafts.send_code(draft, user=preparer)


def test_a_unit_admin_without_the_signer_role_cannot_sign(
    draft: Draft, active_unit: Unit, preparer: User, unit_cert: Issued, registry: list[Employment]
) -> None:
    admin = UserFactory(
        username="admin.only", kind=User.Kind.UNIT, unit=active_unit, roles=[Role.UNIT_ADMIN]
    )
    draft = drafts.add_from_registry(draft, [registry[0].pk], "TM", user=preparer)
    draft = drafts.mark_ready(draft, user=admin)  # an admin may prepare
    with pytest.raises(DraftError) as exc:
        drafts.begin_signing(draft, unit_cert.cert_der, user=admin)
    assert exc.value.code == "DRAFT-ROLE"


def test_another_units_member_cannot_touch_the_draft(draft: Draft, outsider: User) -> None:
    with pytest.raises(DraftError) as exc:
        drafts.add_row(draft, {"full_name": "X"}, user=outsider)
    assert exc.value.code == "DRAFT-ROLE"


def test_findings_point_at_the_row_and_field_and_block_the_hand_over(
    draft: Draft, preparer: User, registry: list[Employment]
) -> None:
    draft = drafts.add_from_registry(draft, [e.pk for e in registry], "TM", user=preparer)
    row = dict(draft.rows[1], bhxh_code="123", salary="1000000")
    draft = drafts.update_row(draft, 1, row, user=preparer, fields=row.keys())
    errors = [f for f in draft.findings if f["severity"] == "error"]
    places = {(f["location"]["form"], f["location"]["row"], f["location"]["field"]) for f in errors}
    assert ("D02-TS", 2, "bhxh_code") in places, errors
    assert all(f["location"]["row"] == 2 for f in errors if f["location"]["form"] == "D02-TS")
    with pytest.raises(DraftError) as exc:
        drafts.mark_ready(draft, user=preparer)
    assert exc.value.code == "DRAFT-ERRORS"
    assert Draft.objects.get(pk=draft.pk).status == DraftStatus.EDITING


def test_rows_are_edited_deleted_and_keep_fields_the_page_does_not_show(
    draft: Draft, preparer: User, registry: list[Employment]
) -> None:
    draft = drafts.add_from_registry(draft, [e.pk for e in registry], "TM", user=preparer)
    draft = drafts.update_row(
        draft, 0, {"position": "Tổ trưởng"}, user=preparer, fields=["position", "note"]
    )
    assert draft.rows[0]["position"] == "Tổ trưởng" and "note" not in draft.rows[0]
    assert draft.rows[0]["wage_region"] == "01"  # kept
    draft = drafts.delete_row(draft, 2, user=preparer)
    assert len(draft.rows) == 2
    with pytest.raises(DraftError):
        drafts.delete_row(draft, 5, user=preparer)


def test_an_excel_workbook_adds_its_rows_with_cell_findings(draft: Draft, preparer: User) -> None:
    import dataclasses

    form = d02_form(3)
    rows = list(form.rows)
    rows[1] = dataclasses.replace(rows[1], bhxh_code="79ABC")
    book = write_d02_workbook(dataclasses.replace(form, rows=tuple(rows)))
    attached = drafts.attach(draft, "D02.xlsx", book, user=preparer)
    assert attached.rows_added == 3 and attached.record is not None
    draft.refresh_from_db()
    assert len(draft.rows) == 3 and draft.attachments[0]["kind"] == "import"
    cells = {f["location"].get("cell") for f in attached.findings}
    assert any(c and c.startswith("C") for c in cells), attached.findings


def test_a_form_xml_from_other_software_is_kept_unsigned_to_be_signed_again(
    draft: Draft, preparer: User, unit_cert: Issued
) -> None:
    signed = xmldsig.sign(encode(d02_form(2)), signer_of(unit_cert))
    attached = drafts.attach(draft, "tu-phan-mem-khac.xml", signed, user=preparer)
    assert attached.rows_added == 2
    bad = drafts.attach(draft, "rac.xml", b"<Khac/>", user=preparer)
    assert bad.record is None and "DECL-ROOT" in {f["code"] for f in bad.findings}
    assert drafts.attach(draft, "x.pdf", b"not a pdf", user=preparer).record is None
    pdf = drafts.attach(draft, "hop-dong.pdf", b"%PDF-1.4\n%%EOF\n", user=preparer)
    assert pdf.record is not None and pdf.record["form_code"] == "CT-DK"


def test_content_changed_after_preparation_is_refused(
    draft: Draft, preparer: User, signer: User, unit_cert: Issued, registry: list[Employment]
) -> None:
    draft = drafts.add_from_registry(draft, [registry[0].pk], "TM", user=preparer)
    draft = drafts.mark_ready(draft, user=preparer)
    step = drafts.begin_signing(draft, unit_cert.cert_der, user=signer)
    other = xmldsig.sign(encode(d02_form(1)), signer_of(unit_cert), container=step.container)
    with pytest.raises(DraftError) as exc:
        drafts.accept_signed(Draft.objects.get(pk=draft.pk), step.id, other, user=signer)
    assert exc.value.code == "DRAFT-CONTENT-MISMATCH"


def test_a_certificate_not_registered_to_the_unit_is_refused(
    draft: Draft, preparer: User, signer: User, pki: TestPKI, registry: list[Employment]
) -> None:
    draft = drafts.add_from_registry(draft, [registry[0].pk], "TM", user=preparer)
    draft = drafts.mark_ready(draft, user=preparer)
    stranger = pki.issue("Công ty Khác", tax_code="0100109106")
    with pytest.raises(DraftError) as exc:
        drafts.begin_signing(draft, stranger.cert_der, user=signer)
    assert exc.value.code == "DRAFT-CERT-NOT-REGISTERED"


def test_the_signer_can_return_the_draft_to_the_preparer(
    draft: Draft, preparer: User, signer: User, registry: list[Employment]
) -> None:
    draft = drafts.add_from_registry(draft, [registry[0].pk], "TM", user=preparer)
    draft = drafts.mark_ready(draft, user=preparer)
    with pytest.raises(DraftError):
        drafts.add_row(draft, {"full_name": "X"}, user=preparer)  # not while awaiting signature
    draft = drafts.reopen(draft, user=signer, reason="Sai mức lương")
    assert draft.status == DraftStatus.EDITING


def tk3_of(unit: Unit) -> bytes:
    from ebhxh.declarations.forms import TK3TS, TK3Header

    header = TK3Header(
        unit_name=unit.name,
        unit_code=unit.code,
        tax_code=unit.tax_code,
        phone="0281234567",
        change_content="Thay đổi địa chỉ liên hệ",
        agency_code=unit.managing_agency.code,
        procedure_code="604",
    )
    return encode(TK3TS(header))


def test_without_a_signature_a_code_from_the_email_confirms(
    active_unit: Unit,
    preparer: User,
    signer: User,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    """Procedure 604 does not require a signature: the unit confirms with an e-mailed code."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    draft = drafts.create(active_unit, user=preparer, procedure_code="604", period=PERIOD)
    with django_capture_on_commit_callbacks(execute=True):
        drafts.attach(draft, "TK3-TS.xml", tk3_of(active_unit), user=preparer)
    draft = Draft.objects.get(pk=draft.pk)
    assert drafts.errors_in(draft.findings) == 0, draft.findings
    draft = drafts.mark_ready(draft, user=preparer)
    with django_capture_on_commit_callbacks(execute=True):
        drafts.send_code(draft, user=signer)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)[1]
    with pytest.raises(DraftError) as exc:
        drafts.submit_with_code(draft, "000000" if code != "000000" else "111111", user=signer)
    assert exc.value.code == "DRAFT-CODE-INVALID"
    with django_capture_on_commit_callbacks(execute=True):
        dossier = drafts.submit_with_code(draft, code, user=signer)
    dossier.refresh_from_db()
    assert dossier.status == Status.RECEIVED, dossier.findings
    assert dossier.verification.get("code_confirmed") is True


def test_a_procedure_requiring_a_signature_has_no_code_path(
    draft: Draft, preparer: User, signer: User, registry: list[Employment]
) -> None:
    draft = drafts.add_from_registry(draft, [registry[0].pk], "TM", user=preparer)
    draft = drafts.mark_ready(draft, user=preparer)
    with pytest.raises(DraftError) as exc:
        drafts.send_code(draft, user=signer)
    assert exc.value.code == "DRAFT-SIGNATURE-REQUIRED"
