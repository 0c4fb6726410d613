"""Dossiers (hồ sơ) received from units: the exact bytes, their processing, the number and the
receipt, and the timeline the unit follows.

A `Dossier` row exists from the moment the bytes are stored (status SUBMITTED) — that is what the
202 acknowledges. The intake pipeline then either rejects it technically (no number) or accepts it
(RECEIVED: number, appointment date, sealed receipt). The later statuses belong to the agency
workflow (issue 7) and to the unit (withdrawal). Every change of status is a `DossierEvent`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Đã gửi, đang kiểm tra")
    REJECTED = "rejected", _("Bị từ chối tiếp nhận (lỗi kỹ thuật)")
    RECEIVED = "received", _("Đã tiếp nhận")
    PROCESSING = "processing", _("Đang giải quyết")
    SUPPLEMENT = "supplement", _("Yêu cầu bổ sung")
    RESULT_READY = "result_ready", _("Đã có kết quả")
    RETURNED = "returned", _("Đã trả kết quả")
    WITHDRAWN = "withdrawn", _("Đơn vị đã rút hồ sơ")


class Channel(models.TextChoices):
    WEB = "web", _("Cổng thông tin (web)")
    API = "api", _("API (phần mềm, I-VAN)")


class Dossier(models.Model):
    tracking_id = models.UUIDField(
        _("mã theo dõi"), default=uuid.uuid4, unique=True, editable=False
    )
    status = models.CharField(
        _("trạng thái"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    channel = models.CharField(_("kênh nộp"), max_length=8, choices=Channel.choices)
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="dossiers", verbose_name=_("đơn vị")
    )
    agency = models.ForeignKey(
        "catalog.Agency",
        on_delete=models.PROTECT,
        related_name="dossiers",
        verbose_name=_("cơ quan BHXH"),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người gửi"),
    )
    api_token = models.ForeignKey(
        "accounts.ApiToken",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("token API"),
    )
    # --- what arrived, byte for byte
    sha256 = models.CharField(_("SHA-256 của tệp nhận"), max_length=64, unique=True)
    size = models.PositiveBigIntegerField(_("kích thước (byte)"))
    blob = models.CharField(_("tệp lưu trữ"), max_length=200)
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    supplement_to = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supplements_received",
        verbose_name=_("bổ sung cho hồ sơ"),
        help_text=_("Hồ sơ được cơ quan BHXH yêu cầu bổ sung mà hồ sơ này trả lời."),
    )
    submitted_at = models.DateTimeField(_("thời điểm nhận"), db_index=True)
    # --- read from the envelope (empty when it could not be read)
    procedure_code = models.CharField(_("mã thủ tục"), max_length=10, blank=True)
    procedure_name = models.CharField(_("tên thủ tục"), max_length=400, blank=True)
    period = models.CharField(_("kỳ kê khai"), max_length=7, blank=True)
    forms = models.JSONField(_("tờ khai, tệp đính kèm"), default=list)
    # --- the outcome of the intake checks
    findings = models.JSONField(_("kết quả kiểm tra"), default=list)
    verification = models.JSONField(_("kiểm tra chữ ký số"), default=dict)
    processed_at = models.DateTimeField(_("thời điểm kiểm tra xong"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # --- accepted
    number = models.CharField(_("số hồ sơ"), max_length=20, null=True, blank=True, unique=True)
    received_at = models.DateTimeField(_("thời điểm tiếp nhận"), null=True, blank=True)
    appointment_date = models.DateField(_("ngày hẹn trả kết quả"), null=True, blank=True)
    receipt_blob = models.CharField(_("phiếu giao nhận (XML)"), max_length=200, blank=True)
    receipt_pdf_blob = models.CharField(_("phiếu giao nhận (PDF)"), max_length=200, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("hồ sơ")
        verbose_name_plural = _("hồ sơ")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="dossiers_dossier_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | ~Q(status__in=["submitted", "rejected"]),
                name="dossiers_dossier_number_only_when_received",
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=False)
                | Q(status__in=["submitted", "rejected", "withdrawn"]),
                name="dossiers_dossier_received_has_number",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "-submitted_at"], name="dossiers_unit_recent"),
            models.Index(fields=["status", "submitted_at"], name="dossiers_status_age"),
        ]

    def __str__(self) -> str:
        return self.number or str(self.tracking_id)

    @property
    def is_final(self) -> bool:
        return self.status in (Status.REJECTED, Status.RETURNED, Status.WITHDRAWN)


class DossierEvent(models.Model):
    """One step of a dossier's timeline, shown to the unit."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(_("trạng thái"), max_length=16, choices=Status.choices)
    at = models.DateTimeField(_("thời điểm"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người thực hiện"),
    )
    note = models.CharField(_("ghi chú"), max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("sự kiện hồ sơ")
        verbose_name_plural = _("sự kiện hồ sơ")

    def __str__(self) -> str:
        return f"{self.dossier_id} {self.status} {self.at:%Y-%m-%d %H:%M}"


class DossierCounter(models.Model):
    """The last dossier number given by an agency in a year. Incremented under a row lock in the
    transaction that accepts the dossier, so numbers have neither duplicates nor gaps."""

    agency = models.ForeignKey("catalog.Agency", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "year"], name="dossiers_counter_agency_year")
        ]

    def __str__(self) -> str:
        return f"{self.agency_id}/{self.year}: {self.last}"


class DraftStatus(models.TextChoices):
    EDITING = "editing", _("Đang soạn")
    AWAITING_SIGNATURE = "awaiting_signature", _("Chờ ký")
    SUBMITTED = "submitted", _("Đã gửi")


class Draft(models.Model):
    """A dossier being prepared on the web (docs/intake-web.md): composed D02-TS rows and attached
    files, until a signer signs it and it becomes a `Dossier`. Maker-checker: a preparer composes
    and hands it over for signature; only a signer signs and submits.

    `rows` holds the D02-TS rows as text by `D02Row` field name (``ebhxh.dossiers.drafts``);
    `attachments` the files, each stored in `blobs` ("drafts"); `signing` the state of the
    signing round trips (chosen certificate, each form before and after signing); `envelope_blob`
    the unsigned BHXHDienTu.xml prepared for the last signature.
    """

    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="drafts", verbose_name=_("đơn vị")
    )
    procedure_code = models.CharField(_("mã thủ tục"), max_length=10)
    period = models.CharField(_("kỳ kê khai"), max_length=7)
    status = models.CharField(
        _("trạng thái"), max_length=20, choices=DraftStatus.choices, default=DraftStatus.EDITING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("người lập"),
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)
    rows = models.JSONField(_("các dòng D02-TS"), default=list)
    attachments = models.JSONField(_("tệp đính kèm"), default=list)
    findings = models.JSONField(_("kết quả kiểm tra"), default=list)
    ready_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người trình ký"),
    )
    ready_at = models.DateTimeField(_("trình ký lúc"), null=True, blank=True)
    signing = models.JSONField(_("trạng thái ký"), default=dict)
    envelope_blob = models.CharField(_("hồ sơ chờ ký (XML)"), max_length=200, blank=True)
    dossier = models.ForeignKey(
        Dossier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="drafts",
        verbose_name=_("hồ sơ đã gửi"),
    )

    class Meta:
        ordering = ["-updated_at", "-pk"]
        verbose_name = _("hồ sơ nháp")
        verbose_name_plural = _("hồ sơ nháp")
        constraints = [
            models.CheckConstraint(
                condition=Q(dossier__isnull=True) | Q(status="submitted"),
                name="dossiers_draft_dossier_only_when_submitted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.procedure_code} {self.period} #{self.pk}"
