"""A read-only audit log in the admin: no add, change or delete, for anyone."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ebhxh.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "seq",
        "time",
        "tag",
        "actor_name",
        "subject_type",
        "subject_repr",
        "ip",
        "request_id",
    )
    list_filter = ("tag", "time", "actor")
    search_fields = (
        "tag",
        "actor_name",
        "subject_type",
        "subject_id",
        "subject_repr",
        "request_id",
        "=hash",
    )
    date_hierarchy = "time"
    ordering = ("-seq",)
    list_select_related = ("actor",)
    show_full_result_count = False  # COUNT(*) over a long trail on every page is wasted work
    readonly_fields = (
        "seq",
        "time",
        "actor",
        "actor_name",
        "tag",
        "subject_type",
        "subject_id",
        "subject_repr",
        "data",
        "request_id",
        "ip",
        "prev_hash",
        "hash",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
