"""Forms of the back-office pages (docs/processing.md "Back office"): the queue's filters and one
small form per workflow action. They only shape input; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from ebhxh.accounts.models import User
from ebhxh.processing.models import Department, Outcome, Stage
from ebhxh.processing.services import MESSAGE_MAX

NOTE = forms.CharField(
    label=_("Ghi chú nội bộ"),
    required=False,
    max_length=1000,
    widget=forms.TextInput(attrs={"placeholder": _("Chỉ cán bộ xem được")}),
)


class QueueFilterForm(forms.Form):
    procedure = forms.CharField(label=_("Thủ tục"), required=False, max_length=10)
    unit = forms.CharField(label=_("Mã đơn vị"), required=False, max_length=20)
    stage = forms.ChoiceField(
        label=_("Bước"), required=False, choices=[("", _("Đang giải quyết")), *Stage.choices]
    )
    due_before = forms.DateField(
        label=_("Hẹn trả đến ngày"),
        required=False,
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy", "size": 10}),
    )
    overdue = forms.ChoiceField(
        label=_("Thời hạn"),
        required=False,
        choices=[("", _("Tất cả")), ("1", _("Chỉ hồ sơ quá hạn")), ("0", _("Chưa quá hạn"))],
    )


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Tìm hồ sơ"),
        required=False,
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("Số hồ sơ, mã đơn vị, mã số thuế hoặc mã số BHXH"),
                "type": "search",
            }
        ),
    )


class AcceptForm(forms.Form):
    department = forms.ChoiceField(label=_("Chuyển phòng giải quyết"), choices=Department.choices)
    note = NOTE


class SupplementItemForm(forms.Form):
    subject = forms.CharField(label=_("Đối tượng, tờ khai"), required=False, max_length=300)
    issue = forms.CharField(label=_("Chưa đúng, chưa đủ"), required=False, max_length=1000)
    guidance = forms.CharField(label=_("Hướng dẫn bổ sung"), required=False, max_length=1000)

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not any((data.get(k) or "").strip() for k in ("subject", "issue", "guidance"))


SupplementFormSet = forms.formset_factory(SupplementItemForm, extra=3, max_num=20)


class SupplementNoteForm(forms.Form):
    note = NOTE


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Cán bộ xử lý"), queryset=User.objects.none())
    note = NOTE

    def __init__(self, *args: Any, officers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = officers


class ForwardForm(forms.Form):
    department = forms.ChoiceField(label=_("Chuyển đến phòng"), choices=())
    note = NOTE

    def __init__(self, *args: Any, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(v, label) for v, label in Department.choices if v != current]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class CompleteForm(forms.Form):
    result = forms.CharField(
        label=_("Kết quả giải quyết"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Ghi trên quá trình xử lý đơn vị xem được."),
    )
    note = NOTE
    fingerprint = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)
    accept = forms.MultipleChoiceField(
        label=_("Chấp nhận xung đột"),
        required=False,
        choices=(),
        widget=forms.CheckboxSelectMultiple,
    )

    outcome = forms.ChoiceField(
        label=_("Kết quả"),
        required=False,
        choices=[("", _("Xác định theo các dòng (không có dòng từ chối: chấp nhận)"))]
        + list(Outcome.choices),
    )
    refused_lines = forms.CharField(
        label=_("Các trường hợp không chấp nhận"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Mỗi dòng một trường hợp: đối tượng | lý do, hoặc đối tượng | nội dung | lý do "
            "(ví dụ: Nguyễn Văn A | Tăng mới | Sai ngày sinh)."
        ),
    )
    documents = MultipleFileField(
        label=_("Tài liệu kết quả"),
        required=False,
        help_text=_("PDF, ảnh, Excel hoặc Word; mỗi tệp được ghi mã băm trong thông báo 03/TB-TS."),
    )

    def __init__(self, *args: Any, conflicts: list[str] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        field = self.fields["accept"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(c, c) for c in conflicts]

    def clean_refused_lines(self) -> list[dict[str, str]]:
        items = []
        for number, line in enumerate(self.cleaned_data.get("refused_lines", "").splitlines(), 1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) not in (2, 3) or not all(parts):
                raise forms.ValidationError(
                    _(
                        "Dòng %(n)s: ghi theo mẫu “đối tượng | lý do” hoặc “đối tượng | nội dung | lý do”."
                    )
                    % {"n": number}
                )
            subject, reason = parts[0], parts[-1]
            with override("vi"):  # the notice's text is Vietnamese whatever the page's language
                default = str(_("Không chấp nhận"))
            description = parts[1] if len(parts) == 3 else default
            items.append(
                {"subject": subject[:300], "description": description[:500], "reason": reason[:500]}
            )
        return items


class NoteForm(forms.Form):
    note = NOTE


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Tin nhắn"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
