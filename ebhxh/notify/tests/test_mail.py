"""Outgoing e-mail: bilingual rendering, after-commit delivery, the record kept, retries."""

from __future__ import annotations

import smtplib
from email import message_from_bytes

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template import TemplateDoesNotExist

from ebhxh.audit.models import AuditEvent
from ebhxh.notify import mail, tasks
from ebhxh.notify.models import OutboundEmail

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% bao cao thu nghiem\n%%EOF\n"
SECRET = "bi-mat-7f3a9c"  # stands for a set-password link or a one-time code in the context


def _send(**kwargs):
    context = kwargs.pop("context", {"name": "Lan", "note": "A & B <c>"})
    return mail.send(
        "test_message",
        kwargs.pop("to", ["ketoan@example.vn"]),
        context,
        **kwargs,
    )


def _sent(django_capture_on_commit_callbacks, mailoutbox, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        email = _send(**kwargs)
    assert len(mailoutbox) == 1
    return email, mailoutbox[0]


class TestRendering:
    def test_it_puts_vietnamese_first_then_english_in_subject_text_and_html(
        self, django_capture_on_commit_callbacks, mailoutbox
    ):
        _email, message = _sent(django_capture_on_commit_callbacks, mailoutbox)
        assert message.subject == "Thư thử nghiệm / Test message"
        body = message.body
        assert "Xin chào Lan, đây là thư thử nghiệm" in body
        assert "Hello Lan, this is a test message" in body
        assert body.index("Xin chào") < body.index("Hello")
        (html, mimetype), *_ = message.alternatives
        assert mimetype == "text/html"
        assert html.index('<div lang="vi">') < html.index("thư thử nghiệm")
        assert html.index("thư thử nghiệm") < html.index('<div lang="en">')
        assert html.index('<div lang="en">') < html.index("test message")

    def test_text_is_not_html_escaped_but_html_is(
        self, django_capture_on_commit_callbacks, mailoutbox
    ):
        _email, message = _sent(django_capture_on_commit_callbacks, mailoutbox)
        assert "A & B <c>" in message.body
        html = message.alternatives[0][0]
        assert "A &amp; B &lt;c&gt;" in html
        assert "<c>" not in html

    def test_it_attaches_files(self, django_capture_on_commit_callbacks, mailoutbox):
        email, message = _sent(
            django_capture_on_commit_callbacks,
            mailoutbox,
            attachments=[("bao-cao.pdf", PDF, "application/pdf")],
        )
        assert [tuple(a) for a in message.attachments] == [("bao-cao.pdf", PDF, "application/pdf")]
        assert email.attachments == [
            {"name": "bao-cao.pdf", "mimetype": "application/pdf", "size": len(PDF)}
        ]
        parsed = message_from_bytes(message.message().as_bytes())
        names = [part.get_filename() for part in parsed.walk() if part.get_filename()]
        assert names == ["bao-cao.pdf"]

    def test_the_message_id_and_headers_are_set(
        self, django_capture_on_commit_callbacks, mailoutbox, settings
    ):
        email, message = _sent(django_capture_on_commit_callbacks, mailoutbox)
        assert message.extra_headers["Message-ID"] == email.message_id
        assert email.message_id.endswith("@ebhxh.local>")
        assert message.extra_headers["Auto-Submitted"] == "auto-generated"
        assert message.from_email == settings.DEFAULT_FROM_EMAIL
        assert message.to == ["ketoan@example.vn"]

    def test_the_one_time_code_template_renders_in_vietnamese_with_the_code(self):
        rendered = mail.render("one_time_code", {"code": "042517", "minutes": 10})
        assert rendered.subject.startswith("Mã xác thực ebhxh")
        assert rendered.text.startswith("Xin chào,")
        assert "042517" in rendered.text
        assert "042517" in rendered.html
        assert "10 phút" in rendered.text

    def test_site_url_is_in_every_context(self, settings):
        settings.SITE_URL = "https://ebhxh.example.gov.vn"
        rendered = mail.render("one_time_code", {"code": "042517", "minutes": 10})
        assert "https://ebhxh.example.gov.vn" in rendered.text


class TestAfterCommit:
    def test_nothing_is_sent_or_recorded_when_the_transaction_rolls_back(
        self, django_capture_on_commit_callbacks, mailoutbox
    ):
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            _send()
            raise RuntimeError("the action failed")
        assert callbacks == []
        assert mailoutbox == []
        assert not OutboundEmail.objects.exists()
        assert not AuditEvent.objects.filter(tag__startswith="email:").exists()

    def test_it_is_sent_only_once_the_transaction_commits(
        self, django_capture_on_commit_callbacks, mailoutbox
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with transaction.atomic():
                email = _send()
                assert mailoutbox == []
            assert mailoutbox == []  # still inside the test's own transaction
            assert OutboundEmail.objects.get().status == OutboundEmail.Status.QUEUED
        assert len(callbacks) == 1
        assert len(mailoutbox) == 1
        email.refresh_from_db()
        assert email.status == OutboundEmail.Status.SENT
        assert email.sent_at is not None
        assert email.attempts == 1


class TestRecord:
    def test_it_keeps_who_what_and_why_but_no_body(
        self, django_capture_on_commit_callbacks, mailoutbox, unit_a
    ):
        email, _message = _sent(
            django_capture_on_commit_callbacks,
            mailoutbox,
            to=["KeToan@Example.vn", "ketoan@example.vn", "giamdoc@example.vn"],
            purpose="registration:approved",
            unit=unit_a,
            language="en-US",
        )
        email.refresh_from_db()
        assert email.to == ["KeToan@Example.vn", "giamdoc@example.vn"]  # duplicates dropped
        assert email.template == "test_message"
        assert email.purpose == "registration:approved"
        assert email.unit == unit_a
        assert email.language == "en"
        assert email.payload is None  # wiped once sent

    def test_no_secret_from_the_context_is_stored_or_audited(
        self, django_capture_on_commit_callbacks, mailoutbox
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            email = _send(context={"name": "Lan", "note": SECRET})
        # Queued: the body exists only encrypted.
        assert SECRET.encode() not in bytes(email.payload)
        for callback in callbacks:
            callback()
        assert SECRET in mailoutbox[0].body
        email.refresh_from_db()
        stored = {f.name: getattr(email, f.name) for f in OutboundEmail._meta.concrete_fields}
        assert SECRET not in repr(stored)
        for event in AuditEvent.objects.filter(tag__startswith="email:"):
            assert SECRET not in repr(event.data)

    def test_it_audits_the_queueing_and_the_sending(
        self, django_capture_on_commit_callbacks, mailoutbox
    ):
        email, _message = _sent(
            django_capture_on_commit_callbacks,
            mailoutbox,
            attachments=[("bao-cao.pdf", PDF, "application/pdf")],
            purpose="test",
        )
        queued = AuditEvent.objects.get(tag="email:queue")
        assert queued.subject_id == str(email.pk)
        assert queued.data["to"] == ["ketoan@example.vn"]
        assert queued.data["attachments"] == ["bao-cao.pdf"]
        assert queued.data["message_id"] == email.message_id
        sent = AuditEvent.objects.get(tag="email:send")
        assert sent.seq > queued.seq
        assert sent.data == {"message_id": email.message_id, "attempts": 1}


class TestInput:
    def test_a_single_string_is_refused(self):
        with pytest.raises(TypeError):
            _send(to="ketoan@example.vn")

    @pytest.mark.parametrize(
        "address", ["khong-phai-email", "a@b@c.vn", "a@example.vn\nBcc: x@y.vn"]
    )
    def test_invalid_addresses_are_refused(self, address):
        with pytest.raises(ValidationError):
            _send(to=[address])
        assert not OutboundEmail.objects.exists()

    def test_no_recipient_is_refused(self):
        with pytest.raises(ValueError, match="at least one recipient"):
            _send(to=[])

    def test_an_unknown_template_fails_the_caller(self):
        with pytest.raises(TemplateDoesNotExist):
            mail.send("khong_co_mau", ["a@example.vn"], {})
        assert not OutboundEmail.objects.exists()

    def test_attachments_must_be_name_bytes_and_mime_type(self):
        with pytest.raises(TypeError):
            _send(attachments=[("bao-cao.pdf", "not bytes", "application/pdf")])
        with pytest.raises(TypeError):
            _send(attachments=[("bao-cao.pdf", PDF, "pdf")])


class TestDelivery:
    def _queued(self, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False):
            return _send()

    def test_a_transient_smtp_error_is_retried_and_then_sent(
        self, django_capture_on_commit_callbacks, flaky_backend, mailoutbox, eager_retries
    ):
        email = self._queued(django_capture_on_commit_callbacks)
        flaky_backend.errors = [smtplib.SMTPDataError(451, b"4.3.0 try again later")]
        tasks.deliver_email.apply(args=[email.pk])
        email.refresh_from_db()
        assert email.status == OutboundEmail.Status.SENT
        assert email.attempts == 2
        assert len(mailoutbox) == 1

    def test_with_propagation_a_transient_error_asks_celery_to_retry(
        self, django_capture_on_commit_callbacks, flaky_backend
    ):
        from celery.exceptions import Retry

        email = self._queued(django_capture_on_commit_callbacks)
        flaky_backend.errors = [ConnectionRefusedError("no server")]
        with pytest.raises(Retry):
            tasks.deliver_email.apply(args=[email.pk])
        email.refresh_from_db()
        assert email.status == OutboundEmail.Status.QUEUED
        assert "ConnectionRefusedError" in email.error
        assert email.payload is not None  # kept for the retry

    def test_a_permanent_refusal_is_recorded_and_not_retried(
        self, django_capture_on_commit_callbacks, flaky_backend, mailoutbox, eager_retries
    ):
        email = self._queued(django_capture_on_commit_callbacks)
        flaky_backend.always = smtplib.SMTPRecipientsRefused(
            {"ketoan@example.vn": (550, b"5.1.1 no such user")}
        )
        tasks.deliver_email.apply(args=[email.pk])
        email.refresh_from_db()
        assert email.status == OutboundEmail.Status.FAILED
        assert email.attempts == 1
        assert "550" in email.error
        assert email.payload is None
        assert mailoutbox == []
        assert AuditEvent.objects.filter(tag="email:fail", subject_id=str(email.pk)).exists()

    def test_in_process_it_gives_up_after_one_retry(
        self, django_capture_on_commit_callbacks, flaky_backend, mailoutbox, eager_retries
    ):
        email = self._queued(django_capture_on_commit_callbacks)
        flaky_backend.always = smtplib.SMTPConnectError(421, b"4.7.0 busy")
        tasks.deliver_email.apply(args=[email.pk])
        email.refresh_from_db()
        assert email.status == OutboundEmail.Status.FAILED
        assert email.attempts == tasks.EAGER_RETRIES + 1
        assert "421" in email.error
        assert email.payload is None
        assert AuditEvent.objects.filter(tag="email:fail").count() == 1

    def test_workers_retry_with_backoff_for_longer(self):
        assert tasks.allowed_retries(eager=False) == tasks.MAX_RETRIES == 8
        assert tasks.deliver_email.max_retries == tasks.MAX_RETRIES
        assert tasks.deliver_email.retry_backoff == 30
        assert tasks.deliver_email.retry_backoff_max == 600
        assert tasks.deliver_email.autoretry_for == (mail.TransientMailError,)

    def test_the_last_attempt_gives_up_instead_of_asking_for_a_retry(
        self, django_capture_on_commit_callbacks, flaky_backend
    ):
        email = self._queued(django_capture_on_commit_callbacks)
        flaky_backend.always = smtplib.SMTPServerDisconnected("lost")
        with pytest.raises(mail.TransientMailError):
            mail.deliver(email.pk, final_attempt=False)
        with pytest.raises(mail.PermanentMailError):
            mail.deliver(email.pk, final_attempt=True)
        email.refresh_from_db()
        assert (email.status, email.attempts) == (OutboundEmail.Status.FAILED, 2)

    def test_a_redelivered_task_does_not_send_twice(
        self, django_capture_on_commit_callbacks, mailoutbox
    ):
        email, _message = _sent(django_capture_on_commit_callbacks, mailoutbox)
        assert mail.deliver(email.pk) == "sent"
        assert len(mailoutbox) == 1
        assert AuditEvent.objects.filter(tag="email:send").count() == 1

    def test_a_missing_email_is_skipped(self):
        assert mail.deliver(987654) == "missing"

    def test_an_unreadable_payload_fails_for_good(
        self, django_capture_on_commit_callbacks, mailoutbox
    ):
        email = self._queued(django_capture_on_commit_callbacks)
        OutboundEmail.objects.filter(pk=email.pk).update(payload=b"not a fernet token")
        with pytest.raises(mail.PermanentMailError):
            mail.deliver(email.pk)
        email.refresh_from_db()
        assert email.status == OutboundEmail.Status.FAILED
        assert mailoutbox == []

    def test_a_rotated_secret_key_still_opens_queued_messages(
        self, django_capture_on_commit_callbacks, mailoutbox, settings
    ):
        email = self._queued(django_capture_on_commit_callbacks)
        settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
        settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
        assert mail.deliver(email.pk) == "sent"
        assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (smtplib.SMTPServerDisconnected("lost"), True),
        (smtplib.SMTPDataError(451, b"later"), True),
        (smtplib.SMTPDataError(554, b"refused"), False),
        (smtplib.SMTPSenderRefused(550, b"no", "a@b.vn"), False),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), False),
        (smtplib.SMTPRecipientsRefused({"a@b.vn": (450, b"greylisted")}), True),
        (smtplib.SMTPRecipientsRefused({"a@b.vn": (550, b"unknown")}), False),
        (TimeoutError("timed out"), True),
        (ValueError("bad header"), False),
    ],
)
def test_which_errors_are_worth_a_retry(error, transient):
    assert mail._is_transient(error) is transient


def test_the_embedded_default_writes_the_message_to_the_outbox_folder(
    django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "outbox"
    with django_capture_on_commit_callbacks(execute=True):
        email = _send(attachments=[("bao-cao.pdf", PDF, "application/pdf")])
    files = list((tmp_path / "outbox").iterdir())
    assert len(files) == 1
    content = files[0].read_bytes()
    parsed = message_from_bytes(content.split(b"\n" + b"-" * 79)[0])
    assert parsed["Message-ID"] == email.message_id
    texts = [
        part.get_payload(decode=True).decode()
        for part in parsed.walk()
        if part.get_content_type() == "text/plain"
    ]
    assert "Xin chào Lan" in texts[0] and "Hello Lan" in texts[0]
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
