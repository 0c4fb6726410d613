from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ebhxh.catalog.models import Agency, IVanProvider, Procedure
from ebhxh.lib import identifiers
from ebhxh.registrations.models import Registration
from ebhxh.units.models import Unit

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
ATTACHMENT_TYPES = (".pdf", ".jpg", ".jpeg", ".png")

SIGNATURE_CHOICES = [
    ("1", _("Có chữ ký số (chứng thư số trên USB token)")),
    ("0", _("Không sử dụng chữ ký số (xác nhận bằng mã gửi qua email)")),
]


def _procedure_choices() -> list[tuple[str, str]]:
    return [
        (p.code, f"{p.code} – {p.name}")
        for p in Procedure.objects.in_force(timezone.localdate()).order_by("code")
    ]


def _agencies() -> Any:
    return Agency.objects.in_force(timezone.localdate()).order_by("code")


class _Contact(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ivans = IVanProvider.objects.in_force(timezone.localdate()).order_by("code")
        self.fields["ivan"].queryset = ivans  # type: ignore[attr-defined]

    registered_address = forms.CharField(label=_("Địa chỉ trụ sở"), max_length=400)
    contact_address = forms.CharField(label=_("Địa chỉ liên hệ"), max_length=400, required=False)
    head_name = forms.CharField(label=_("Thủ trưởng đơn vị"), max_length=200)
    contact_person = forms.CharField(label=_("Người liên hệ"), max_length=200)
    email = forms.EmailField(
        label=_("Email nhận thông báo và kết quả"),
        help_text=_("Tài khoản và thông báo của cơ quan BHXH được gửi tới địa chỉ này."),
    )
    phone = forms.CharField(label=_("Điện thoại đơn vị"), max_length=30)
    contact_phone = forms.CharField(
        label=_("Điện thoại người liên hệ"), max_length=30, required=False
    )
    procedures = forms.MultipleChoiceField(
        label=_("Thủ tục đăng ký giao dịch điện tử"),
        choices=_procedure_choices,
        widget=forms.CheckboxSelectMultiple,
    )
    delivery = forms.ChoiceField(
        label=_("Phương thức nhận kết quả"),
        choices=Registration.Delivery.choices,
        initial=Registration.Delivery.ELECTRONIC,
    )
    ivan = forms.ModelChoiceField(
        label=_("Nộp hồ sơ qua I-VAN"),
        queryset=IVanProvider.objects.none(),
        required=False,
        empty_label=_("Không qua I-VAN (đơn vị tự nộp trên cổng hoặc bằng phần mềm của mình)"),
        help_text=_(
            "I-VAN được chọn có thể nộp hồ sơ thay đơn vị qua API; hồ sơ vẫn phải có chữ ký số "
            "của đơn vị."
        ),
    )
    uses_signature = forms.TypedChoiceField(
        label=_("Hình thức xác thực"),
        choices=SIGNATURE_CHOICES,
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        initial="1",
    )

    def clean_phone(self) -> str:
        return _phone(self.cleaned_data["phone"])

    def clean_contact_phone(self) -> str:
        value = self.cleaned_data.get("contact_phone") or ""
        return _phone(value) if value else ""


def _phone(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit() or ch == "+")
    if len(digits.lstrip("+")) < 9 or len(digits) > 15:
        raise forms.ValidationError(_("Số điện thoại không hợp lệ."))
    return value.strip()


class RegistrationForm(_Contact):
    """01/ĐK-GĐ on the public page."""

    field_order = [
        "unit_name",
        "tax_code",
        "unit_code",
        "unit_type",
        "managing_agency",
        "wage_region",
        "registered_address",
        "contact_address",
        "head_name",
        "contact_person",
        "email",
        "phone",
        "contact_phone",
        "procedures",
        "delivery",
        "ivan",
        "uses_signature",
        "attachment",
        "commitment",
    ]
    unit_name = forms.CharField(label=_("Tên đơn vị"), max_length=300)
    tax_code = forms.CharField(label=_("Mã số thuế"), max_length=14)
    unit_code = forms.CharField(
        label=_("Mã đơn vị"),
        max_length=7,
        required=False,
        help_text=_("Bỏ trống nếu đơn vị chưa có mã đơn vị: cơ quan BHXH sẽ cấp khi duyệt."),
    )
    unit_type = forms.ChoiceField(label=_("Loại hình đơn vị"), choices=Unit.UnitType.choices)
    managing_agency = forms.ModelChoiceField(
        label=_("Cơ quan BHXH quản lý"), queryset=Agency.objects.none(), empty_label=None
    )
    wage_region = forms.TypedChoiceField(
        label=_("Vùng lương tối thiểu"),
        choices=[(1, "I"), (2, "II"), (3, "III"), (4, "IV")],
        coerce=int,
    )
    attachment = forms.FileField(
        label=_("Giấy chứng nhận đăng ký doanh nghiệp (PDF hoặc ảnh, tối đa 5 MB)"),
        required=False,
        help_text=_("Bắt buộc khi đơn vị chưa có mã đơn vị."),
    )
    commitment = forms.BooleanField(
        label=_(
            "Đơn vị cam kết thông tin kê khai là đúng và chịu trách nhiệm trước pháp luật về giao dịch điện tử của mình."
        )
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["managing_agency"].queryset = _agencies()  # type: ignore[attr-defined]

    def clean_tax_code(self) -> str:
        result = identifiers.check_tax_code(self.cleaned_data["tax_code"])
        if not result.ok:
            raise forms.ValidationError(" ".join(f.message_vi for f in result.findings))
        return result.value

    def clean_unit_code(self) -> str:
        value = self.cleaned_data.get("unit_code") or ""
        if not value.strip():
            return ""
        result = identifiers.check_unit_code(value)
        if not result.ok:
            raise forms.ValidationError(" ".join(f.message_vi for f in result.findings))
        return result.value

    def clean_attachment(self) -> Any:
        upload = self.cleaned_data.get("attachment")
        if upload is None:
            return None
        if upload.size > MAX_ATTACHMENT_BYTES:
            raise forms.ValidationError(_("Tệp đính kèm lớn hơn 5 MB."))
        if not upload.name.lower().endswith(ATTACHMENT_TYPES):
            raise forms.ValidationError(_("Chỉ nhận tệp PDF, JPG hoặc PNG."))
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("unit_code") and not data.get("attachment") and not self.errors:
            self.add_error(
                "attachment",
                _("Đơn vị chưa có mã đơn vị phải đính kèm giấy chứng nhận đăng ký doanh nghiệp."),
            )
        return data

    def declaration(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("attachment", "commitment"):
            data.pop(name, None)
        return data


class ChangeForm(_Contact):
    """A change of a unit's registration (token renewal, new e-mail or phone, procedures)."""


class StopForm(forms.Form):
    stop_date = forms.DateField(
        label=_("Ngừng giao dịch điện tử từ ngày"),
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )
    stop_reason = forms.CharField(
        label=_("Lý do ngừng"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_stop_date(self) -> Any:
        value = self.cleaned_data["stop_date"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("Ngày ngừng không được trước hôm nay."))
        return value


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Mã xác nhận 6 chữ số"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class SignedUploadForm(forms.Form):
    signed = forms.FileField(label=_("Tờ khai đã ký (XML)"))

    def clean_signed(self) -> bytes:
        upload = self.cleaned_data["signed"]
        if upload.size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE * 4:
            raise forms.ValidationError(_("Tệp quá lớn."))
        data: bytes = upload.read()
        return data


class LookupForm(forms.Form):
    reference = forms.CharField(label=_("Số tham chiếu (DK-…)"), max_length=11)
    tax_code = forms.CharField(label=_("Mã số thuế"), max_length=14)


class ApproveForm(forms.Form):
    unit_code = forms.CharField(
        label=_("Mã đơn vị cấp cho đơn vị"),
        max_length=7,
        required=False,
        help_text=_("Chỉ với đơn vị đăng ký lần đầu; đã gợi ý mã còn trống tiếp theo."),
    )


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Lý do từ chối"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
