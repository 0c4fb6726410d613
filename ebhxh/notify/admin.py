"""Read-only views of sent e-mails and one-time codes: what went out, to whom, and what failed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ebhxh.notify.models import OneTimeCode, OutboundEmail


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(_ReadOnly):
    list_display = ("created_at", "template", "purpose", "recipients", "status", "attempts")
    list_filter = ("status", "template", "created_at")
    search_fields = ("to", "subject", "purpose", "=message_id")
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "created_at",
        "sent_at",
        "to",
        "subject",
        "template",
        "purpose",
        "language",
        "unit",
        "status",
        "attempts",
        "error",
        "message_id",
        "attachments",
    )
    readonly_fields = fields

    @admin.display(description=_("người nhận"))
    def recipients(self, obj: OutboundEmail) -> str:
        return ", ".join(obj.to)


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(_ReadOnly):
    list_display = ("created_at", "email", "purpose", "subject_ref", "status", "attempts")
    list_filter = ("status", "purpose", "created_at")
    search_fields = ("email", "subject_ref")
    date_hierarchy = "created_at"
    fields = (
        "email",
        "purpose",
        "subject_ref",
        "status",
        "attempts",
        "created_at",
        "expires_at",
        "used_at",
    )
    readonly_fields = fields
