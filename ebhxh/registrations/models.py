"""Registrations for e-transactions (form 01/ĐK-GĐ): first registrations, re-registrations of TS24
units, changes and stops. Every registration is a version; a change or a stop links to the
version it follows, so the history of a unit's registration is the chain of its versions."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# No 0/O, 1/I/L: references are read out over the phone.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_reference() -> str:
    return "DK-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def _upload_to(instance: Registration, filename: str) -> str:
    now = timezone.now()
    return f"registrations/{now:%Y/%m}/{instance.reference}/{filename}"


class Registration(models.Model):
    class Kind(models.TextChoices):
        FIRST = "first", _("Đăng ký lần đầu (chưa có mã đơn vị)")
        EXISTING = "existing", _("Đăng ký (đơn vị đã có mã)")
        REREGISTRATION = "reregistration", _("Đăng ký lại (đơn vị đã giao dịch qua TS24)")
        CHANGE = "change", _("Điều chỉnh thông tin đăng ký")
        STOP = "stop", _("Ngừng giao dịch điện tử")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Chưa gửi (chờ ký hoặc xác nhận email)")
        SUBMITTED = "submitted", _("Chờ cơ quan BHXH duyệt")
        APPROVED = "approved", _("Đã duyệt")
        REFUSED = "refused", _("Bị từ chối")

    class Delivery(models.TextChoices):
        ELECTRONIC = "electronic", _("Nhận kết quả điện tử (email, cổng)")
        POST = "post", _("Nhận qua bưu điện")
        DESK = "desk", _("Nhận tại bộ phận một cửa")

    reference = models.CharField(
        _("số tham chiếu"), max_length=11, unique=True, default=new_reference, editable=False
    )
    kind = models.CharField(_("loại đăng ký"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    version = models.PositiveIntegerField(_("lần đăng ký"), default=1)
    previous = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next_versions",
        verbose_name=_("đăng ký trước"),
    )
    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registrations",
        verbose_name=_("đơn vị"),
    )
    legacy_account = models.ForeignKey(
        "legacy.LegacyAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registrations",
        verbose_name=_("tài khoản TS24"),
    )
    # --- the declaration (01/ĐK-GĐ)
    unit_name = models.CharField(_("tên đơn vị"), max_length=300)
    unit_code = models.CharField(_("mã đơn vị"), max_length=7, blank=True)
    tax_code = models.CharField(_("mã số thuế"), max_length=14, db_index=True)
    unit_type = models.CharField(_("loại hình đơn vị"), max_length=30)
    registered_address = models.CharField(_("địa chỉ trụ sở"), max_length=400)
    contact_address = models.CharField(_("địa chỉ liên hệ"), max_length=400, blank=True)
    head_name = models.CharField(_("thủ trưởng đơn vị"), max_length=200)
    contact_person = models.CharField(_("người liên hệ"), max_length=200)
    email = models.EmailField(_("email nhận thông báo"))
    phone = models.CharField(_("điện thoại"), max_length=30)
    contact_phone = models.CharField(_("điện thoại người liên hệ"), max_length=30, blank=True)
    managing_agency = models.ForeignKey(
        "catalog.Agency",
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("cơ quan BHXH quản lý"),
    )
    wage_region = models.PositiveSmallIntegerField(_("vùng lương tối thiểu"))
    procedures = models.JSONField(_("thủ tục đăng ký sử dụng"), default=list, blank=True)
    delivery = models.CharField(
        _("phương thức nhận kết quả"),
        max_length=12,
        choices=Delivery.choices,
        default=Delivery.ELECTRONIC,
    )
    ivan = models.ForeignKey(
        "catalog.IVanProvider",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("nộp hồ sơ qua I-VAN"),
    )
    uses_signature = models.BooleanField(_("sử dụng chữ ký số"), default=True)
    stop_date = models.DateField(_("ngày ngừng"), null=True, blank=True)
    stop_reason = models.CharField(_("lý do ngừng"), max_length=500, blank=True)
    # --- the certificate (signed registrations)
    certificate_der = models.BinaryField(_("chứng thư số (DER)"), null=True, blank=True)
    certificate_fingerprint = models.CharField(_("dấu vân tay"), max_length=64, blank=True)
    certificate_serial = models.CharField(_("số hiệu chứng thư"), max_length=64, blank=True)
    certificate_subject = models.CharField(_("chủ thể chứng thư"), max_length=1000, blank=True)
    certificate_issuer = models.CharField(_("tổ chức cấp"), max_length=1000, blank=True)
    certificate_not_after = models.DateTimeField(_("chứng thư hết hạn"), null=True, blank=True)
    # --- files
    document = models.FileField(_("tờ khai (XML)"), upload_to=_upload_to, blank=True)
    attachment = models.FileField(_("giấy tờ kèm theo"), upload_to=_upload_to, blank=True)
    verification = models.JSONField(_("kết quả kiểm tra chữ ký"), default=dict, blank=True)
    email_verified_at = models.DateTimeField(_("email xác nhận lúc"), null=True, blank=True)
    # --- lifecycle
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("gửi lúc"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người gửi"),
    )
    decided_at = models.DateTimeField(_("quyết định lúc"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cán bộ duyệt"),
    )
    refusal_reason = models.CharField(_("lý do từ chối"), max_length=1000, blank=True)
    transaction_code = models.CharField(_("mã giao dịch"), max_length=30, blank=True)
    notice_xml = models.FileField(_("thông báo 01/TB-GD (XML)"), upload_to=_upload_to, blank=True)
    notice_pdf = models.FileField(_("thông báo 01/TB-GD (PDF)"), upload_to=_upload_to, blank=True)

    class Meta:
        verbose_name = _("đăng ký giao dịch điện tử")
        verbose_name_plural = _("đăng ký giao dịch điện tử")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted", "approved", "refused"]),
                name="registrations_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["first", "existing", "reregistration", "change", "stop"]),
                name="registrations_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(wage_region__gte=1, wage_region__lte=4),
                name="registrations_wage_region",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(refusal_reason=""),
                name="registrations_refusal_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["first", "existing", "reregistration"])
                | Q(unit__isnull=False),
                name="registrations_change_has_unit",
            ),
            # One version follows another at most once: two changes cannot both build on v3.
            models.UniqueConstraint(
                fields=["previous"],
                condition=Q(status__in=["submitted", "approved"]),
                name="registrations_one_successor",
            ),
        ]
        indexes = [models.Index(fields=["status", "managing_agency"])]

    def __str__(self) -> str:
        return f"{self.reference} – {self.unit_name}"

    @property
    def unit_type_label(self) -> str:
        from ebhxh.units.models import Unit

        try:
            return str(Unit.UnitType(self.unit_type).label)
        except ValueError:
            return self.unit_type

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.SUBMITTED)


class CertificateExpiryWarning(models.Model):
    """One e-mail per registered certificate that expires soon (sent once, 30 days ahead)."""

    certificate = models.OneToOneField(
        "signatures.RegisteredCertificate",
        on_delete=models.CASCADE,
        related_name="expiry_warning",
    )
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("cảnh báo chứng thư sắp hết hạn")
        verbose_name_plural = _("cảnh báo chứng thư sắp hết hạn")

    def __str__(self) -> str:
        return f"{self.certificate_id} @ {self.sent_at:%Y-%m-%d}"
