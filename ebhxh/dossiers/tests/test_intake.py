"""The intake pipeline through its services: acknowledge, check, reject or accept, replay."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from ebhxh.audit.models import AuditEvent
from ebhxh.dossiers import blobs, services
from ebhxh.dossiers.models import Channel, Dossier, DossierCounter, Status
from ebhxh.dossiers.services import IntakeError
from ebhxh.dossiers.tests.conftest import envelope_for
from ebhxh.lib.workdays import add_working_days
from ebhxh.notices.tbts import SEAL_CONTAINER
from ebhxh.notify.models import OutboundEmail
from ebhxh.signatures.services import verify_document
from ebhxh.signatures.testing.pki import Issued, TestPKI
from ebhxh.units.models import Unit

pytestmark = pytest.mark.django_db


def _submit(data: bytes, unit: Unit, capture: Any, **kwargs: Any) -> Dossier:
    with capture(execute=True):
        ack = services.submit(data, unit=unit, channel=Channel.API, **kwargs)
    ack.dossier.refresh_from_db()
    return ack.dossier


def test_a_valid_dossier_is_stored_numbered_and_sealed(
    active_unit: Unit, envelope: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    dossier = _submit(envelope, active_unit, django_capture_on_commit_callbacks)
    assert dossier.status == Status.RECEIVED, dossier.findings
    year = timezone.localtime(dossier.submitted_at).year
    assert dossier.number == f"00001/{year}/{active_unit.managing_agency.code}"
    assert blobs.get(dossier.blob) == envelope  # the exact bytes, content-addressed
    assert dossier.blob.endswith(f"{dossier.sha256}.xml")
    assert dossier.appointment_date == add_working_days(timezone.localdate(dossier.submitted_at), 5)
    assert dossier.procedure_code == "600" and dossier.period == "07/2026"
    assert [f["code"] for f in dossier.forms] == ["D02-TS"]
    receipt = services.receipt_xml(dossier)
    report, verified = verify_document(receipt, container=SEAL_CONTAINER)
    assert report.valid, report
    assert dossier.number.encode() in receipt and dossier.sha256.encode() in receipt
    assert [e.status for e in dossier.events.all()] == [Status.SUBMITTED, Status.RECEIVED]
    tags = list(AuditEvent.objects.filter(subject_id=str(dossier.pk)).values_list("tag", flat=True))
    assert "dossier:submit" in tags and "dossier:receive" in tags
    mail = OutboundEmail.objects.filter(purpose="dossier:received").get()
    assert active_unit.contact_email.lower() in mail.to


def test_the_same_bytes_or_key_return_the_original_dossier(
    active_unit: Unit, envelope: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    first = _submit(envelope, active_unit, django_capture_on_commit_callbacks, idempotency_key="k1")
    again = services.submit(envelope, unit=active_unit, channel=Channel.API)
    assert again.replayed and again.dossier.pk == first.pk
    by_key = services.submit(envelope, unit=active_unit, channel=Channel.API, idempotency_key="k1")
    assert by_key.replayed and by_key.dossier.pk == first.pk
    assert Dossier.objects.count() == 1
    assert DossierCounter.objects.get().last == 1


def test_a_key_reused_for_other_bytes_is_refused(
    active_unit: Unit, unit_cert: Issued, envelope: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    _submit(envelope, active_unit, django_capture_on_commit_callbacks, idempotency_key="k1")
    other = envelope_for(active_unit, unit_cert, first=100)
    with pytest.raises(IntakeError) as exc:
        services.submit(other, unit=active_unit, channel=Channel.API, idempotency_key="k1")
    assert exc.value.code == "DOS-IDEMPOTENCY-CONFLICT"
    assert Dossier.objects.count() == 1


def test_another_units_bytes_are_refused_without_telling(
    active_unit: Unit, unit_b: Unit, envelope: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    _submit(envelope, active_unit, django_capture_on_commit_callbacks)
    unit_b.etx_status = Unit.EtxStatus.ACTIVE
    unit_b.save()
    with pytest.raises(IntakeError) as exc:
        services.submit(envelope, unit=unit_b, channel=Channel.API)
    assert exc.value.code == "DOS-DUPLICATE" and exc.value.status == 409


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "DOS-EMPTY"), (b"x" * 2049, "DOS-TOO-LARGE")],
)
def test_refusals_before_storing_keep_nothing(
    active_unit: Unit, settings: Any, media: Any, data: bytes, code: str
) -> None:
    settings.DOSSIER_MAX_BYTES = 2048
    with pytest.raises(IntakeError) as exc:
        services.submit(data, unit=active_unit, channel=Channel.API)
    assert exc.value.code == code
    assert Dossier.objects.count() == 0
    assert not (media / "dossiers").exists()


def test_a_unit_not_registered_cannot_submit(unit_a: Unit, unit_cert: Issued) -> None:
    with pytest.raises(IntakeError) as exc:
        services.submit(envelope_for(unit_a, unit_cert), unit=unit_a, channel=Channel.API)
    assert exc.value.code == "DOS-UNIT-NOT-ACTIVE" and exc.value.status == 403


def _codes(dossier: Dossier) -> set[str]:
    return {f["code"] for f in dossier.findings if f["severity"] == "error"}


def test_an_unsigned_dossier_is_rejected_without_a_number(
    active_unit: Unit, django_capture_on_commit_callbacks: Any
) -> None:
    dossier = _submit(
        envelope_for(active_unit, None), active_unit, django_capture_on_commit_callbacks
    )
    assert dossier.status == Status.REJECTED and dossier.number is None
    assert "DOS-UNSIGNED" in _codes(dossier)
    assert not DossierCounter.objects.exists() or DossierCounter.objects.get().last == 0
    mail = OutboundEmail.objects.filter(purpose="dossier:rejected").get()
    assert mail.subject


def test_a_certificate_not_registered_to_the_unit_is_rejected(
    active_unit: Unit, pki: TestPKI, django_capture_on_commit_callbacks: Any
) -> None:
    stranger = pki.issue("Công ty Khác", tax_code="0100109106")
    dossier = _submit(
        envelope_for(active_unit, stranger), active_unit, django_capture_on_commit_callbacks
    )
    assert dossier.status == Status.REJECTED
    assert any(code.startswith("CERT-") for code in _codes(dossier)), dossier.findings


def test_a_form_altered_after_signing_is_rejected(
    active_unit: Unit, unit_cert: Issued, django_capture_on_commit_callbacks: Any
) -> None:
    """The envelope is re-signed over a form whose own signature no longer matches."""
    import base64

    from lxml import etree

    from ebhxh.dossiers.tests.conftest import signer_of
    from ebhxh.signatures import xmldsig

    good = envelope_for(active_unit, unit_cert)
    root = etree.fromstring(good)
    root.remove(root.find("CKy_Dvi"))
    node = root.find(".//FileToKhai/NoiDungFile")
    form = base64.b64decode(node.text).replace(b"Nguy\xe1\xbb\x85n", b"Tr\xe1\xba\xa7n", 1)
    node.text = base64.b64encode(form).decode()
    root.find(".//FileToKhai/DoDaiFile").text = str(len(node.text))
    tampered = xmldsig.sign(
        etree.tostring(root, xml_declaration=True, encoding="UTF-8"), signer_of(unit_cert)
    )
    dossier = _submit(tampered, active_unit, django_capture_on_commit_callbacks)
    assert dossier.status == Status.REJECTED
    bad = [f for f in dossier.findings if f["severity"] == "error"]
    assert bad and all(f["location"]["form"] == "D02-TS" for f in bad), bad
    assert {f["code"] for f in bad} <= {"SIG-DIGEST", "SIG-VALUE"}


def test_rule_findings_point_at_the_row(
    active_unit: Unit, unit_cert: Issued, django_capture_on_commit_callbacks: Any
) -> None:
    def low_salary(form: Any) -> Any:
        rows = list(form.rows)
        rows[2] = dataclasses.replace(rows[2], salary=Decimal(1_000_000))
        return dataclasses.replace(form, rows=tuple(rows))

    dossier = _submit(
        envelope_for(active_unit, unit_cert, change=low_salary),
        active_unit,
        django_capture_on_commit_callbacks,
    )
    assert dossier.status == Status.REJECTED
    errors = [f for f in dossier.findings if f["severity"] == "error"]
    assert errors and {(f["location"]["form"], f["location"]["row"]) for f in errors} == {
        ("D02-TS", 3)
    }, errors


def test_a_dossier_of_another_unit_code_is_rejected(
    active_unit: Unit, unit_cert: Issued, django_capture_on_commit_callbacks: Any
) -> None:
    dossier = _submit(
        envelope_for(active_unit, unit_cert, unit_code="XX9999X"),
        active_unit,
        django_capture_on_commit_callbacks,
    )
    assert dossier.status == Status.REJECTED
    assert "DOS-UNIT-MISMATCH" in _codes(dossier)


def test_an_unknown_procedure_is_rejected(
    active_unit: Unit, unit_cert: Issued, django_capture_on_commit_callbacks: Any
) -> None:
    dossier = _submit(
        envelope_for(active_unit, unit_cert, procedure="999"),
        active_unit,
        django_capture_on_commit_callbacks,
    )
    assert dossier.status == Status.REJECTED
    assert "DOS-PROCEDURE-UNKNOWN" in _codes(dossier)


def test_not_an_envelope_is_a_coded_rejection(
    active_unit: Unit, django_capture_on_commit_callbacks: Any
) -> None:
    dossier = _submit(b"<not xml", active_unit, django_capture_on_commit_callbacks)
    assert dossier.status == Status.REJECTED
    assert "DOS-NOT-ENVELOPE" in _codes(dossier)


def test_processing_is_idempotent(
    active_unit: Unit, envelope: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    dossier = _submit(envelope, active_unit, django_capture_on_commit_callbacks)
    number = dossier.number
    assert services.process(dossier.pk) == Status.RECEIVED
    dossier.refresh_from_db()
    assert dossier.number == number and DossierCounter.objects.get().last == 1
    assert dossier.events.count() == 2


def test_a_crash_before_commit_leaves_the_dossier_submitted_and_resume_finishes_it(
    active_unit: Unit, envelope: bytes, monkeypatch: Any
) -> None:
    ack = services.submit(envelope, unit=active_unit, channel=Channel.API)  # queue not run
    dossier = ack.dossier

    def crash(*args: Any, **kwargs: Any) -> bytes:
        raise OSError("the HSM went away")

    monkeypatch.setattr(services, "issue_receipt", crash)
    with pytest.raises(OSError):
        services.process(dossier.pk)
    dossier.refresh_from_db()
    assert dossier.status == Status.SUBMITTED and dossier.number is None
    assert not DossierCounter.objects.filter(last__gt=0).exists()  # the number went back
    monkeypatch.undo()
    Dossier.objects.filter(pk=dossier.pk).update(
        submitted_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert services.resume() == 1  # eager tasks: processed now
    dossier.refresh_from_db()
    assert dossier.status == Status.RECEIVED and dossier.number.startswith("00001/")


def test_test_mode_checks_everything_and_keeps_nothing(
    active_unit: Unit, envelope: bytes, media: Any
) -> None:
    events = AuditEvent.objects.count()
    outcome = services.test_submission(envelope, unit=active_unit, channel=Channel.API)
    assert outcome.accepted and outcome.findings == []
    assert outcome.receipt is not None
    report, _ = verify_document(outcome.receipt, container=SEAL_CONTAINER)
    assert report.valid
    from ebhxh.notices.tbts import decode

    assert decode(outcome.receipt).specimen is True
    assert decode(outcome.receipt).dossier_number is None
    assert Dossier.objects.count() == 0 and not DossierCounter.objects.exists()
    assert AuditEvent.objects.count() == events
    assert not (media / "dossiers").exists()
    bad = services.test_submission(envelope_for(active_unit, None), unit=active_unit, channel="api")
    assert not bad.accepted and bad.receipt is None
    assert "DOS-UNSIGNED" in {f["code"] for f in bad.findings}


def test_withdraw_before_processing_only(
    active_unit: Unit, envelope: bytes, django_capture_on_commit_callbacks: Any, unit_admin: Any
) -> None:
    dossier = _submit(envelope, active_unit, django_capture_on_commit_callbacks)
    withdrawn = services.withdraw(dossier, user=unit_admin, reason="Gửi nhầm kỳ")
    assert withdrawn.status == Status.WITHDRAWN and withdrawn.number == dossier.number
    with pytest.raises(IntakeError) as exc:
        services.withdraw(withdrawn, user=unit_admin)
    assert exc.value.code == "DOS-STATE"
    Dossier.objects.filter(pk=dossier.pk).update(status=Status.PROCESSING)
    with pytest.raises(IntakeError):
        services.withdraw(dossier, user=unit_admin)


def test_receipt_pdf_is_rendered_once_and_kept(
    active_unit: Unit, envelope: bytes, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    from ebhxh.notices import services as notices

    dossier = _submit(envelope, active_unit, django_capture_on_commit_callbacks)
    calls = []
    real = notices.receipt_pdf

    def counting(xml: bytes) -> bytes:
        calls.append(1)
        return real(xml)

    monkeypatch.setattr(notices, "receipt_pdf", counting)
    pdf = services.receipt_pdf(dossier)
    assert pdf.startswith(b"%PDF")
    again = services.receipt_pdf(Dossier.objects.get(pk=dossier.pk))
    assert again == pdf and len(calls) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_acceptances_get_distinct_numbers_without_gaps(
    active_unit: Unit, unit_cert: Issued, monkeypatch: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency: PostgreSQL (SQLite serialises writers)")
    monkeypatch.setattr(services, "_queue", lambda pk: None)  # processed below, in parallel
    ids = [
        services.submit(
            envelope_for(active_unit, unit_cert, first=100 * n), unit=active_unit, channel="api"
        ).dossier.pk
        for n in range(1, 9)
    ]
    errors: list[BaseException] = []

    def work(pk: int) -> None:
        try:
            services.process(pk)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(pk,)) for pk in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = sorted(Dossier.objects.values_list("number", flat=True))
    assert [int(n.split("/")[0]) for n in numbers] == list(range(1, 9))


MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def test_attachments_are_checked_by_content(
    active_unit: Unit, unit_cert: Issued, django_capture_on_commit_callbacks: Any
) -> None:
    good = _submit(
        envelope_for(active_unit, unit_cert, attachments=[("hop-dong.pdf", MINIMAL_PDF)]),
        active_unit,
        django_capture_on_commit_callbacks,
    )
    assert good.status == Status.RECEIVED, good.findings
    assert [f["code"] for f in good.forms] == ["D02-TS", "CT-DK"]
    disguised = _submit(
        envelope_for(
            active_unit, unit_cert, first=300, attachments=[("hop-dong.pdf", b"MZ\x90\x00" * 64)]
        ),
        active_unit,
        django_capture_on_commit_callbacks,
    )
    assert disguised.status == Status.REJECTED
    assert _codes(disguised) & {"DOS-FILE-TYPE", "DOS-FILE-MISMATCH"}, disguised.findings


def test_resume_with_no_age_queues_every_submitted_dossier(
    active_unit: Unit, envelope: bytes, monkeypatch: Any
) -> None:
    """`ebhxh resume_intake --older-than 0` must not fall back to the default age."""
    queued: list[int] = []
    monkeypatch.setattr(services, "_queue", queued.append)
    dossier = services.submit(envelope, unit=active_unit, channel=Channel.API).dossier
    assert services.resume() == 0  # younger than DOSSIER_RESUME_AFTER_SECONDS
    assert services.resume(dt.timedelta(0)) == 1 and queued[-1] == dossier.pk
