"""Reference catalogues (danh mục), loaded from versioned data files in ebhxh/catalog/data/.

Every rule-bearing value carries effective_from/effective_to and is resolved by
the contribution period, never by "today" (vss-domain.md §6.2).
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

# "Since an unknown date": the default start of a value whose first day is not known.
DEFAULT_EFFECTIVE_FROM = dt.date(2000, 1, 1)


class EffectiveQuerySet(models.QuerySet):
    def in_force(self, on: dt.date) -> EffectiveQuerySet:
        return self.filter(
            Q(effective_from__lte=on), Q(effective_to__isnull=True) | Q(effective_to__gte=on)
        )


class Effective(models.Model):
    """A value that applies from effective_from to effective_to inclusive (open-ended when null)."""

    effective_from = models.DateField(_("hiệu lực từ"), default=DEFAULT_EFFECTIVE_FROM)
    effective_to = models.DateField(_("hiệu lực đến"), null=True, blank=True)
    legal_basis = models.CharField(_("căn cứ pháp lý"), max_length=300, blank=True)

    objects = EffectiveQuerySet.as_manager()

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="%(app_label)s_%(class)s_effective_range",
            )
        ]


class Province(Effective):
    """Province after the 2025 reform (34 provinces), from the vietnam-provinces package."""

    code = models.CharField(_("mã tỉnh"), max_length=2, unique=True)
    name = models.CharField(_("tên"), max_length=100)
    division_type = models.CharField(_("loại đơn vị hành chính"), max_length=50, blank=True)

    class Meta(Effective.Meta):
        ordering = ["code"]
        verbose_name = _("tỉnh, thành phố")
        verbose_name_plural = _("tỉnh, thành phố")

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class LegacyProvince(models.Model):
    """Pre-2025 province code (63 provinces) still used by the VSS portal catalogues."""

    code = models.CharField(_("mã tỉnh cũ"), max_length=2, unique=True)
    name = models.CharField(_("tên"), max_length=100)
    successor = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="legacy_codes", verbose_name=_("tỉnh mới")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("tỉnh cũ (trước 2025)")
        verbose_name_plural = _("tỉnh cũ (trước 2025)")

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class Commune(models.Model):
    """Commune-level unit (xã, phường, đặc khu) of the 2025 structure."""

    code = models.CharField(_("mã xã"), max_length=5, unique=True)
    name = models.CharField(_("tên"), max_length=100)
    division_type = models.CharField(_("loại đơn vị hành chính"), max_length=50, blank=True)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="communes")

    class Meta:
        ordering = ["code"]
        verbose_name = _("xã, phường")
        verbose_name_plural = _("xã, phường")

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class Agency(Effective):
    """Social-insurance agency (cơ quan BHXH): central, provincial or base level; 5-character code."""

    class Level(models.TextChoices):
        CENTRAL = "central", _("Trung ương")
        PROVINCIAL = "provincial", _("Tỉnh, thành phố")
        BASE = "base", _("Cơ sở")

    code = models.CharField(_("mã cơ quan BHXH"), max_length=5, unique=True)
    name = models.CharField(_("tên"), max_length=200)
    level = models.CharField(_("cấp"), max_length=20, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("cấp trên"),
    )
    province = models.ForeignKey(Province, on_delete=models.PROTECT, null=True, blank=True)
    address = models.CharField(_("địa chỉ"), max_length=300, blank=True)
    phone = models.CharField(_("điện thoại"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    note = models.CharField(
        _("ghi chú"),
        max_length=500,
        blank=True,
        help_text=_("Nguồn, độ tin cậy của mã và tên; điểm cần đối chiếu."),
    )

    class Meta(Effective.Meta):
        ordering = ["code"]
        verbose_name = _("cơ quan BHXH")
        verbose_name_plural = _("cơ quan BHXH")
        constraints = [
            *Effective.Meta.constraints,
            models.CheckConstraint(
                condition=Q(level="central", parent__isnull=True)
                | ~Q(level="central") & Q(parent__isnull=False),
                name="catalog_agency_hierarchy",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class Form(Effective):
    """A declaration form (tờ khai, mẫu) such as TK1-TS or D02-LT."""

    class Kind(models.TextChoices):
        DECLARATION = "declaration", _("Tờ khai XML")
        ATTACHMENT = "attachment", _("Chứng từ đi kèm")

    code = models.CharField(_("mã tờ khai"), max_length=20, unique=True)
    portal_id = models.CharField(_("mã trên cổng"), max_length=20, blank=True)
    name = models.CharField(_("tên"), max_length=300)
    name_en = models.CharField(_("tên tiếng Anh"), max_length=300, blank=True)
    kind = models.CharField(
        _("loại"), max_length=20, choices=Kind.choices, default=Kind.DECLARATION
    )
    signature_node = models.CharField(_("nút chữ ký"), max_length=50, blank=True)

    class Meta(Effective.Meta):
        ordering = ["code"]
        verbose_name = _("tờ khai")
        verbose_name_plural = _("tờ khai")

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class Procedure(Effective):
    """An administrative procedure (thủ tục) such as 600 or 630a, kept as data."""

    class Field(models.TextChoices):
        COLLECTION = "collection", _("Thu")
        BOOKS_CARDS = "books_cards", _("Sổ, thẻ")
        BENEFITS = "benefits", _("Chế độ")

    code = models.CharField(_("mã thủ tục"), max_length=10, unique=True)
    name = models.CharField(_("tên"), max_length=400)
    name_en = models.CharField(_("tên tiếng Anh"), max_length=400, blank=True)
    field = models.CharField(_("lĩnh vực"), max_length=20, choices=Field.choices)
    time_limit_days = models.PositiveSmallIntegerField(_("thời hạn giải quyết (ngày làm việc)"))
    time_limit_confirmed = models.BooleanField(
        _("thời hạn đã xác nhận"),
        default=False,
        help_text=_("Sai khi thời hạn là mặc định của danh mục, chưa có nguồn xác nhận."),
    )
    signature_required = models.BooleanField(_("bắt buộc chữ ký số"), default=True)
    channels = models.JSONField(_("kênh nộp"), default=list)
    forms = models.ManyToManyField(Form, through="ProcedureForm", related_name="procedures")
    note = models.CharField(
        _("ghi chú"),
        max_length=500,
        blank=True,
        help_text=_(
            "Nguồn, độ tin cậy của tên và thời hạn; điểm cần đối chiếu (vss-domain.md §12 mục 5)."
        ),
    )

    class Meta(Effective.Meta):
        ordering = ["code"]
        verbose_name = _("thủ tục")
        verbose_name_plural = _("thủ tục")

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class ProcedureForm(models.Model):
    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="procedure_forms"
    )
    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="procedure_forms")
    required = models.BooleanField(_("bắt buộc"), default=False)
    position = models.PositiveSmallIntegerField(_("thứ tự"), default=0)

    class Meta:
        ordering = ["procedure", "position"]
        verbose_name = _("tờ khai của thủ tục")
        verbose_name_plural = _("tờ khai của thủ tục")
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "form"], name="catalog_procedureform_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.procedure.code} – {self.form.code}"


class ChangeType(Effective):
    """A change type (phương án, PA) such as TM, GH or DC, in one of the portal's lists."""

    class Direction(models.TextChoices):
        INCREASE = "increase", _("Tăng")
        DECREASE = "decrease", _("Giảm")
        ADJUST = "adjust", _("Điều chỉnh")

    list_code = models.CharField(_("danh sách"), max_length=20)
    code = models.CharField(_("mã PA"), max_length=4)
    name = models.CharField(_("tên"), max_length=200)
    direction = models.CharField(_("loại biến động"), max_length=10, choices=Direction.choices)

    class Meta(Effective.Meta):
        ordering = ["list_code", "code"]
        verbose_name = _("phương án")
        verbose_name_plural = _("phương án")
        constraints = [
            *Effective.Meta.constraints,
            models.UniqueConstraint(
                fields=["list_code", "code", "effective_from"], name="catalog_changetype_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class MinimumWage(Effective):
    """Regional minimum monthly wage (lương tối thiểu vùng), regions I–IV."""

    region = models.PositiveSmallIntegerField(_("vùng"))
    amount = models.PositiveBigIntegerField(_("mức lương (đồng/tháng)"))

    class Meta(Effective.Meta):
        ordering = ["region", "effective_from"]
        verbose_name = _("lương tối thiểu vùng")
        verbose_name_plural = _("lương tối thiểu vùng")
        constraints = [
            *Effective.Meta.constraints,
            models.CheckConstraint(
                condition=Q(region__gte=1, region__lte=4), name="catalog_minimumwage_region"
            ),
            models.UniqueConstraint(
                fields=["region", "effective_from"], name="catalog_minimumwage_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region}: {self.amount:,} ({self.effective_from:%d/%m/%Y})"


class ReferenceSalary(Effective):
    """Lương cơ sở / mức tham chiếu; the BHXH and BHYT cap is 20 times it."""

    amount = models.PositiveBigIntegerField(_("mức (đồng/tháng)"))

    class Meta(Effective.Meta):
        ordering = ["effective_from"]
        verbose_name = _("mức tham chiếu")
        verbose_name_plural = _("mức tham chiếu")
        constraints = [
            *Effective.Meta.constraints,
            models.UniqueConstraint(
                fields=["effective_from"], name="catalog_referencesalary_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount:,} ({self.effective_from:%d/%m/%Y})"


class ContributionRate(Effective):
    """Contribution rate of one fund, employer and employee shares, as fractions (0.14 = 14 %)."""

    class Fund(models.TextChoices):
        PENSION = "pension", _("BHXH hưu trí, tử tuất")
        SICKNESS = "sickness", _("BHXH ốm đau, thai sản")
        ACCIDENT = "accident", _("BHTNLĐ-BNN")
        HEALTH = "health", _("BHYT")
        UNEMPLOYMENT = "unemployment", _("BHTN")

    fund = models.CharField(_("quỹ"), max_length=20, choices=Fund.choices)
    employer_rate = models.DecimalField(_("tỷ lệ đơn vị đóng"), max_digits=6, decimal_places=4)
    employee_rate = models.DecimalField(
        _("tỷ lệ người lao động đóng"), max_digits=6, decimal_places=4
    )

    class Meta(Effective.Meta):
        ordering = ["fund", "effective_from"]
        verbose_name = _("tỷ lệ đóng")
        verbose_name_plural = _("tỷ lệ đóng")
        constraints = [
            *Effective.Meta.constraints,
            models.UniqueConstraint(
                fields=["fund", "effective_from"], name="catalog_contributionrate_unique"
            ),
            models.CheckConstraint(
                condition=Q(
                    employer_rate__gte=0,
                    employer_rate__lt=1,
                    employee_rate__gte=0,
                    employee_rate__lt=1,
                ),
                name="catalog_contributionrate_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund}: {self.employer_rate} / {self.employee_rate} ({self.effective_from:%d/%m/%Y})"


class IVanProvider(Effective):
    code = models.CharField(_("mã I-VAN"), max_length=5, unique=True)
    name = models.CharField(_("tên"), max_length=200)

    class Meta(Effective.Meta):
        ordering = ["code"]
        verbose_name = _("nhà cung cấp I-VAN")
        verbose_name_plural = _("nhà cung cấp I-VAN")

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class Ethnicity(models.Model):
    code = models.CharField(_("mã dân tộc"), max_length=2, unique=True)
    name = models.CharField(_("tên"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("dân tộc")
        verbose_name_plural = _("dân tộc")

    def __str__(self) -> str:
        return self.name


class Nationality(models.Model):
    code = models.CharField(_("mã quốc tịch"), max_length=2, unique=True)
    name = models.CharField(_("tên"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("quốc tịch")
        verbose_name_plural = _("quốc tịch")

    def __str__(self) -> str:
        return self.name
