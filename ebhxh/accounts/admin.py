from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ebhxh.accounts.models import ApiToken, User, UserRole
from ebhxh.web.admin_mixins import AuditedModelAdmin


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 0


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    audit_prefix = "user"
    inlines = [UserRoleInline]
    list_display = [
        "username",
        "full_name",
        "kind",
        "unit",
        "agency",
        "is_unit_account",
        "is_active",
    ]
    list_filter = ["kind", "is_active", "is_unit_account", "agency"]
    search_fields = ["username", "full_name", "email", "unit__code", "unit__tax_code"]
    autocomplete_fields = ["unit", "agency"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Thông tin"), {"fields": ["full_name", "email", "phone", "preferred_language"]}),
        (_("Phạm vi"), {"fields": ["kind", "unit", "is_unit_account", "agency"]}),
        (_("Quyền"), {"fields": ["is_active", "is_staff", "is_superuser"]}),
        (_("Thời gian"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "kind", "unit", "agency", "password1", "password2"],
            },
        ),
    ]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only: unit tokens are created and revoked by the unit's admins (accounts.services),
    I-VAN tokens by `ebhxh create_ivan_token`."""

    list_display = [
        "name",
        "unit",
        "ivan",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "unit__code", "unit__tax_code"]
    exclude = ["token_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
