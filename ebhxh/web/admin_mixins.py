"""Admin edits of audited models leave an audit event like any service write (house-style §7)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.http import HttpRequest

from ebhxh.audit.services import record_event


def _field_values(obj: models.Model) -> dict[str, Any]:
    values = {}
    for field in obj._meta.concrete_fields:
        if field.name in {"password", "last_login"}:
            continue  # never copy password hashes into the trail
        value = getattr(obj, field.attname)
        values[field.name] = (
            value
            if isinstance(value, str | int | float | bool | type(None))
            else DjangoJSONEncoder().default(value)
        )
    return values


class AuditedModelAdmin(admin.ModelAdmin):
    """Records `<model>:admin_create` / `<model>:admin_update` with before and after of changed fields."""

    audit_prefix = ""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        prefix = self.audit_prefix or obj._meta.model_name
        with transaction.atomic():
            before = _field_values(type(obj).objects.get(pk=obj.pk)) if change else {}
            super().save_model(request, obj, form, change)
            after = _field_values(obj)
            changed = [k for k in after if before.get(k) != after[k]]
            if change and not changed:
                return
            record_event(
                f"{prefix}:admin_{'update' if change else 'create'}",
                subject=obj,
                request=request,
                before={k: before.get(k) for k in changed} if change else None,
                after={k: after[k] for k in changed},
            )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Registry and account rows are kept for the record; deactivate instead of deleting.
        return False
