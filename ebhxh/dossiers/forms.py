"""Forms of the unit's dossier pages (docs/intake-web.md)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ebhxh.catalog.models import Procedure
from ebhxh.declarations.forms import Month, PartialDate
from ebhxh.dossiers import drafts
from ebhxh.dossiers.models import Status

DATE_FORMATS = ["%d/%m/%Y"]


def _text(**attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs=attrs)


class _Choices:
    fields: dict[str, forms.Field]

    def _choice(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Trạng thái"), required=False, choices=[("", _("Tất cả"))] + list(Status.choices)
    )
    period = forms.CharField(
        label=_("Kỳ kê khai"), required=False, max_length=7, widget=_text(placeholder="MM/YYYY")
    )


class DraftForm(_Choices, forms.Form):
    procedure = forms.ChoiceField(label=_("Thủ tục"))
    period = forms.CharField(
        label=_("Kỳ kê khai"),
        max_length=7,
        widget=_text(placeholder="MM/YYYY", inputmode="numeric"),
        help_text=_("Tháng và năm, ví dụ 07/2026."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        procedures = Procedure.objects.in_force(timezone.localdate()).order_by("code")
        self._choice("procedure").choices = [(p.code, f"{p.code} – {p.name}") for p in procedures]
        if not self.is_bound:
            self.initial.setdefault("procedure", "600")
            self.initial.setdefault("period", f"{timezone.localdate():%m/%Y}")

    def clean_period(self) -> str:
        value: str = self.cleaned_data["period"].strip()
        try:
            Month.parse(value)
        except ValueError:
            raise forms.ValidationError(_("Kỳ kê khai phải có dạng MM/YYYY.")) from None
        return value


CONTRACT_KINDS = [
    ("", "—"),
    ("indefinite", _("HĐLĐ không xác định thời hạn")),
    ("fixed", _("HĐLĐ xác định thời hạn")),
    ("other", _("HĐ khác (thử việc…)")),
]
_CONTRACT_FIELDS = {
    "indefinite": ("contract_indefinite_from", None),
    "fixed": ("contract_fixed_from", "contract_fixed_to"),
    "other": ("contract_other_from", "contract_other_to"),
}


class RowForm(_Choices, forms.Form):
    """One D02-TS row: the columns units fill on the portal. Values are kept as the text the
    forms carry ("17/05/1990", "07/2026", "6500000")."""

    pa = forms.ChoiceField(label=_("Phương án"))
    full_name = forms.CharField(label=_("Họ và tên"), max_length=100)
    bhxh_code = forms.CharField(
        label=_("Mã số BHXH"),
        max_length=10,
        required=False,
        widget=_text(inputmode="numeric"),
        help_text=_("Để trống nếu người lao động chưa có mã số BHXH."),
    )
    birth_date = forms.CharField(
        label=_("Ngày sinh"),
        max_length=10,
        widget=_text(placeholder="dd/mm/yyyy"),
        help_text=_("dd/mm/yyyy, mm/yyyy hoặc chỉ năm sinh."),
    )
    gender = forms.ChoiceField(label=_("Giới tính"), choices=[("1", _("Nam")), ("0", _("Nữ"))])
    personal_id = forms.CharField(
        label=_("Số CCCD/ĐDCN/Hộ chiếu"),
        max_length=20,
        required=False,
        widget=_text(inputmode="numeric"),
    )
    position = forms.CharField(label=_("Chức vụ, chức danh nghề"), max_length=500)
    workplace = forms.CharField(label=_("Nơi làm việc"), max_length=500, required=False)
    salary = forms.CharField(
        label=_("Mức lương (đồng) hoặc hệ số"),
        max_length=20,
        widget=_text(inputmode="decimal"),
        help_text=_("Ví dụ 6.500.000 hoặc hệ số 2,34."),
    )
    allowance_position = forms.CharField(
        label=_("Phụ cấp chức vụ"), max_length=20, required=False, widget=_text(inputmode="decimal")
    )
    allowance_salary = forms.CharField(
        label=_("Phụ cấp lương"), max_length=20, required=False, widget=_text(inputmode="decimal")
    )
    allowance_other = forms.CharField(
        label=_("Các khoản bổ sung"),
        max_length=20,
        required=False,
        widget=_text(inputmode="decimal"),
    )
    contract_kind = forms.ChoiceField(
        label=_("Loại hợp đồng"), choices=CONTRACT_KINDS, required=False
    )
    contract_from = forms.DateField(
        label=_("Hợp đồng từ ngày"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy"}),
    )
    contract_to = forms.DateField(
        label=_("Hợp đồng đến ngày"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy"}),
    )
    from_month = forms.CharField(
        label=_("Từ tháng"), max_length=7, widget=_text(placeholder="MM/YYYY")
    )
    to_month = forms.CharField(
        label=_("Đến tháng"), max_length=7, required=False, widget=_text(placeholder="MM/YYYY")
    )
    has_book = forms.BooleanField(label=_("Đã có sổ BHXH"), required=False)
    note = forms.CharField(
        label=_("Ghi chú"),
        max_length=500,
        required=False,
        help_text=_("Số, ngày hợp đồng hoặc quyết định."),
    )

    # The D02Row fields this form edits (others of an imported row are kept as they are).
    ROW_FIELDS = (
        "pa",
        "kind",
        "full_name",
        "bhxh_code",
        "birth_date",
        "gender",
        "personal_id",
        "position",
        "workplace",
        "salary",
        "allowance_position",
        "allowance_salary",
        "allowance_other",
        "contract_indefinite_from",
        "contract_fixed_from",
        "contract_fixed_to",
        "contract_other_from",
        "contract_other_to",
        "from_month",
        "to_month",
        "has_book",
        "note",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choice("pa").choices = [
            (code, f"{code} – {name}") for code, name, _d in drafts.change_types()
        ]

    @classmethod
    def initial_from(cls, row: dict[str, str]) -> dict[str, Any]:
        initial: dict[str, Any] = {k: v for k, v in row.items() if k in cls.base_fields}
        initial["has_book"] = row.get("has_book") == "1"
        for kind, (start, end) in _CONTRACT_FIELDS.items():
            if row.get(start):
                initial["contract_kind"] = kind
                initial["contract_from"] = row[start]
                initial["contract_to"] = row.get(end or "", "")
        return initial

    def _number(self, name: str) -> str:
        value: str = self.cleaned_data.get(name, "").strip()
        if not value:
            return ""
        try:
            number = drafts.parse_number(value)
        except (ValueError, ArithmeticError):
            raise forms.ValidationError(_("Không phải là số.")) from None
        if number < 0:
            raise forms.ValidationError(_("Không được là số âm."))
        return str(number)

    def clean_salary(self) -> str:
        return self._number("salary")

    def clean_allowance_position(self) -> str:
        return self._number("allowance_position")

    def clean_allowance_salary(self) -> str:
        return self._number("allowance_salary")

    def clean_allowance_other(self) -> str:
        return self._number("allowance_other")

    def clean_birth_date(self) -> str:
        value: str = self.cleaned_data["birth_date"].strip()
        try:
            return str(PartialDate.parse(value))
        except ValueError:
            raise forms.ValidationError(
                _("Ngày sinh phải có dạng dd/mm/yyyy, mm/yyyy hoặc yyyy.")
            ) from None

    def _month(self, name: str) -> str:
        value: str = self.cleaned_data.get(name, "").strip()
        if not value:
            return ""
        try:
            return str(Month.parse(value))
        except ValueError:
            raise forms.ValidationError(_("Tháng phải có dạng MM/YYYY.")) from None

    def clean_from_month(self) -> str:
        return self._month("from_month")

    def clean_to_month(self) -> str:
        return self._month("to_month")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("contract_kind")
        if kind and not data.get("contract_from"):
            self.add_error("contract_from", _("Cần ngày bắt đầu hợp đồng."))
        if kind == "indefinite" and data.get("contract_to"):
            self.add_error("contract_to", _("HĐLĐ không xác định thời hạn không có ngày kết thúc."))
        return data

    def row(self) -> dict[str, str]:
        """The cleaned values as a draft row (text by D02Row field name)."""
        data = self.cleaned_data
        row = {
            name: data.get(name, "")
            for name in (
                "pa",
                "full_name",
                "bhxh_code",
                "birth_date",
                "gender",
                "personal_id",
                "position",
                "workplace",
                "salary",
                "allowance_position",
                "allowance_salary",
                "allowance_other",
                "from_month",
                "to_month",
                "note",
            )
        }
        row["full_name"] = " ".join(row["full_name"].split())
        row["has_book"] = "1" if data.get("has_book") else "0"
        row["kind"] = drafts._kind_of(row["pa"]) or ""
        kind = data.get("contract_kind")
        if kind:
            start, end = _CONTRACT_FIELDS[kind]
            row[start] = data["contract_from"].strftime("%d/%m/%Y")
            if end and data.get("contract_to"):
                row[end] = data["contract_to"].strftime("%d/%m/%Y")
        return {k: v for k, v in row.items() if v}


class RegistryForm(_Choices, forms.Form):
    pa = forms.ChoiceField(label=_("Phương án cho các dòng thêm"))
    employments = forms.TypedMultipleChoiceField(
        label=_("Người lao động"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choice("pa").choices = [
            (code, f"{code} – {name}") for code, name, _d in drafts.change_types()
        ]
        self._choice("employments").choices = choices
        if not self.is_bound:
            self.initial.setdefault("pa", "TM")


class AttachForm(forms.Form):
    file = forms.FileField(
        label=_("Tệp"),
        help_text=_(
            "Tờ khai XML (D02-TS, TK1-TS, D01-TS…) từ phần mềm khác, tệp Excel D02-TS theo mẫu, "
            "hoặc chứng từ đi kèm (pdf, jpg, png, docx, xlsx)."
        ),
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Tệp hồ sơ BHXHDienTu.xml đã ký"),
        help_text=_("Hồ sơ đã ký số bằng phần mềm khác (phần mềm kê khai, I-VAN)."),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Lý do rút hồ sơ"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    confirm = forms.BooleanField(label=_("Tôi xác nhận rút hồ sơ này."))


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Mã xác nhận 6 chữ số"),
        min_length=6,
        max_length=6,
        widget=_text(inputmode="numeric", autocomplete="one-time-code"),
    )


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Lý do trả lại"), max_length=500, required=False)
