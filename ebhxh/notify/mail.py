"""Outgoing e-mail: bilingual messages (Vietnamese first, then English), sent after the commit.

``send`` renders a template in both languages, records an ``OutboundEmail`` and an audit event
in the caller's transaction, and enqueues the delivery task once that transaction commits, so a
rolled-back action never e-mails anyone. The task (``ebhxh.notify.tasks.deliver_email``) hands
the message to Django's e-mail backend: the outbox folder in the embedded mode, SMTP in
production, retrying transient SMTP errors with backoff.

Templates live in ``templates/notify/<template>/``: ``subject.txt``, ``body.txt`` and
``body.html``. Text templates render without HTML escaping. Subjects are stored in the clear,
so they must never carry a secret; bodies may (one-time codes, set-password links): they are
kept only encrypted, and only until the message is sent or has failed for good.
"""

from __future__ import annotations

import base64
import json
import logging
import smtplib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import make_msgid, parseaddr
from typing import TYPE_CHECKING, Any, cast

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.template import Context, engines
from django.template.backends.django import DjangoTemplates
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from ebhxh.audit.services import record_event
from ebhxh.notify.models import OutboundEmail

if TYPE_CHECKING:
    from ebhxh.units.models import Unit

__all__ = [
    "PermanentMailError",
    "Rendered",
    "TransientMailError",
    "deliver",
    "render",
    "send",
]

logger = logging.getLogger("ebhxh.notify")

PRIMARY, SECONDARY = "vi", "en"
_KEY_SALT = "ebhxh.notify.mail.payload"
_TEXT_SEPARATOR = "\n\n" + "=" * 64 + "\n\n"


class TransientMailError(Exception):
    """The mail server may accept the message later (4xx reply, connection trouble): retry."""


class PermanentMailError(Exception):
    """The message was not sent and will not be (5xx reply, retries spent): recorded as failed."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _template_engine() -> Any:
    return cast(DjangoTemplates, engines["django"]).engine


def _render_one(name: str, context: Mapping[str, Any], *, autoescape: bool) -> str:
    template = _template_engine().get_template(name)
    return str(template.render(Context(dict(context), autoescape=autoescape)))


def render(template: str, context: Mapping[str, Any]) -> Rendered:
    """Render a notify template in Vietnamese and in English and put both into one message."""
    values = {"site_url": settings.SITE_URL, **context}
    parts: dict[str, Rendered] = {}
    for language in (PRIMARY, SECONDARY):
        with translation.override(language):
            subject = _render_one(f"notify/{template}/subject.txt", values, autoescape=False)
            parts[language] = Rendered(
                subject=" ".join(subject.split()),  # one line: a newline would break the header
                text=_render_one(f"notify/{template}/body.txt", values, autoescape=False).strip(),
                html=_render_one(f"notify/{template}/body.html", values, autoescape=True).strip(),
            )
    vi, en = parts[PRIMARY], parts[SECONDARY]
    # Identical renderings (a template without translatable text) are not repeated.
    subject = vi.subject if en.subject == vi.subject else f"{vi.subject} / {en.subject}"
    text = vi.text if en.text == vi.text else vi.text + _TEXT_SEPARATOR + en.text
    html = (
        _template_engine()
        .get_template("notify/_bilingual.html")
        .render(
            Context(
                {
                    "subject": subject,
                    "vi": mark_safe(vi.html),  # noqa: S308  rendered with autoescape above
                    "en": "" if en.html == vi.html else mark_safe(en.html),  # noqa: S308
                }
            )
        )
    )
    return Rendered(subject=subject, text=text + "\n", html=str(html))


def _recipients(to: Sequence[str]) -> list[str]:
    if isinstance(to, str):
        raise TypeError("to must be a sequence of addresses, not one string")
    addresses: list[str] = []
    for raw in to:
        address = str(raw).strip()
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                _("Địa chỉ email không hợp lệ: %(email)s"), params={"email": address}
            ) from None
        if address.lower() not in {a.lower() for a in addresses}:
            addresses.append(address)
    if not addresses:
        raise ValueError("an e-mail needs at least one recipient")
    return addresses


def _attachments(attachments: Sequence[tuple[str, bytes, str]]) -> list[tuple[str, bytes, str]]:
    checked = []
    for item in attachments:
        name, content, mimetype = item
        if not isinstance(name, str) or not name or not isinstance(content, bytes):
            raise TypeError("each attachment is (file name, bytes, MIME type)")
        if not isinstance(mimetype, str) or "/" not in mimetype:
            raise TypeError(f"attachment {name!r}: {mimetype!r} is not a MIME type")
        checked.append((name, content, mimetype))
    return checked


def _language(language: str) -> str:
    code = (language or PRIMARY).split("-")[0].lower()
    return code if code in {c for c, _name in settings.LANGUAGES} else PRIMARY


def _fernet() -> MultiFernet:
    # Keys derived from SECRET_KEY (and its fallbacks, so a key rotation does not strand the queue).
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(
                base64.urlsafe_b64encode(
                    salted_hmac(_KEY_SALT, "fernet", secret=s, algorithm="sha256").digest()
                )
            )
            for s in secrets
        ]
    )


def _seal(rendered: Rendered, attachments: list[tuple[str, bytes, str]]) -> bytes:
    data = {
        "text": rendered.text,
        "html": rendered.html,
        "attachments": [
            [name, base64.b64encode(content).decode("ascii"), mimetype]
            for name, content, mimetype in attachments
        ],
    }
    return _fernet().encrypt(json.dumps(data, ensure_ascii=False).encode())


def _unseal(payload: bytes) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(_fernet().decrypt(payload)))


def _message_id() -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "ebhxh.local"
    return make_msgid(domain=domain)


def _enqueue(email_id: int) -> None:
    from ebhxh.notify.tasks import deliver_email

    deliver_email.delay(email_id)


def send(
    template: str,
    to: Sequence[str],
    context: Mapping[str, Any],
    *,
    attachments: Sequence[tuple[str, bytes, str]] = (),
    language: str = "vi",
    purpose: str = "",
    unit: Unit | None = None,
) -> OutboundEmail:
    """Queue a bilingual e-mail; it goes out only after the caller's transaction commits."""
    recipients = _recipients(to)
    files = _attachments(attachments)
    rendered = render(template, context)  # before any write: a template error fails the caller
    with transaction.atomic():
        email = OutboundEmail.objects.create(
            to=recipients,
            subject=rendered.subject[:500],
            template=template,
            purpose=purpose[:100],
            language=_language(language),
            unit=unit,
            message_id=_message_id(),
            attachments=[
                {"name": name, "mimetype": mimetype, "size": len(content)}
                for name, content, mimetype in files
            ],
            payload=_seal(rendered, files),
        )
        record_event(
            "email:queue",
            subject=email,
            data={
                "template": template,
                "purpose": email.purpose,
                "to": recipients,
                "attachments": [name for name, _content, _mimetype in files],
                "message_id": email.message_id,
            },
        )
        # robust: a broker that is down must not turn a committed action into an error page;
        # the message stays queued and the failure is logged.
        transaction.on_commit(lambda: _enqueue(email.pk), robust=True)
    return email


def _build(email: OutboundEmail, data: Mapping[str, Any]) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=data["text"],
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(email.to),
        headers={
            "Message-ID": email.message_id,
            "Content-Language": f"{PRIMARY}, {SECONDARY}",
            "Auto-Submitted": "auto-generated",  # RFC 3834: no out-of-office replies
        },
    )
    message.attach_alternative(data["html"], "text/html")
    for name, content, mimetype in data["attachments"]:
        message.attach(name, base64.b64decode(content), mimetype)
    return message


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return any(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return False
    # SMTPServerDisconnected and every other SMTPException are OSErrors, like refused connections,
    # timeouts and name-resolution failures: the server may be back later.
    return isinstance(exc, OSError)


def _finish(email: OutboundEmail, status: str, *, error: str = "") -> None:
    with transaction.atomic():
        email.status = status
        email.error = error[:2000]
        email.payload = None
        fields = ["status", "error", "payload"]
        if status == OutboundEmail.Status.SENT:
            email.sent_at = timezone.now()
            fields.append("sent_at")
        email.save(update_fields=fields)
        tag = "email:send" if status == OutboundEmail.Status.SENT else "email:fail"
        data: dict[str, Any] = {"message_id": email.message_id, "attempts": email.attempts}
        if error:
            data["error"] = email.error
        record_event(tag, subject=email, data=data)


def deliver(email_id: int, *, final_attempt: bool = True) -> str:
    """Hand one queued e-mail to the e-mail backend; safe to run again for the same e-mail."""
    email = OutboundEmail.objects.filter(pk=email_id).first()
    if email is None:
        logger.warning("outbound e-mail %s does not exist (rolled back?)", email_id)
        return "missing"
    if email.status != OutboundEmail.Status.QUEUED:
        return str(email.status)  # a redelivered task: already sent or given up
    # Claim this attempt: of two workers holding the same task only one gets to send.
    claimed = OutboundEmail.objects.filter(
        pk=email.pk, status=OutboundEmail.Status.QUEUED, attempts=email.attempts
    ).update(attempts=email.attempts + 1)
    if not claimed:
        return "busy"
    email.attempts += 1
    try:
        message = _build(email, _unseal(bytes(email.payload or b"")))
    except (InvalidToken, ValueError, KeyError, TypeError) as exc:
        _finish(email, OutboundEmail.Status.FAILED, error=f"unreadable payload: {exc!r}")
        logger.error("e-mail %s (%s) has an unreadable payload", email.pk, email.template)
        raise PermanentMailError(f"e-mail {email.pk}: unreadable payload") from exc
    try:
        message.send()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if _is_transient(exc) and not final_attempt:
            OutboundEmail.objects.filter(pk=email.pk).update(error=error[:2000])
            raise TransientMailError(error) from exc
        _finish(email, OutboundEmail.Status.FAILED, error=error)
        logger.error("e-mail %s (%s) not sent, giving up: %s", email.pk, email.template, error)
        raise PermanentMailError(error) from exc
    _finish(email, OutboundEmail.Status.SENT)
    logger.info("e-mail %s (%s) sent to %d recipient(s)", email.pk, email.template, len(email.to))
    return str(OutboundEmail.Status.SENT)
