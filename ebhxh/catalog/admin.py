"""Admin for every catalogue. The data files stay the source of truth: an edit made here is
overwritten by the next `manage.py load_catalogues` unless the data file is changed too."""

from __future__ import annotations

from django.contrib import admin

from ebhxh.catalog.models import (
    Agency,
    ChangeType,
    Commune,
    ContributionRate,
    Ethnicity,
    Form,
    IVanProvider,
    LegacyProvince,
    MinimumWage,
    Nationality,
    Procedure,
    ProcedureForm,
    Province,
    ReferenceSalary,
)

EFFECTIVE_DISPLAY = ("effective_from", "effective_to")
EFFECTIVE_FILTERS = ("effective_from", "effective_to")


class LegacyProvinceInline(admin.TabularInline):
    model = LegacyProvince
    fk_name = "successor"
    extra = 0
    fields = ("code", "name")


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "division_type", *EFFECTIVE_DISPLAY)
    list_filter = ("division_type", *EFFECTIVE_FILTERS)
    search_fields = ("code", "name")
    inlines = [LegacyProvinceInline]


@admin.register(LegacyProvince)
class LegacyProvinceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "successor")
    list_filter = ("successor",)
    search_fields = ("code", "name", "successor__name")
    list_select_related = ("successor",)


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "division_type", "province")
    list_filter = ("division_type", "province")
    search_fields = ("code", "name")
    list_select_related = ("province",)
    autocomplete_fields = ("province",)


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "province", *EFFECTIVE_DISPLAY)
    list_filter = ("level", "province", *EFFECTIVE_FILTERS)
    search_fields = ("code", "name")
    list_select_related = ("parent", "province")
    autocomplete_fields = ("parent", "province")


@admin.register(Form)
class FormAdmin(admin.ModelAdmin):
    list_display = ("code", "portal_id", "name", "kind", "signature_node", *EFFECTIVE_DISPLAY)
    list_filter = ("kind", *EFFECTIVE_FILTERS)
    search_fields = ("code", "portal_id", "name", "name_en")


class ProcedureFormInline(admin.TabularInline):
    model = ProcedureForm
    extra = 0
    fields = ("position", "form", "required")
    autocomplete_fields = ("form",)


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "field",
        "time_limit_days",
        "time_limit_confirmed",
        "signature_required",
        *EFFECTIVE_DISPLAY,
    )
    list_filter = ("field", "time_limit_confirmed", "signature_required", *EFFECTIVE_FILTERS)
    search_fields = ("code", "name", "name_en")
    inlines = [ProcedureFormInline]


@admin.register(ChangeType)
class ChangeTypeAdmin(admin.ModelAdmin):
    list_display = ("list_code", "code", "name", "direction", *EFFECTIVE_DISPLAY)
    list_filter = ("list_code", "direction", *EFFECTIVE_FILTERS)
    search_fields = ("code", "name")


@admin.register(MinimumWage)
class MinimumWageAdmin(admin.ModelAdmin):
    list_display = ("region", "amount", *EFFECTIVE_DISPLAY, "legal_basis")
    list_filter = ("region", *EFFECTIVE_FILTERS)
    search_fields = ("legal_basis",)


@admin.register(ReferenceSalary)
class ReferenceSalaryAdmin(admin.ModelAdmin):
    list_display = ("amount", *EFFECTIVE_DISPLAY, "legal_basis")
    list_filter = EFFECTIVE_FILTERS
    search_fields = ("legal_basis",)


@admin.register(ContributionRate)
class ContributionRateAdmin(admin.ModelAdmin):
    list_display = ("fund", "employer_rate", "employee_rate", *EFFECTIVE_DISPLAY, "legal_basis")
    list_filter = ("fund", *EFFECTIVE_FILTERS)
    search_fields = ("fund", "legal_basis")


@admin.register(IVanProvider)
class IVanProviderAdmin(admin.ModelAdmin):
    list_display = ("code", "name", *EFFECTIVE_DISPLAY)
    list_filter = EFFECTIVE_FILTERS
    search_fields = ("code", "name")


@admin.register(Ethnicity)
class EthnicityAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Nationality)
class NationalityAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
