"""Admin: the routing of procedures to departments is edited here (audited); cases, steps,
supplement requests and messages are read-only (every write goes through services.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ebhxh.processing.models import Case, Routing, Step
from ebhxh.web.admin_mixins import AuditedModelAdmin


@admin.register(Routing)
class RoutingAdmin(AuditedModelAdmin):
    audit_prefix = "processing:routing"
    list_display = ["procedure", "department", "note"]
    list_filter = ["department"]
    search_fields = ["procedure__code", "procedure__name"]
    autocomplete_fields = ["procedure"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StepInline(admin.TabularInline):
    model = Step
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "seq",
        "action",
        "from_stage",
        "stage",
        "department",
        "officer",
        "assignee",
        "at",
        "note",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "unit_code",
        "procedure_code",
        "stage",
        "department",
        "assigned_to",
        "due_date",
    ]
    list_filter = ["stage", "department", "agency"]
    search_fields = ["number", "unit_code", "unit_tax_code"]
    inlines = [StepInline]
