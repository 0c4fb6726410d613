from django.contrib import admin

from ebhxh.units.models import Employment, EmploymentChange, Participant, Unit
from ebhxh.web.admin_mixins import AuditedModelAdmin


@admin.register(Unit)
class UnitAdmin(AuditedModelAdmin):
    audit_prefix = "unit"
    list_display = ["code", "name", "tax_code", "managing_agency", "wage_region", "etx_status"]
    list_filter = ["etx_status", "wage_region", "unit_type", "managing_agency"]
    search_fields = ["code", "tax_code", "name"]
    autocomplete_fields = ["managing_agency", "commune"]


@admin.register(Participant)
class ParticipantAdmin(AuditedModelAdmin):
    audit_prefix = "participant"
    list_display = ["full_name", "bhxh_code", "personal_id", "birth_date", "gender"]
    search_fields = ["full_name", "bhxh_code", "personal_id"]
    list_filter = ["gender"]
    autocomplete_fields = ["commune"]


class EmploymentChangeInline(admin.TabularInline):
    model = EmploymentChange
    extra = 0
    can_delete = False
    readonly_fields = ["effective_month", "change_type", "changes", "note", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Employment)
class EmploymentAdmin(AuditedModelAdmin):
    audit_prefix = "employment"
    list_display = [
        "participant",
        "unit",
        "position",
        "salary_amount",
        "start_month",
        "end_month",
        "status",
    ]
    list_filter = ["status", "contract_type", "job_group"]
    search_fields = [
        "participant__full_name",
        "participant__bhxh_code",
        "unit__code",
        "unit__tax_code",
    ]
    autocomplete_fields = ["unit", "participant"]
    inlines = [EmploymentChangeInline]
