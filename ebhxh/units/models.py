"""Units (đơn vị), participants (người tham gia) and their employments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _

# Lets constraints say code__length=7 on both SQLite and PostgreSQL.
models.CharField.register_lookup(Length)


class Unit(models.Model):
    class UnitType(models.TextChoices):
        STATE_ENTERPRISE = "state_enterprise", _("Doanh nghiệp nhà nước")
        PRIVATE_ENTERPRISE = "private_enterprise", _("Doanh nghiệp ngoài nhà nước")
        FDI_ENTERPRISE = "fdi_enterprise", _("Doanh nghiệp có vốn đầu tư nước ngoài")
        PUBLIC_BODY = "public_body", _("Cơ quan hành chính, đơn vị sự nghiệp")
        COOPERATIVE = "cooperative", _("Hợp tác xã")
        BUSINESS_HOUSEHOLD = "business_household", _("Hộ kinh doanh")
        NGO = "ngo", _("Tổ chức khác")

    class EtxStatus(models.TextChoices):
        NOT_REGISTERED = "not_registered", _("Chưa đăng ký giao dịch điện tử")
        PENDING = "pending", _("Chờ duyệt đăng ký")
        ACTIVE = "active", _("Đang giao dịch điện tử")
        STOPPED = "stopped", _("Đã ngừng giao dịch điện tử")

    code = models.CharField(
        _("mã đơn vị"),
        max_length=7,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Trống cho đến khi cơ quan BHXH cấp mã."),
    )
    tax_code = models.CharField(_("mã số thuế"), max_length=14, unique=True)
    name = models.CharField(_("tên đơn vị"), max_length=300)
    unit_type = models.CharField(_("loại hình đơn vị"), max_length=30, choices=UnitType.choices)
    registered_address = models.CharField(_("địa chỉ đăng ký kinh doanh"), max_length=400)
    contact_address = models.CharField(_("địa chỉ liên hệ"), max_length=400, blank=True)
    commune = models.ForeignKey(
        "catalog.Commune",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("xã, phường"),
    )
    managing_agency = models.ForeignKey(
        "catalog.Agency",
        on_delete=models.PROTECT,
        related_name="units",
        verbose_name=_("cơ quan BHXH quản lý"),
    )
    wage_region = models.PositiveSmallIntegerField(_("vùng lương tối thiểu"))
    ivan = models.ForeignKey(
        "catalog.IVanProvider",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
        verbose_name=_("I-VAN nộp hồ sơ thay"),
        help_text=_("Nhà cung cấp I-VAN đơn vị đã chọn trong đăng ký giao dịch điện tử."),
    )
    head_name = models.CharField(_("thủ trưởng đơn vị"), max_length=200, blank=True)
    contact_email = models.EmailField(_("email liên hệ"))
    contact_phone = models.CharField(_("điện thoại liên hệ"), max_length=30, blank=True)
    etx_status = models.CharField(
        _("trạng thái giao dịch điện tử"),
        max_length=20,
        choices=EtxStatus.choices,
        default=EtxStatus.NOT_REGISTERED,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("đơn vị")
        verbose_name_plural = _("đơn vị")
        constraints = [
            models.CheckConstraint(
                condition=Q(wage_region__gte=1, wage_region__lte=4), name="units_unit_wage_region"
            ),
            models.CheckConstraint(
                condition=Q(code__isnull=True) | Q(code__length=7), name="units_unit_code_length"
            ),
            models.CheckConstraint(
                condition=Q(tax_code__length=10) | Q(tax_code__length=14),
                name="units_unit_tax_code_length",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code or self.tax_code} – {self.name}"


class Participant(models.Model):
    """A person in the registry, keyed by personal ID when known and by mã số BHXH otherwise."""

    class Gender(models.TextChoices):
        MALE = "male", _("Nam")
        FEMALE = "female", _("Nữ")

    class BirthDateKind(models.IntegerChoices):
        FULL = 0, _("Ngày, tháng, năm")
        MONTH_YEAR = 1, _("Tháng, năm")
        YEAR = 2, _("Chỉ có năm")

    bhxh_code = models.CharField(_("mã số BHXH"), max_length=10, unique=True, null=True, blank=True)
    personal_id = models.CharField(
        _("số định danh cá nhân"), max_length=12, unique=True, null=True, blank=True
    )
    full_name = models.CharField(_("họ và tên"), max_length=100)
    birth_date = models.DateField(_("ngày sinh"))
    birth_date_kind = models.PositiveSmallIntegerField(
        _("loại ngày sinh"), choices=BirthDateKind.choices, default=BirthDateKind.FULL
    )
    gender = models.CharField(_("giới tính"), max_length=6, choices=Gender.choices)
    nationality = models.ForeignKey(
        "catalog.Nationality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("quốc tịch"),
    )
    ethnicity = models.ForeignKey(
        "catalog.Ethnicity",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("dân tộc"),
    )
    phone = models.CharField(_("điện thoại"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("địa chỉ"), max_length=400, blank=True)
    commune = models.ForeignKey(
        "catalog.Commune",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("xã, phường"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("người tham gia")
        verbose_name_plural = _("người tham gia")
        constraints = [
            models.CheckConstraint(
                condition=Q(bhxh_code__isnull=False) | Q(personal_id__isnull=False),
                name="units_participant_has_key",
            ),
            models.CheckConstraint(
                condition=Q(bhxh_code__isnull=True) | Q(bhxh_code__length=10),
                name="units_participant_bhxh_length",
            ),
            models.CheckConstraint(
                condition=Q(personal_id__isnull=True) | Q(personal_id__length=12),
                name="units_participant_pid_length",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.bhxh_code or self.personal_id})"


class Employment(models.Model):
    """A participant's employment at a unit, with the contribution basis in force."""

    class JobGroup(models.TextChoices):
        MANAGER = "manager", _("Nhà quản lý")
        HIGH_SKILLED = "high_skilled", _("Chuyên môn kỹ thuật bậc cao")
        MID_SKILLED = "mid_skilled", _("Chuyên môn kỹ thuật bậc trung")
        OTHER = "other", _("Khác")

    class ContractType(models.TextChoices):
        INDEFINITE = "indefinite", _("HĐLĐ không xác định thời hạn")
        FIXED_TERM = "fixed_term", _("HĐLĐ xác định thời hạn")
        OTHER = "other", _("Hợp đồng khác")

    class Status(models.TextChoices):
        CONTRIBUTING = "contributing", _("Đang đóng")
        UNPAID_LEAVE = "unpaid_leave", _("Nghỉ không lương")
        SICK_LEAVE = "sick_leave", _("Nghỉ ốm")
        MATERNITY = "maternity", _("Nghỉ thai sản")
        STOPPED = "stopped", _("Đã giảm")

    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="employments", verbose_name=_("đơn vị")
    )
    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="employments",
        verbose_name=_("người tham gia"),
    )
    position = models.CharField(_("cấp bậc, chức vụ, chức danh nghề"), max_length=500)
    job_group = models.CharField(
        _("vị trí việc làm"), max_length=20, choices=JobGroup.choices, default=JobGroup.OTHER
    )
    department = models.CharField(_("phòng ban"), max_length=200, blank=True)
    salary_amount = models.PositiveBigIntegerField(_("mức lương (đồng)"), null=True, blank=True)
    salary_coefficient = models.DecimalField(
        _("hệ số lương"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    position_allowance = models.DecimalField(
        _("phụ cấp chức vụ"), max_digits=14, decimal_places=2, default=0
    )
    seniority_over_frame_pct = models.DecimalField(
        _("phụ cấp thâm niên vượt khung (%)"), max_digits=5, decimal_places=2, default=0
    )
    seniority_job_pct = models.DecimalField(
        _("phụ cấp thâm niên nghề (%)"), max_digits=5, decimal_places=2, default=0
    )
    salary_allowance = models.PositiveBigIntegerField(_("phụ cấp lương"), default=0)
    additional_allowance = models.PositiveBigIntegerField(_("các khoản bổ sung"), default=0)
    contract_type = models.CharField(
        _("loại hợp đồng"), max_length=20, choices=ContractType.choices
    )
    contract_number = models.CharField(_("số hợp đồng"), max_length=100, blank=True)
    contract_start = models.DateField(_("ngày bắt đầu hợp đồng"))
    contract_end = models.DateField(_("ngày kết thúc hợp đồng"), null=True, blank=True)
    start_month = models.DateField(_("tháng bắt đầu đóng"), help_text=_("Ngày đầu tháng."))
    end_month = models.DateField(_("tháng kết thúc đóng"), null=True, blank=True)
    status = models.CharField(
        _("trạng thái đóng"), max_length=20, choices=Status.choices, default=Status.CONTRIBUTING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["unit", "participant__full_name"]
        verbose_name = _("quá trình làm việc")
        verbose_name_plural = _("quá trình làm việc")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(salary_amount__isnull=False, salary_coefficient__isnull=True)
                    | Q(salary_amount__isnull=True, salary_coefficient__isnull=False)
                ),
                name="units_employment_one_salary_basis",
            ),
            models.CheckConstraint(
                condition=Q(contract_end__isnull=True) | Q(contract_end__gte=F("contract_start")),
                name="units_employment_contract_dates",
            ),
            models.CheckConstraint(
                condition=Q(end_month__isnull=True) | Q(end_month__gte=F("start_month")),
                name="units_employment_months",
            ),
            models.CheckConstraint(
                condition=Q(start_month__day=1), name="units_employment_start_first_day"
            ),
            models.CheckConstraint(
                condition=Q(contract_type="indefinite", contract_end__isnull=True)
                | ~Q(contract_type="indefinite"),
                name="units_employment_indefinite_no_end",
            ),
            models.UniqueConstraint(
                fields=["unit", "participant"],
                condition=Q(end_month__isnull=True),
                name="units_employment_one_open_per_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant} @ {self.unit}"


class EmploymentChange(models.Model):
    """History of an employment: one row per change (increase, adjustment, decrease).

    `changes` holds the values set by an increase, or {"before": …, "after": …} of the fields an
    adjustment, leave or decrease changed. A change that comes from a dossier names it (number,
    form and row, docs/registry.md); one dossier row gives at most one history row.
    """

    employment = models.ForeignKey(Employment, on_delete=models.PROTECT, related_name="changes")
    effective_month = models.DateField(_("từ tháng"))
    change_type = models.CharField(_("phương án"), max_length=4)
    changes = models.JSONField(_("nội dung thay đổi"), default=dict)
    note = models.CharField(_("ghi chú"), max_length=500, blank=True)
    dossier_number = models.CharField(_("hồ sơ nguồn"), max_length=20, blank=True, db_index=True)
    source_form = models.CharField(_("tờ khai nguồn"), max_length=10, blank=True)
    source_row = models.PositiveIntegerField(_("dòng của tờ khai"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["employment", "effective_month", "id"]
        verbose_name = _("biến động")
        verbose_name_plural = _("biến động")
        constraints = [
            models.UniqueConstraint(
                fields=["dossier_number", "source_form", "source_row"],
                condition=~Q(dossier_number=""),
                name="units_employmentchange_one_per_dossier_row",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.change_type} {self.effective_month:%m/%Y}"


class RegistryApplication(models.Model):
    """A dossier whose rows were applied to the registry (ebhxh.units.registry.apply): at most one
    per dossier, so applying the same dossier again changes nothing. Keeps the plan the officer
    saw, the conflicts the officer accepted and what was done."""

    dossier = models.OneToOneField(
        "dossiers.Dossier",
        on_delete=models.PROTECT,
        related_name="registry_application",
        verbose_name=_("hồ sơ"),
    )
    dossier_number = models.CharField(_("số hồ sơ"), max_length=20, unique=True)
    plan = models.JSONField(_("kế hoạch cập nhật"), default=dict)
    accepted_conflicts = models.JSONField(_("xung đột đã chấp nhận"), default=list)
    result = models.JSONField(_("kết quả"), default=dict)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người thực hiện"),
    )
    applied_at = models.DateTimeField(_("thời điểm cập nhật"))

    class Meta:
        ordering = ["-applied_at"]
        verbose_name = _("cập nhật sổ đăng ký từ hồ sơ")
        verbose_name_plural = _("cập nhật sổ đăng ký từ hồ sơ")

    def __str__(self) -> str:
        return self.dossier_number
