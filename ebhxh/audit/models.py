"""The append-only audit trail: AuditEvent rows chained by SHA-256, and the chain head."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from ebhxh.audit.chain import GENESIS_HASH, HASHED_FIELDS


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit event."""


def _refuse(what: str) -> NoReturn:
    raise AppendOnlyError(f"audit events are append-only: {what} refused")


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        _refuse("update()")

    def delete(self) -> NoReturn:
        _refuse("delete()")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        _refuse("bulk_update()")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> NoReturn:
        # Only services.record_event can link a new event to the chain head.
        _refuse("bulk_create() (use ebhxh.audit.services.record_event)")


class AuditEvent(models.Model):
    seq = models.PositiveBigIntegerField(
        _("số thứ tự"),
        unique=True,
        editable=False,
        help_text=_("Vị trí trong chuỗi, liên tục từ 1."),
    )
    time = models.DateTimeField(_("thời điểm"), db_index=True, editable=False)
    # PROTECT, not SET_NULL: SET_NULL would UPDATE audit rows (refused by the trigger) and
    # change hashed data. Accounts are deactivated, never deleted, once they have acted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("người thực hiện"),
        editable=False,
    )
    actor_name = models.CharField(
        _("tên người thực hiện"),
        max_length=300,
        blank=True,
        editable=False,
        help_text=_("Ghi lại tại thời điểm sự kiện, không đổi khi tài khoản đổi tên."),
    )
    tag = models.CharField(_("loại sự kiện"), max_length=100, db_index=True, editable=False)
    subject_type = models.CharField(
        _("loại đối tượng"),
        max_length=100,
        blank=True,
        editable=False,
        help_text=_("Ví dụ: units.unit"),
    )
    subject_id = models.CharField(_("mã đối tượng"), max_length=100, blank=True, editable=False)
    subject_repr = models.CharField(_("đối tượng"), max_length=200, blank=True, editable=False)
    data = models.JSONField(
        _("dữ liệu"),
        default=dict,
        blank=True,
        editable=False,
        help_text=_("Dữ liệu kèm theo, gồm before/after của các trường đã thay đổi."),
    )
    request_id = models.CharField(_("mã yêu cầu"), max_length=64, blank=True, editable=False)
    ip = models.GenericIPAddressField(
        _("địa chỉ IP"), null=True, blank=True, unpack_ipv4=True, editable=False
    )
    prev_hash = models.CharField(
        _("mã băm trước"),
        max_length=64,
        unique=True,  # two events on the same predecessor would be a fork
        editable=False,
    )
    hash = models.CharField(_("mã băm"), max_length=64, unique=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("sự kiện kiểm toán")
        verbose_name_plural = _("nhật ký kiểm toán")
        base_manager_name = "objects"
        default_permissions = ("view",)
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="audit_event_subject")]
        constraints = [
            models.CheckConstraint(condition=Q(seq__gte=1), name="audit_auditevent_seq_positive"),
            models.CheckConstraint(
                condition=Q(seq=1, prev_hash=GENESIS_HASH)
                | (Q(seq__gt=1) & ~Q(prev_hash=GENESIS_HASH)),
                name="audit_auditevent_genesis",
            ),
            models.CheckConstraint(
                condition=Exact(Length("hash"), 64), name="audit_auditevent_hash_len"
            ),
            models.CheckConstraint(
                condition=Exact(Length("prev_hash"), 64), name="audit_auditevent_prev_hash_len"
            ),
            models.CheckConstraint(condition=~Q(tag=""), name="audit_auditevent_tag_not_empty"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.tag}"

    def save(
        self,
        *,
        force_insert: bool | tuple[Any, ...] = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Any = None,
    ) -> None:
        if not self._state.adding or force_update or update_fields is not None:
            _refuse("save() of an existing event")
        super().save(force_insert=True, using=using)

    def delete(self, using: Any = None, keep_parents: bool = False) -> NoReturn:
        _refuse("delete()")

    def hashed_fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in HASHED_FIELDS}


class AuditHead(models.Model):
    """The one row naming the last event; appends lock it so the chain never forks."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("đầu chuỗi kiểm toán")
        verbose_name_plural = _("đầu chuỗi kiểm toán")
        default_permissions = ()
        constraints = [models.CheckConstraint(condition=Q(id=1), name="audit_audithead_single_row")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"
