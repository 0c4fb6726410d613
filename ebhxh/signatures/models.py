"""Trust store, revocation cache and the certificates registered to units.

Rows are written only by the services in ``trust.py`` (trust store, registrations),
``revocation.py`` (CRL upload, the fetch cache) and ``validation.py`` (intermediates learned
from validated paths). The trust store ships empty: deployments add the roots of Vietnam's
licensed CAs with ``manage.py trust add``.
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# How long a CRL or OCSP answer without nextUpdate is reused before it is fetched again.
NO_NEXT_UPDATE_TTL = dt.timedelta(hours=1)


class TrustedRoot(models.Model):
    """A root CA certificate that signer certificates must chain to."""

    pem = models.TextField(_("chứng thư số (PEM)"))
    subject = models.CharField(_("chủ thể"), max_length=1000)
    fingerprint = models.CharField(
        _("dấu vân tay SHA-256"),
        max_length=64,
        unique=True,
        help_text=_("SHA-256 của chứng thư số dạng DER, chữ thường hệ 16."),
    )
    not_before = models.DateTimeField(_("hiệu lực từ"))
    not_after = models.DateTimeField(_("hiệu lực đến"))
    enabled = models.BooleanField(
        _("đang tin cậy"),
        default=True,
        help_text=_("Không xoá chứng thư gốc; tắt tin cậy thay vì xoá."),
    )
    note = models.TextField(_("ghi chú"), blank=True)
    added_at = models.DateTimeField(_("thêm lúc"), default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người thêm"),
    )
    disabled_at = models.DateTimeField(_("tắt tin cậy lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("chứng thư số gốc tin cậy")
        verbose_name_plural = _("chứng thư số gốc tin cậy")
        ordering = ["subject"]

    def __str__(self) -> str:
        return f"{self.subject} ({self.fingerprint[:16]}…)"

    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.pem.encode("ascii"))


class IntermediateCertificate(models.Model):
    """A CA certificate below a trusted root, kept so later paths (and CRL uploads) can use it."""

    class Source(models.TextChoices):
        VALIDATION = "validation", _("Học từ một đường dẫn đã kiểm tra")
        ADMIN = "admin", _("Quản trị viên thêm")

    der = models.BinaryField(_("chứng thư số (DER)"))
    subject = models.CharField(_("chủ thể"), max_length=1000)
    issuer = models.CharField(_("tổ chức cấp"), max_length=1000)
    fingerprint = models.CharField(_("dấu vân tay SHA-256"), max_length=64, unique=True)
    not_before = models.DateTimeField(_("hiệu lực từ"))
    not_after = models.DateTimeField(_("hiệu lực đến"))
    source = models.CharField(_("nguồn"), max_length=20, choices=Source.choices)
    added_at = models.DateTimeField(_("thêm lúc"), default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người thêm"),
    )

    class Meta:
        verbose_name = _("chứng thư số CA trung gian")
        verbose_name_plural = _("chứng thư số CA trung gian")
        ordering = ["subject"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=["validation", "admin"]),
                name="signatures_intermediate_source_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.fingerprint[:16]}…)"

    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(bytes(self.der))


class RevocationList(models.Model):
    """A CRL, fetched from a distribution point (keyed by URL) or uploaded (keyed by issuer key)."""

    issuer = models.CharField(_("tổ chức cấp"), max_length=1000)
    issuer_key_id = models.CharField(
        _("mã khoá tổ chức cấp"),
        max_length=64,
        db_index=True,
        help_text=_("SHA-256 của khoá công khai (SubjectPublicKeyInfo) đã ký danh sách."),
    )
    source_url = models.CharField(
        _("địa chỉ tải"),
        max_length=2000,
        blank=True,
        help_text=_("Trống khi quản trị viên tải lên."),
    )
    der = models.BinaryField(_("danh sách (DER)"))
    sha256 = models.CharField(_("SHA-256 của tệp"), max_length=64)
    this_update = models.DateTimeField(_("phát hành lúc"))
    next_update = models.DateTimeField(_("cập nhật tiếp theo"), null=True, blank=True)
    crl_number = models.CharField(_("số CRL"), max_length=64, blank=True)
    revoked_count = models.PositiveIntegerField(_("số chứng thư bị thu hồi"), default=0)
    fetched_at = models.DateTimeField(_("tải lúc"), default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người tải lên"),
    )

    class Meta:
        verbose_name = _("danh sách chứng thư bị thu hồi (CRL)")
        verbose_name_plural = _("danh sách chứng thư bị thu hồi (CRL)")
        ordering = ["issuer", "-this_update"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_url"],
                condition=~Q(source_url=""),
                name="signatures_crl_unique_url",
            ),
            models.UniqueConstraint(
                fields=["issuer_key_id"],
                condition=Q(source_url=""),
                name="signatures_crl_unique_uploaded_issuer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issuer} ({self.source_url or 'tải lên'})"

    @property
    def uploaded(self) -> bool:
        return not self.source_url

    def fresh_until(self) -> dt.datetime:
        return self.next_update or self.fetched_at + NO_NEXT_UPDATE_TTL

    def is_fresh(self, now: dt.datetime | None = None) -> bool:
        return (now or timezone.now()) < self.fresh_until()


class OcspResponseCache(models.Model):
    """The last OCSP answer about one certificate, reused until its nextUpdate."""

    class Status(models.TextChoices):
        GOOD = "good", _("Còn hiệu lực")
        REVOKED = "revoked", _("Đã thu hồi")
        UNKNOWN = "unknown", _("Không rõ")

    issuer_key_id = models.CharField(
        _("mã khoá tổ chức cấp"),
        max_length=64,
        help_text=_("SHA-256 của khoá công khai (SubjectPublicKeyInfo) của tổ chức cấp."),
    )
    serial = models.CharField(_("số hiệu chứng thư"), max_length=64)
    source_url = models.CharField(_("địa chỉ OCSP"), max_length=2000)
    der = models.BinaryField(_("phản hồi OCSP (DER)"))
    status = models.CharField(_("tình trạng"), max_length=10, choices=Status.choices)
    revoked_at = models.DateTimeField(_("thu hồi lúc"), null=True, blank=True)
    produced_at = models.DateTimeField(_("phản hồi lập lúc"))
    this_update = models.DateTimeField(_("phát hành lúc"))
    next_update = models.DateTimeField(_("cập nhật tiếp theo"), null=True, blank=True)
    fetched_at = models.DateTimeField(_("tải lúc"), default=timezone.now)

    class Meta:
        verbose_name = _("phản hồi OCSP đã lưu")
        verbose_name_plural = _("phản hồi OCSP đã lưu")
        ordering = ["-fetched_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer_key_id", "serial"], name="signatures_ocsp_unique_cert"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["good", "revoked", "unknown"]),
                name="signatures_ocsp_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.serial} @ {self.source_url}: {self.status}"

    def fresh_until(self) -> dt.datetime:
        return self.next_update or self.fetched_at + NO_NEXT_UPDATE_TTL

    def is_fresh(self, now: dt.datetime | None = None) -> bool:
        return (now or timezone.now()) < self.fresh_until()


class RegisteredCertificate(models.Model):
    """A signer certificate registered to a unit; only these may sign the unit's dossiers."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Đang sử dụng")
        WITHDRAWN = "withdrawn", _("Đã ngừng sử dụng")

    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("đơn vị"),
    )
    der = models.BinaryField(_("chứng thư số (DER)"))
    fingerprint = models.CharField(_("dấu vân tay SHA-256"), max_length=64, db_index=True)
    serial = models.CharField(
        _("số hiệu chứng thư"), max_length=64, help_text=_("Hệ 16, chữ in hoa.")
    )
    issuer = models.CharField(_("tổ chức cấp"), max_length=1000)
    subject = models.CharField(_("chủ thể"), max_length=1000)
    tax_code = models.CharField(
        _("mã số thuế trong chứng thư"),
        max_length=20,
        blank=True,
        help_text=_("Lấy từ thuộc tính UID dạng “MST:…” nếu có."),
    )
    not_before = models.DateTimeField(_("hiệu lực từ"))
    not_after = models.DateTimeField(_("hiệu lực đến"))
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    registered_at = models.DateTimeField(_("đăng ký lúc"), default=timezone.now)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người đăng ký"),
    )
    withdrawn_at = models.DateTimeField(_("ngừng sử dụng lúc"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người cho ngừng sử dụng"),
    )

    class Meta:
        verbose_name = _("chứng thư số đã đăng ký")
        verbose_name_plural = _("chứng thư số đã đăng ký")
        ordering = ["unit", "-registered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "fingerprint"], name="signatures_registered_unique_per_unit"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "withdrawn"]),
                name="signatures_registered_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} – {self.serial}"

    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(bytes(self.der))
