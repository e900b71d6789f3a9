from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Div, Fieldset, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Member, Organisation
from .selectors import cells_for_member_forms, organisations_visible_to


class VNDateInput(forms.DateInput):
    """A plain text date field in dd/mm/yyyy: what the paper forms use, and easy to type on a phone."""

    def __init__(self, attrs=None):
        defaults = {"placeholder": "dd/mm/yyyy", "inputmode": "numeric", "autocomplete": "off"}
        super().__init__(attrs={**defaults, **(attrs or {})}, format="%d/%m/%Y")


class VNDateField(forms.DateField):
    widget = VNDateInput
    default_error_messages = {"invalid": _("Nhập ngày theo dạng ngày/tháng/năm, ví dụ 05/02/2026.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"])
        super().__init__(**kwargs)


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError next to the fields it names (or on top of the form)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.error_dict.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        form.add_error(None, error)


def _submit(label):
    return Submit("submit", label, css_class="btn-lg")


class MemberForm(forms.ModelForm):
    date_of_birth = VNDateField(label=_("Ngày sinh"), required=False)
    admission_decision_date = VNDateField(label=_("Ngày quyết định kết nạp"), required=False)
    admission_ceremony_date = VNDateField(label=_("Ngày lễ kết nạp"), required=False)
    full_membership_date = VNDateField(label=_("Ngày công nhận chính thức"), required=False)

    class Meta:
        model = Member
        fields = [
            "full_name", "date_of_birth", "sex", "citizen_id", "phone", "email", "party_card_number",
            "admission_decision_date", "admission_ceremony_date", "full_membership_date", "status",
            "workplace", "job_title", "dues_category", "dues_base",
        ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Fieldset(
                _("Thông tin cá nhân"),
                "full_name",
                Row(Column("date_of_birth", css_class="col-sm-6"), Column("sex", css_class="col-sm-6")),
                Row(Column("citizen_id", css_class="col-sm-6"), Column("phone", css_class="col-sm-6")),
                "email",
            ),
            Fieldset(
                _("Thông tin đảng viên"),
                Row(Column("party_card_number", css_class="col-sm-6"), Column("status", css_class="col-sm-6")),
                Row(
                    Column("admission_decision_date", css_class="col-sm-4"),
                    Column("admission_ceremony_date", css_class="col-sm-4"),
                    Column("full_membership_date", css_class="col-sm-4"),
                ),
                Row(Column("workplace", css_class="col-sm-6"), Column("job_title", css_class="col-sm-6")),
                Row(Column("dues_category", css_class="col-sm-6"), Column("dues_base", css_class="col-sm-6")),
            ),
            Div(_submit(_("Lưu")), css_class="mt-3"),
        )

    def _post_clean(self):
        # Model validation (including uniqueness) is the service's job; it runs in the transaction.
        pass

    def clean_citizen_id(self):
        value = (self.cleaned_data.get("citizen_id") or "").strip()
        if value and (not value.isdigit() or len(value) != 12):
            raise ValidationError(_("Số CCCD gồm đúng 12 chữ số."))
        return value or None

    def clean_party_card_number(self):
        return (self.cleaned_data.get("party_card_number") or "").strip() or None


class MemberCreateForm(MemberForm):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), label=_("Chi bộ"))
    joined_on = VNDateField(label=_("Ngày bắt đầu sinh hoạt tại chi bộ"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["organisation"].queryset = cells_for_member_forms(user)
        self.helper.layout.insert(0, Fieldset(_("Chi bộ"), Row(Column("organisation", css_class="col-sm-8"),
                                                              Column("joined_on", css_class="col-sm-4"))))


class TransferForm(forms.Form):
    to = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        label=_("Chuyển đến chi bộ"),
        required=False,
        empty_label=_("— Chuyển ra ngoài Đảng bộ Khối —"),
    )
    on = VNDateField(label=_("Ngày chuyển"))
    reason = forms.CharField(label=_("Lý do"), max_length=255, required=False)

    def __init__(self, *args, user, member, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = cells_for_member_forms(user).exclude(pk=member.organisation_id)
        self.helper = FormHelper()
        self.helper.layout = Layout("to", "on", "reason", _submit(_("Chuyển sinh hoạt")))


class ExemptionForm(forms.Form):
    reason = forms.CharField(label=_("Lý do"), max_length=255)
    resolution_ref = forms.CharField(label=_("Số nghị quyết / quyết định"), max_length=60, required=False)
    start = VNDateField(label=_("Từ ngày"))
    end = VNDateField(label=_("Đến ngày"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "reason", "resolution_ref", Row(Column("start", css_class="col-6"), Column("end", css_class="col-6")),
            _submit(_("Ghi nhận miễn sinh hoạt")),
        )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("Ngày kết thúc phải sau ngày bắt đầu."))
        return data


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=_("Tìm theo tên, số thẻ, điện thoại"), required=False)
    cell = forms.ModelChoiceField(queryset=Organisation.objects.none(), label=_("Chi bộ"), required=False,
                                  empty_label=_("Tất cả chi bộ"))
    status = forms.ChoiceField(label=_("Loại đảng viên"), required=False,
                               choices=[("", _("Tất cả"))] + list(Member.Status.choices))
    exempt = forms.ChoiceField(label=_("Miễn sinh hoạt"), required=False,
                               choices=[("", _("Tất cả")), ("yes", _("Đang miễn")), ("no", _("Không miễn"))])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cell"].queryset = organisations_visible_to(user).filter(kind__in=Organisation.CELL_KINDS)

