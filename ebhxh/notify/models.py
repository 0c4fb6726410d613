"""Outgoing e-mails as sent (never their secrets) and one-time e-mail codes (only their hashes)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboundEmail(models.Model):
    """One message handed to ebhxh.notify.mail.send, and what became of it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Chờ gửi")
        SENT = "sent", _("Đã gửi")
        FAILED = "failed", _("Gửi không thành công")

    created_at = models.DateTimeField(_("thời điểm tạo"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("thời điểm gửi"), null=True, blank=True)
    to = models.JSONField(_("người nhận"), default=list)
    subject = models.CharField(_("tiêu đề"), max_length=500)
    template = models.CharField(_("mẫu thư"), max_length=100)
    purpose = models.CharField(_("mục đích"), max_length=100, blank=True, db_index=True)
    language = models.CharField(_("ngôn ngữ ưu tiên"), max_length=8, default="vi")
    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbound_emails",
        verbose_name=_("đơn vị"),
    )
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("số lần gửi"), default=0)
    error = models.TextField(_("lỗi"), blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    attachments = models.JSONField(
        _("tệp đính kèm"), default=list, help_text=_("Tên, kiểu và kích thước; không lưu nội dung.")
    )
    # The rendered message (bodies and attachments) encrypted with a key derived from SECRET_KEY,
    # so the worker can send it; wiped once the message is sent or has failed for good. Bodies
    # may carry one-time codes and set-password links, which must not stay in the database.
    payload = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("thư đi")
        verbose_name_plural = _("thư đi")
        ordering = ("-created_at", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "sent", "failed"]),
                name="notify_outboundemail_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="notify_outboundemail_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.template}"


class OneTimeCode(models.Model):
    """A six-digit code e-mailed for a purpose; only its keyed hash is stored."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Đang chờ nhập")
        USED = "used", _("Đã dùng")
        SUPERSEDED = "superseded", _("Đã được thay bằng mã mới")
        LOCKED = "locked", _("Bị khóa do nhập sai quá số lần")

    email = models.CharField(_("email"), max_length=254)
    purpose = models.CharField(_("mục đích"), max_length=50)
    subject_ref = models.CharField(
        _("việc được xác nhận"),
        max_length=100,
        blank=True,
        help_text=_("Việc mà mã xác nhận, ví dụ số hồ sơ đăng ký; mã chỉ dùng được cho việc đó."),
    )
    code_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("thời điểm tạo"), default=timezone.now)
    expires_at = models.DateTimeField(_("hết hạn lúc"))
    used_at = models.DateTimeField(_("thời điểm dùng"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("số lần nhập"), default=0)
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )

    class Meta:
        verbose_name = _("mã xác thực một lần")
        verbose_name_plural = _("mã xác thực một lần")
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=["email", "purpose", "status"])]
        constraints = [
            # A new code replaces the previous one: at most one usable code per address and purpose.
            models.UniqueConstraint(
                fields=["email", "purpose"],
                condition=Q(status="active"),
                name="notify_one_active_code_per_email_purpose",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "used", "superseded", "locked"]),
                name="notify_onetimecode_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} · {self.email}"
