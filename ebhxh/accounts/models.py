"""Accounts: one user model for unit members, agency officers and system administrators."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    # Unit members (đơn vị)
    UNIT_ADMIN = "unit_admin", _("Quản trị đơn vị")
    PREPARER = "preparer", _("Người lập hồ sơ")
    SIGNER = "signer", _("Người ký")
    # Agency officers (cơ quan BHXH), scoped to one agency
    DESK = "desk", _("Bộ phận Tiếp nhận và trả kết quả")
    COLLECTION = "collection", _("Phòng Thu")
    BOOKS_CARDS = "books_cards", _("Phòng Sổ - thẻ")
    BENEFITS = "benefits", _("Phòng Chế độ")
    SUPERVISOR = "supervisor", _("Lãnh đạo, giám sát")
    # System
    SYSADMIN = "sysadmin", _("Quản trị hệ thống")


UNIT_ROLES = frozenset({Role.UNIT_ADMIN, Role.PREPARER, Role.SIGNER})
AGENCY_ROLES = frozenset(
    {Role.DESK, Role.COLLECTION, Role.BOOKS_CARDS, Role.BENEFITS, Role.SUPERVISOR}
)
SYSTEM_ROLES = frozenset({Role.SYSADMIN})


class User(AbstractUser):
    class Kind(models.TextChoices):
        UNIT = "unit", _("Thành viên đơn vị")
        AGENCY = "agency", _("Cán bộ cơ quan BHXH")
        SYSTEM = "system", _("Quản trị hệ thống")

    kind = models.CharField(
        _("loại tài khoản"), max_length=10, choices=Kind.choices, default=Kind.UNIT
    )
    full_name = models.CharField(_("họ và tên"), max_length=200, blank=True)
    phone = models.CharField(_("điện thoại"), max_length=30, blank=True)
    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("đơn vị"),
    )
    agency = models.ForeignKey(
        "catalog.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="officers",
        verbose_name=_("cơ quan BHXH"),
    )
    is_unit_account = models.BooleanField(
        _("tài khoản của đơn vị"),
        default=False,
        help_text=_("Tài khoản đăng nhập bằng mã đơn vị hoặc mã số thuế."),
    )
    preferred_language = models.CharField(_("ngôn ngữ"), max_length=5, default="vi")

    objects = UserManager()  # type: ignore[misc,assignment]

    class Meta:
        verbose_name = _("người dùng")
        verbose_name_plural = _("người dùng")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="unit", unit__isnull=False, agency__isnull=True)
                    | Q(kind="agency", unit__isnull=True, agency__isnull=False)
                    | Q(kind="system", unit__isnull=True, agency__isnull=True)
                ),
                name="accounts_user_kind_scope",
            ),
            models.CheckConstraint(
                condition=Q(is_unit_account=False) | Q(kind="unit"),
                name="accounts_user_unit_account_kind",
            ),
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(is_unit_account=True),
                name="accounts_user_one_unit_account",
            ),
            models.UniqueConstraint(
                Lower("email"), condition=~Q(email=""), name="accounts_user_email_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def role_set(self) -> frozenset[str]:
        if not hasattr(self, "_role_cache"):
            self._role_cache = (
                frozenset(self.roles.values_list("role", flat=True)) if self.pk else frozenset()
            )
        return self._role_cache

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))

    @property
    def is_officer(self) -> bool:
        return self.kind == self.Kind.AGENCY


class UserRole(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("vai trò"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("vai trò")
        verbose_name_plural = _("vai trò")
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="accounts_userrole_unique"),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="accounts_userrole_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.get_role_display()


class ApiToken(models.Model):
    """A bearer token with which a unit's payroll or I-VAN software calls the API as that unit.

    Only the SHA-256 of the token is stored; the token itself is shown once, when it is created.
    """

    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        related_name="api_tokens",
        verbose_name=_("đơn vị"),
        null=True,
        blank=True,
    )
    ivan = models.ForeignKey(
        "catalog.IVanProvider",
        on_delete=models.PROTECT,
        related_name="api_tokens",
        verbose_name=_("I-VAN"),
        null=True,
        blank=True,
        help_text=_("Token của I-VAN: nộp hồ sơ thay các đơn vị đã chọn I-VAN này khi đăng ký."),
    )
    name = models.CharField(
        _("tên token"),
        max_length=100,
        help_text=_("Phần mềm hoặc mục đích dùng token, ví dụ: phần mềm tiền lương."),
    )
    prefix = models.CharField(
        _("phần đầu token"),
        max_length=12,
        help_text=_("Vài ký tự đầu của token để nhận ra nó; token đầy đủ chỉ hiện một lần."),
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người tạo"),
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), default=timezone.now)
    last_used_at = models.DateTimeField(_("lần dùng gần nhất"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("thời điểm thu hồi"), null=True, blank=True)
    expires_at = models.DateTimeField(_("hết hạn lúc"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API token")
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=False) & Q(ivan__isnull=True))
                | (Q(unit__isnull=True) & Q(ivan__isnull=False)),
                name="accounts_apitoken_unit_or_ivan",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"
