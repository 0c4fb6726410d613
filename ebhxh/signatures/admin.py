"""Admin for the trust store and the revocation cache: every write goes through the services.

Nothing here is deleted: roots are disabled, registrations withdrawn, caches replaced.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ebhxh.signatures.models import (
    IntermediateCertificate,
    OcspResponseCache,
    RegisteredCertificate,
    RevocationList,
    TrustedRoot,
)
from ebhxh.signatures.revocation import check_crl_upload, upload_crl
from ebhxh.signatures.trust import (
    TrustStoreError,
    add_trusted_root,
    check_root_certificate,
    disable_trusted_root,
)

# Plenty for any CA certificate or national CRL, small enough to keep a request sane.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024


def _read_upload(upload: Any) -> bytes:
    if upload.size > MAX_UPLOAD_BYTES:
        raise forms.ValidationError(_("Tệp quá lớn."), code="too_large")
    return upload.read()


def _adopt(target: Any, saved: Any) -> None:
    """Make the admin's unsaved instance stand for the row the service created."""
    for model_field in saved._meta.concrete_fields:
        setattr(target, model_field.attname, getattr(saved, model_field.attname))
    target._state.adding = False
    target._state.db = saved._state.db


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TrustedRootAddForm(forms.ModelForm):
    pem_text = forms.CharField(
        label=_("Chứng thư số gốc (PEM)"),
        widget=forms.Textarea(attrs={"rows": 12, "cols": 80, "spellcheck": "false"}),
        required=False,
        help_text=_("Dán nội dung từ -----BEGIN CERTIFICATE----- đến -----END CERTIFICATE-----."),
    )
    pem_file = forms.FileField(
        label=_("hoặc tải tệp chứng thư (PEM/DER)"),
        required=False,
    )

    class Meta:
        model = TrustedRoot
        fields = ["note"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        upload = data.get("pem_file")
        text = (data.get("pem_text") or "").strip()
        if bool(upload) == bool(text):
            raise forms.ValidationError(
                _("Dán nội dung PEM hoặc tải lên một tệp (chỉ một trong hai)."), code="one_source"
            )
        raw = _read_upload(upload) if upload else text.encode("utf-8")
        try:
            check_root_certificate(raw)
        except TrustStoreError as exc:
            raise forms.ValidationError(exc.message, code=exc.code, params=exc.params) from exc
        data["certificate_bytes"] = raw
        return data


@admin.register(TrustedRoot)
class TrustedRootAdmin(admin.ModelAdmin):
    list_display = [
        "subject",
        "short_fingerprint",
        "not_before",
        "not_after",
        "enabled",
        "added_at",
    ]
    list_filter = ["enabled"]
    search_fields = ["subject", "fingerprint", "note"]
    actions = ["disable_selected"]
    readonly_fields = [
        "subject",
        "fingerprint",
        "not_before",
        "not_after",
        "enabled",
        "note",
        "added_at",
        "added_by",
        "disabled_at",
        "pem",
    ]

    @admin.display(description=_("dấu vân tay SHA-256"), ordering="fingerprint")
    def short_fingerprint(self, obj: TrustedRoot) -> str:
        return f"{obj.fingerprint[:16]}…"

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        if obj is None:
            kwargs["form"] = TrustedRootAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["pem_text", "pem_file", "note"]
        return list(self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.readonly_fields) if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return  # every field is read-only; changes go through the actions
        root = add_trusted_root(
            form.cleaned_data["certificate_bytes"],
            actor=request.user,
            note=form.cleaned_data.get("note", ""),
        )
        _adopt(obj, root)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # disable instead: validations made under the root must stay explainable

    @admin.action(description=_("Tắt tin cậy các chứng thư gốc đã chọn"), permissions=["change"])
    def disable_selected(self, request: HttpRequest, queryset: QuerySet[TrustedRoot]) -> None:
        count = 0
        for root in queryset.filter(enabled=True):
            disable_trusted_root(root, actor=request.user)
            count += 1
        self.message_user(
            request,
            _("Đã tắt tin cậy %(count)d chứng thư gốc.") % {"count": count},
            messages.SUCCESS,
        )


class RevocationListUploadForm(forms.ModelForm):
    crl_file = forms.FileField(
        label=_("Tệp CRL (DER hoặc PEM)"),
        help_text=_("CRL phải do một chứng thư gốc tin cậy hoặc một CA trung gian đã biết ký."),
    )

    class Meta:
        model = RevocationList
        fields: list[str] = []

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        upload = data.get("crl_file")
        if upload:
            raw = _read_upload(upload)
            try:
                check_crl_upload(raw)
            except TrustStoreError as exc:
                raise forms.ValidationError(exc.message, code=exc.code, params=exc.params) from exc
            data["crl_bytes"] = raw
        return data


@admin.register(RevocationList)
class RevocationListAdmin(admin.ModelAdmin):
    list_display = [
        "issuer",
        "origin",
        "this_update",
        "next_update",
        "crl_number",
        "revoked_count",
        "fetched_at",
    ]
    search_fields = ["issuer", "source_url", "issuer_key_id"]
    readonly_fields = [
        "issuer",
        "issuer_key_id",
        "source_url",
        "sha256",
        "this_update",
        "next_update",
        "crl_number",
        "revoked_count",
        "fetched_at",
        "uploaded_by",
    ]

    @admin.display(description=_("nguồn"), ordering="source_url")
    def origin(self, obj: RevocationList) -> str:
        return obj.source_url or str(_("Tải lên"))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        if obj is None:
            kwargs["form"] = RevocationListUploadForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["crl_file"] if obj is None else list(self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.readonly_fields) if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return
        _adopt(obj, upload_crl(form.cleaned_data["crl_bytes"], actor=request.user))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IntermediateCertificate)
class IntermediateCertificateAdmin(_ReadOnlyAdmin):
    list_display = ["subject", "issuer", "not_after", "source", "added_at"]
    list_filter = ["source"]
    search_fields = ["subject", "issuer", "fingerprint"]


@admin.register(OcspResponseCache)
class OcspResponseCacheAdmin(_ReadOnlyAdmin):
    list_display = ["serial", "status", "source_url", "this_update", "next_update", "fetched_at"]
    list_filter = ["status"]
    search_fields = ["serial", "source_url", "issuer_key_id"]


@admin.register(RegisteredCertificate)
class RegisteredCertificateAdmin(_ReadOnlyAdmin):
    list_display = ["unit", "subject", "serial", "issuer", "not_after", "status", "registered_at"]
    list_filter = ["status", "issuer"]
    search_fields = [
        "unit__code",
        "unit__tax_code",
        "unit__name",
        "subject",
        "serial",
        "fingerprint",
    ]
    list_select_related = ["unit"]
