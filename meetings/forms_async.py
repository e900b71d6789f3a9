"""Forms of the questions asked between meetings (issue #17, item 4; meetings.async_decisions)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from lib.forms import NOTE_MAX, VNDateTimeField, long_text_field

from .models import AsyncBallot, AsyncDecisionDocument, Vote


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); the service checks each one."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class AsyncDecisionForm(forms.Form):
    question = forms.CharField(label=_("Nội dung xin ý kiến"), max_length=255)
    details = long_text_field(label=_("Thuyết minh (không bắt buộc)"), required=False, rows=4)
    kind = forms.ChoiceField(
        label=_("Loại biểu quyết"),
        choices=Vote.Kind.choices,
        initial=Vote.Kind.OTHER,
        help_text=_("Kết nạp, công nhận đảng viên chính thức cần từ 2/3 trở lên; nội dung khác cần trên 1/2."),
    )
    deadline = VNDateTimeField(
        label=_("Hạn trả lời"), help_text=_("Ngày giờ theo giờ Việt Nam, ví dụ 15/12/2026 17:00.")
    )
    documents = MultipleFileField(label=_("Tài liệu (PDF, DOCX, XLSX, JPG, PNG; mỗi tệp tối đa 10 MB)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].widget.attrs["accept"] = ",".join(f".{ext}" for ext in AsyncDecisionDocument.ALLOWED)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "question",
            "details",
            "kind",
            "deadline",
            "documents",
            Div(Submit("submit", _("Gửi xin ý kiến"), css_class="btn-lg"), css_class="mt-3"),
        )


class AsyncAnswerForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Ý kiến biểu quyết"),
        choices=[c for c in AsyncBallot.Choice.choices if c[0]],
        widget=forms.RadioSelect(attrs={"class": "btn-check visually-hidden"}),
        required=False,
    )
    comment = long_text_field(label=_("Ý kiến (không bắt buộc)"), required=False, max_length=NOTE_MAX, rows=3)

    def __init__(self, *args, voter: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not voter:
            del self.fields["choice"]
            self.fields["comment"].label = _("Ý kiến của đồng chí")
        # Rendered by hand in meetings/async_answer.html: the choices as large buttons for a phone.
