from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Div, Fieldset, Layout, Row, Submit
from django import forms
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lib.formatting import date_text
from lib.forms import NOTE_MAX, MonthField, VNDateField, long_text_field

from .member_excel import mapping_for, mapping_owner, read_member_sheet
from .models import (
    Candidate,
    CandidateDocument,
    CellFundEntry,
    DuesPayment,
    DuesRelief,
    Exemption,
    Member,
    Organisation,
    Position,
    RequiredDocumentType,
    Role,
    Term,
    TrainingCourse,
)
from .selectors import cells_for_member_forms, member_filter_choices, members_ever_in_cell
from .services import MONEY_MAX, organisation_check_placement


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
            "full_name",
            "date_of_birth",
            "sex",
            "citizen_id",
            "phone",
            "email",
            "party_card_number",
            "admission_decision_date",
            "admission_ceremony_date",
            "full_membership_date",
            "status",
            "workplace",
            "job_title",
            "dues_category",
            "dues_base",
            "hometown",
            "notes",
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
                "hometown",
                "notes",
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
        self.helper.layout.insert(
            0,
            Fieldset(
                _("Chi bộ"),
                Row(Column("organisation", css_class="col-sm-8"), Column("joined_on", css_class="col-sm-4")),
            ),
        )


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


class _PeriodForm(forms.Form):
    """A record that runs from ``start`` to an optional ``end`` (exemption, temporary attachment): the end
    is not before the start, said next to the end field."""

    start = VNDateField(label=_("Từ ngày"))
    end = VNDateField(label=_("Đến ngày"), required=False)

    def _layout(self, *fields, submit):
        self.helper = FormHelper()
        self.helper.layout = Layout(
            *fields, Row(Column("start", css_class="col-6"), Column("end", css_class="col-6")), _submit(submit)
        )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("Ngày kết thúc phải sau ngày bắt đầu."))
        return data


class ExemptionForm(_PeriodForm):
    reason = forms.CharField(label=_("Lý do"), max_length=255)
    resolution_ref = forms.CharField(label=_("Số nghị quyết / quyết định"), max_length=60, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._layout("reason", "resolution_ref", submit=_("Ghi nhận miễn sinh hoạt"))


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class MemberFilterForm(forms.Form):
    """The filters of the member list. The cell is chosen within a TCCS when the user sees several."""

    q = forms.CharField(label=_("Tìm theo tên, số thẻ, điện thoại"), required=False)
    # Choosing a TCCS reloads the page with its cells (data-autosubmit in the template, static/js/portal.js);
    # without script, "Lọc" does.
    tccs = forms.TypedChoiceField(
        label=_("Đảng bộ, chi bộ cơ sở"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Chọn đảng bộ cơ sở để hiện danh sách chi bộ của đảng bộ đó."),
    )
    cell = forms.TypedChoiceField(label=_("Chi bộ"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        label=_("Loại đảng viên"), required=False, choices=[("", _("Tất cả"))] + list(Member.Status.choices)
    )
    exempt = forms.ChoiceField(
        label=_("Miễn sinh hoạt"),
        required=False,
        choices=[("", _("Tất cả")), ("yes", _("Đang miễn")), ("no", _("Không miễn"))],
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        tccs_choices, cell_choices, tccs_id = member_filter_choices(
            user=user, tccs_id=_int_or_none(self.data.get("tccs")), cell_id=_int_or_none(self.data.get("cell"))
        )
        if tccs_choices:
            self.fields["tccs"].choices = [("", _("Tất cả"))] + tccs_choices
        else:
            del self.fields["tccs"]
        empty = _("Chọn đảng bộ cơ sở trước") if tccs_choices and tccs_id is None else _("Tất cả chi bộ")
        self.fields["cell"].choices = [("", empty)] + cell_choices
        if self.is_bound:
            # The TCCS a chosen cell belongs to is shown as chosen; a cell left over from another TCCS is dropped.
            self.data = self.data.copy()
            if tccs_choices:
                self.data["tccs"] = "" if tccs_id is None else str(tccs_id)
            if _int_or_none(self.data.get("cell")) not in {pk for pk, _name in cell_choices}:
                self.data["cell"] = ""


class MemberImportForm(forms.Form):
    """Step 1 of the member import: the upload, checked to be a readable .xlsx with a header row,
    and the cell of the rows that name none (an office's list of its own cell has no "Chi bộ" column)."""

    file = forms.FileField(
        label=_("Tệp Excel (.xlsx)"),
        help_text=_(
            "Sổ danh sách đảng viên như đơn vị đang dùng: dòng tiêu đề ở đâu cũng được; các cột Họ và tên, "
            "Ngày sinh, Ngày vào Đảng, Ngày chính thức, Số thẻ đảng viên, Chức vụ Đảng, Quê quán, Ghi chú… "
            "được nhận ra theo tên thường dùng. Ngày ghi theo dạng ngày/tháng/năm."
        ),
        widget=forms.FileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )
    cell = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        required=False,
        label=_("Chi bộ của danh sách"),
        empty_label=_("— Theo cột Chi bộ trong tệp —"),
        help_text=_("Các dòng không ghi chi bộ được nhập vào chi bộ này."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.sheet = None
        self.fields["cell"].queryset = cells_for_member_forms(user).order_by("path")
        self.helper = FormHelper()
        self.helper.form_action = reverse_lazy("cells:member_import")  # also shown on the confirmation's error page
        self.helper.layout = Layout("file", "cell", _submit(_("Tải lên và kiểm tra")))

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is not None and "cell" not in self.errors:
            owner = mapping_owner(user=self.user, cell=cleaned.get("cell"))
            try:
                self.sheet = read_member_sheet(upload, name=upload.name, mapping=mapping_for(organisation=owner))
            except ValidationError as error:
                self.add_error("file", error)
        return cleaned


# --- the cell's books ----------------------------------------------------------------------


class MoneyField(forms.IntegerField):
    """Whole đồng, typed as on paper: "60.000", "60 000" or "60000 đ" all read as 60000."""

    default_error_messages = {
        "invalid": _("Nhập số tiền bằng chữ số, ví dụ 60.000."),
        "min_value": _("Số tiền không được âm."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        super().__init__(**kwargs)
        self.widget.input_type = "text"
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().lower().removesuffix("đ").strip()
            value = value.replace(".", "").replace(",", "").replace(" ", "").replace("\u00a0", "")
        return super().to_python(value)


# The dues book's months keep their own example, and call a year out of range a wrong month.
DUES_MONTH_MESSAGES = {
    "invalid": _("Nhập tháng theo dạng tháng/năm, ví dụ 03/2026."),
    "year_range": _("Nhập tháng theo dạng tháng/năm, ví dụ 03/2026."),
}


class DuesPaymentForm(forms.Form):
    member = forms.ModelChoiceField(queryset=Member.objects.none(), label=_("Đảng viên"))
    month = MonthField(error_messages=DUES_MONTH_MESSAGES, label=_("Tháng"))
    amount_paid = MoneyField(label=_("Số tiền đã nộp (đồng)"))
    paid_on = VNDateField(label=_("Ngày nộp"), required=False)
    method = forms.ChoiceField(
        label=_("Hình thức nộp"), required=False, choices=[("", "—")] + list(DuesPayment.Method.choices)
    )
    note = forms.CharField(
        label=_("Ghi chú"), max_length=255, required=False, help_text=_("Bắt buộc khi nộp cao hơn mức phải nộp.")
    )

    def __init__(self, *args, cell, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members_ever_in_cell(cell=cell)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("member", css_class="col-sm-8"), Column("month", css_class="col-sm-4")),
            Row(
                Column("amount_paid", css_class="col-sm-4"),
                Column("paid_on", css_class="col-sm-4"),
                Column("method", css_class="col-sm-4"),
            ),
            "note",
            _submit(_("Ghi sổ")),
        )


class PositiveMoneyField(MoneyField):
    """Whole đồng above 0, with an upper bound that catches a typing slip (``services.MONEY_MAX``)."""

    default_error_messages = {
        "min_value": _("Số tiền phải lớn hơn 0."),
        "max_value": _("Số tiền quá lớn: kiểm tra lại số chữ số."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MONEY_MAX)
        super().__init__(**kwargs)


class DuesRemittanceForm(forms.Form):
    month = MonthField(
        error_messages=DUES_MONTH_MESSAGES, label=_("Nộp cho tháng"), help_text=_("Tháng thu đảng phí, dạng tháng/năm.")
    )
    remitted_on = VNDateField(label=_("Ngày nộp"))
    amount = PositiveMoneyField(label=_("Số tiền nộp cấp trên (đồng)"))
    receipt_number = forms.CharField(
        label=_("Số biên lai"),
        max_length=40,
        help_text=_("Số biên lai thu đảng phí do cấp trên cấp; không trùng trong sổ."),
    )
    note = forms.CharField(label=_("Ghi chú"), max_length=255, required=False)

    def __init__(self, *args, submit_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(
                Column("month", css_class="col-sm-4"),
                Column("remitted_on", css_class="col-sm-4"),
                Column("amount", css_class="col-sm-4"),
            ),
            Row(Column("receipt_number", css_class="col-sm-4"), Column("note", css_class="col-sm-8")),
            _submit(submit_label or _("Ghi sổ")),
        )


class CellFundEntryForm(forms.Form):
    kind = forms.ChoiceField(label=_("Loại"), choices=CellFundEntry.Kind.choices)
    entry_date = VNDateField(label=_("Ngày"))
    amount = PositiveMoneyField(label=_("Số tiền (đồng)"))
    voucher_number = forms.CharField(
        label=_("Số chứng từ"),
        max_length=40,
        required=False,
        help_text=_("Số phiếu thu hoặc phiếu chi; không trùng trong sổ."),
    )
    purpose = forms.CharField(label=_("Nội dung"), max_length=255)

    def __init__(self, *args, submit_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(
                Column("kind", css_class="col-sm-4"),
                Column("entry_date", css_class="col-sm-4"),
                Column("amount", css_class="col-sm-4"),
            ),
            Row(Column("voucher_number", css_class="col-sm-4"), Column("purpose", css_class="col-sm-8")),
            _submit(submit_label or _("Ghi sổ")),
        )


class DuesReliefForm(forms.Form):
    kind = forms.ChoiceField(label=_("Loại"), choices=DuesRelief.Kind.choices)
    reduction_percent = forms.TypedChoiceField(
        label=_("Mức giảm"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), (30, "30 %"), (50, "50 %"), (70, "70 %")],
    )
    start = MonthField(error_messages=DUES_MONTH_MESSAGES, label=_("Từ tháng"))
    end = MonthField(error_messages=DUES_MONTH_MESSAGES, label=_("Đến tháng"), required=False)
    reason = forms.CharField(label=_("Lý do"), max_length=255)
    decision_ref = forms.CharField(label=_("Số quyết định"), max_length=60, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("kind", css_class="col-sm-8"), Column("reduction_percent", css_class="col-sm-4")),
            Row(Column("start", css_class="col-6"), Column("end", css_class="col-6")),
            "reason",
            "decision_ref",
            _submit(_("Ghi nhận")),
        )


class CellDocumentForm(forms.Form):
    year = forms.IntegerField(label=_("Năm"), required=False)
    term = forms.ModelChoiceField(queryset=Term.objects.none(), label=_("Nhiệm kỳ"), required=False)
    adopted_on = VNDateField(label=_("Ngày ban hành"))
    file = forms.FileField(label=_("Tệp văn bản (PDF, Word .docx, ảnh JPG/PNG; tối đa 10 MB)"))

    def __init__(self, *args, cell, document_type: RequiredDocumentType, **kwargs):
        super().__init__(*args, **kwargs)
        if document_type.period == RequiredDocumentType.Period.YEAR:
            del self.fields["term"]
            self.fields["year"].required = True
            period = "year"
        else:
            del self.fields["year"]
            self.fields["term"].queryset = cell.terms.order_by("-start")
            self.fields["term"].required = True
            period = "term"
        self.fields["file"].widget.attrs["accept"] = ".pdf,.docx,.jpg,.jpeg,.png"
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column(period, css_class="col-sm-6"), Column("adopted_on", css_class="col-sm-6")),
            "file",
            _submit(_("Tải lên")),
        )


class CommitmentForm(forms.Form):
    year = forms.IntegerField(label=_("Năm"))
    content = long_text_field(label=_("Nội dung cam kết tu dưỡng, rèn luyện"), rows=8)

    def __init__(self, *args, submit_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout("year", "content", _submit(submit_label or _("Xác nhận cam kết")))


class PaperCommitmentForm(CommitmentForm):
    signed_on = VNDateField(label=_("Ngày ký bản giấy"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, submit_label=_("Ghi nhận bản giấy"), **kwargs)
        self.helper.layout = Layout(
            Row(Column("year", css_class="col-6"), Column("signed_on", css_class="col-6")),
            "content",
            _submit(_("Ghi nhận bản giấy")),
        )


class AdmissionForm(forms.Form):
    decision_date = VNDateField(label=_("Ngày quyết định kết nạp"))
    ceremony_date = VNDateField(label=_("Ngày lễ kết nạp"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("decision_date", css_class="col-sm-6"), Column("ceremony_date", css_class="col-sm-6")),
            _submit(_("Ghi nhận kết nạp")),
        )


class FullMembershipForm(forms.Form):
    on = VNDateField(label=_("Ngày công nhận đảng viên chính thức"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout("on", _submit(_("Công nhận chính thức")))


class AttachmentForm(_PeriodForm):
    place = forms.CharField(
        label=_("Nơi sinh hoạt tạm thời"),
        max_length=255,
        help_text=_("Tên tổ chức đảng nơi đồng chí sinh hoạt tạm thời."),
    )
    reason = forms.CharField(label=_("Lý do"), max_length=255, required=False)
    letter_ref = forms.CharField(label=_("Số giấy giới thiệu"), max_length=60, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._layout("place", "reason", "letter_ref", submit=_("Ghi nhận sinh hoạt tạm thời"))


class ExemptionEndForm(forms.Form):
    exemption = forms.ModelChoiceField(queryset=Exemption.objects.none(), label=_("Đợt miễn sinh hoạt"))
    on = VNDateField(label=_("Ngày kết thúc miễn"))

    def __init__(self, *args, member, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exemption"].queryset = member.exemptions.filter(end__isnull=True)
        self.helper = FormHelper()
        self.helper.layout = Layout("exemption", "on", _submit(_("Kết thúc miễn sinh hoạt")))


class SuspensionForm(forms.Form):
    reason = forms.CharField(label=_("Lý do"), max_length=255)
    decision_ref = forms.CharField(label=_("Số quyết định"), max_length=60, required=False)
    start = VNDateField(label=_("Từ ngày"))
    end = VNDateField(label=_("Đến ngày"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "reason",
            "decision_ref",
            Row(Column("start", css_class="col-6"), Column("end", css_class="col-6")),
            _submit(_("Ghi nhận đình chỉ")),
        )


class RemovalForm(forms.Form):
    state = forms.ChoiceField(
        label=_("Lý do"),
        choices=[(Member.State.REMOVED, _("Ra khỏi Đảng (xóa tên, khai trừ)")), (Member.State.DECEASED, _("Từ trần"))],
    )
    on = VNDateField(label=_("Từ ngày"))
    reason = forms.CharField(label=_("Ghi chú (số quyết định…)"), max_length=255, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout("state", "on", "reason", _submit(_("Ghi nhận")))


class RoleGrantForm(forms.Form):
    account = forms.CharField(label=_("Tên đăng nhập"), max_length=150)
    role = forms.ChoiceField(label=_("Vai trò"))
    start = VNDateField(label=_("Từ ngày"), initial=timezone.localdate)

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role, Role(role).label) for role in roles]
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(
                Column("account", css_class="col-sm-5"),
                Column("role", css_class="col-sm-4"),
                Column("start", css_class="col-sm-3"),
            ),
            _submit(_("Cấp quyền")),
        )

    def clean_account(self):
        from django.contrib.auth import get_user_model

        account = get_user_model().objects.filter(username=self.cleaned_data["account"].strip(), is_active=True).first()
        if account is None:
            raise ValidationError(_("Không có tài khoản đang hoạt động với tên đăng nhập này."))
        return account


class SecondFactorForm(forms.Form):
    """The code of the second factor: 6 digits from the app, or one recovery code."""

    token = forms.CharField(
        label=_("Mã xác thực"),
        max_length=32,
        help_text=_("Mã 6 số đang hiện trên ứng dụng xác thực, hoặc một mã dự phòng (dạng ABCD-EFGH-JKLM-NPQR)."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "autocapitalize": "characters"}
        ),
    )

    def __init__(self, *args, digits_only=False, **kwargs):
        super().__init__(*args, **kwargs)
        if digits_only:
            self.fields["token"].help_text = _("Mã 6 số đang hiện trên ứng dụng xác thực.")
            self.fields["token"].widget.attrs["inputmode"] = "numeric"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


# --- personal data: a member's correction request, an officer's decision --------------------


class CorrectionRequestForm(forms.Form):
    field = forms.ChoiceField(label=_("Mục cần sửa"), choices=())
    new_value = forms.CharField(
        label=_("Giá trị đúng"), max_length=255, help_text=_("Ngày ghi theo dạng ngày/tháng/năm, ví dụ 05/02/1980.")
    )
    reason = forms.CharField(
        label=_("Lý do"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Ví dụ: CCCD mới cấp ngày …; số điện thoại đã đổi."),
    )

    def __init__(self, *args, **kwargs):
        from .privacy import CORRECTABLE_FIELDS, field_label

        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [(field, field_label(field)) for field in CORRECTABLE_FIELDS]
        self.helper = FormHelper()
        self.helper.form_action = ""
        self.helper.layout = Layout(
            Row(Column("field", css_class="col-sm-5"), Column("new_value", css_class="col-sm-7")),
            "reason",
            Div(_submit(_("Gửi đề nghị sửa")), css_class="mt-2"),
        )


class CorrectionDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Quyết định"), choices=[("approve", _("Chấp nhận")), ("refuse", _("Không chấp nhận"))]
    )
    note = forms.CharField(label=_("Ghi chú (bắt buộc khi không chấp nhận)"), max_length=500, required=False)


# --- forgotten passwords (cells/views_password.py) --------------------------------------------


class PortalPasswordResetForm(PasswordResetForm):
    email = forms.EmailField(
        label=_("Địa chỉ thư điện tử của tài khoản"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        error_messages={
            "required": _("Nhập địa chỉ thư điện tử."),
            "invalid": _("Địa chỉ thư điện tử không hợp lệ, ví dụ ten@donvi.gov.vn."),
        },
    )


class PortalSetPasswordForm(SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("Mật khẩu mới")
        self.fields["new_password2"].label = _("Nhập lại mật khẩu mới")
        for name in ("new_password1", "new_password2"):
            self.fields[name].error_messages["required"] = _("Nhập mật khẩu mới.")
        self.error_messages = {
            **self.error_messages,
            "password_mismatch": _("Hai lần nhập mật khẩu mới không giống nhau."),
        }


# --- the tree: units and their positions (cells/views_tree.py) -------------------------------


def _kinds_under(parent: Organisation) -> list[str]:
    """The kinds of unit that may stand under ``parent``: organisation_check_placement's rule, asked."""
    allowed = []
    for kind in Organisation.Kind.values:
        try:
            organisation_check_placement(parent=parent, kind=kind)
        except ValidationError:
            continue
        allowed.append(kind)
    return allowed


def _parents_of_kind(kind: str) -> list[str]:
    """The kinds of unit a unit of ``kind`` may stand under (the same rule, the other way round)."""
    return [parent for parent in Organisation.Kind.values if kind in _kinds_under(Organisation(kind=parent))]


# A cell's chi ủy: counted from its official members unless the upper level recorded otherwise.
COMMITTEE_CHOICES = [
    ("", _("Tự tính (từ 9 đảng viên chính thức)")),
    ("yes", _("Có chi ủy")),
    ("no", _("Không có chi ủy")),
]


def committee_choice(value: bool | None) -> str:
    """The choice of ``committee_override`` that shows ``value`` (None: counted)."""
    return "" if value is None else "yes" if value else "no"


class OrganisationForm(forms.Form):
    """A unit's record (services.ORGANISATION_FIELDS); with ``parent``, a new unit under it and its kind."""

    kind = forms.ChoiceField(label=_("Loại tổ chức"))
    name = forms.CharField(label=_("Tên"), max_length=255)
    short_code = forms.CharField(
        label=_("Ký hiệu"), max_length=20, required=False, help_text=_("Dùng trong số văn bản, ví dụ CB, ĐU.")
    )
    unit_type = forms.ChoiceField(
        label=_("Loại hình đơn vị"), required=False, choices=[("", "—"), *Organisation.UnitType.choices]
    )
    has_seal = forms.BooleanField(label=_("Có con dấu"), required=False)
    committee_override = forms.TypedChoiceField(
        label=_("Chi ủy"),
        required=False,
        choices=COMMITTEE_CHOICES,
        coerce=lambda value: value == "yes",
        empty_value=None,
        help_text=_("Chỉ áp dụng cho chi bộ."),
    )
    active_from = VNDateField(label=_("Hoạt động từ"), required=False)
    active_to = VNDateField(label=_("Hoạt động đến"), required=False)

    def __init__(self, *args, parent: Organisation | None = None, organisation: Organisation | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if parent is not None:
            self.fields["kind"].choices = [(kind, Organisation.Kind(kind).label) for kind in _kinds_under(parent)]
        else:
            del self.fields["kind"]
        if organisation is not None and not organisation.is_cell:
            del self.fields["committee_override"]
        self.helper = FormHelper()
        self.helper.layout = Layout(
            *(["kind"] if parent is not None else []),
            "name",
            Row(Column("short_code", css_class="col-sm-4"), Column("unit_type", css_class="col-sm-8")),
            "has_seal",
            *(["committee_override"] if "committee_override" in self.fields else []),
            Row(Column("active_from", css_class="col-6"), Column("active_to", css_class="col-6")),
            _submit(_("Thêm đơn vị") if parent is not None else _("Lưu")),
        )

    def clean(self):
        data = super().clean()
        if data.get("active_from") and data.get("active_to") and data["active_to"] < data["active_from"]:
            self.add_error("active_to", _("Ngày kết thúc hoạt động phải sau ngày bắt đầu."))
        return data


class _TreeChoiceField(forms.ModelChoiceField):
    """Units in tree order, each indented by its depth, with its kind."""

    def label_from_instance(self, obj):
        return "\u2003" * max(obj.depth - 1, 0) + f"{obj.name} ({obj.get_kind_display().lower()})"


class OrganisationMoveForm(forms.Form):
    parent = _TreeChoiceField(
        queryset=Organisation.objects.none(),
        label=_("Chuyển đến trực thuộc"),
        empty_label=_("— Chọn tổ chức cấp trên mới —"),
        error_messages={"invalid_choice": _("Chọn một tổ chức cấp trên trong danh sách.")},
        help_text=_("Cả các tổ chức trực thuộc, đảng viên và sổ sách của đơn vị đi theo đơn vị."),
    )

    def __init__(self, *args, organisation: Organisation, parents: QuerySet[Organisation], **kwargs):
        super().__init__(*args, **kwargs)
        # The kinds it may stand under; its own subtree stays listed so that choosing it is refused with the
        # service's reason next to the field.
        self.fields["parent"].queryset = parents.filter(kind__in=_parents_of_kind(organisation.kind)).exclude(
            pk__in=[organisation.pk, organisation.parent_id]
        )
        self.helper = FormHelper()
        self.helper.layout = Layout("parent", _submit(_("Chuyển đơn vị")))


# The positions recorded on a cell's page: its own members' posts. The đảng ủy viên phụ trách is a
# member of the upper committee, not of the cell; it is recorded with the upper level's records.
CELL_POSITION_KINDS = [kind for kind in Position.Kind.values if kind != Position.Kind.SUPERVISOR]


class PositionAssignForm(forms.Form):
    member = forms.ModelChoiceField(
        queryset=Member.objects.none(),
        label=_("Đảng viên"),
        error_messages={"invalid_choice": _("Chọn một đảng viên đang sinh hoạt tại chi bộ này.")},
    )
    kind = forms.ChoiceField(
        label=_("Chức vụ"), choices=[(kind, Position.Kind(kind).label) for kind in CELL_POSITION_KINDS]
    )
    start = VNDateField(
        label=_("Từ ngày"),
        initial=timezone.localdate,
        help_text=_("Ngày của quyết định chuẩn y kết quả bầu cử hoặc quyết định chỉ định."),
    )

    def __init__(self, *args, cell: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = Member.objects.filter(organisation=cell, state=Member.State.ACTIVE).order_by(
            "full_name", "pk"
        )
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(
                Column("member", css_class="col-sm-5"),
                Column("kind", css_class="col-sm-4"),
                Column("start", css_class="col-sm-3"),
            ),
            _submit(_("Phân công chức vụ")),
        )


class PositionEndForm(forms.Form):
    on = VNDateField(
        label=_("Giữ chức vụ đến hết ngày"),
        initial=timezone.localdate,
        help_text=_("Ngày cuối cùng đồng chí giữ chức vụ này."),
    )

    def __init__(self, *args, position: Position, **kwargs):
        super().__init__(*args, **kwargs)
        self.position = position
        self.helper = FormHelper()
        self.helper.layout = Layout("on", _submit(_("Kết thúc chức vụ")))

    def clean(self):
        data = super().clean()
        if self.position.end is not None:
            raise ValidationError(_("Chức vụ này đã kết thúc ngày %(date)s.") % {"date": date_text(self.position.end)})
        return data


class DuesAreaForm(forms.Form):
    """The HD 03-HD/VPTW area of a unit (fixed dues under QĐ 342-QĐ/TW); blank inherits from above."""

    dues_area = forms.ChoiceField(label=_("Địa bàn"), required=False)

    def __init__(self, *args, inherited_label: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dues_area"].choices = [
            ("", _("Theo cấp trên (%(area)s)") % {"area": inherited_label}),
            *Organisation.DuesArea.choices,
        ]
        self.helper = FormHelper()
        self.helper.layout = Layout("dues_area", _submit(_("Lưu")))


# --- training of bí thư and chi ủy viên (issue #18, item 5) --------------------------------------


class TrainingCourseForm(forms.Form):
    organiser = forms.ModelChoiceField(queryset=Organisation.objects.none(), label=_("Đơn vị tổ chức"))
    title = forms.CharField(label=_("Tên lớp"), max_length=255)
    kind = forms.ChoiceField(label=_("Loại lớp"), choices=TrainingCourse.Kind.choices)
    start_date = VNDateField(label=_("Từ ngày"))
    end_date = VNDateField(label=_("Đến ngày"))
    place = forms.CharField(label=_("Địa điểm"), max_length=255, required=False)
    notes = long_text_field(label=_("Ghi chú"), max_length=NOTE_MAX, rows=3, required=False)

    def __init__(self, *args, organisers: QuerySet[Organisation] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if organisers is None:  # editing: the organiser stays
            del self.fields["organiser"]
        else:
            self.fields["organiser"].queryset = organisers
        self.helper = FormHelper()
        self.helper.layout = Layout(
            *(["organiser"] if organisers is not None else []),
            "title",
            "kind",
            Row(Column("start_date", css_class="col-sm-6"), Column("end_date", css_class="col-sm-6")),
            "place",
            "notes",
            _submit(_("Lưu lớp bồi dưỡng")),
        )


class CourseAttendanceForm(forms.Form):
    """A member at a course (``candidates`` given: adding one) with completion and certificate."""

    member = forms.ModelChoiceField(
        queryset=Member.objects.none(),
        label=_("Học viên"),
        error_messages={"invalid_choice": _("Chọn một đảng viên trong danh sách.")},
    )
    completed = forms.BooleanField(label=_("Đã hoàn thành lớp"), required=False)
    certificate_number = forms.CharField(label=_("Số giấy chứng nhận"), max_length=60, required=False)
    certificate = forms.FileField(label=_("Bản chụp giấy chứng nhận (PDF, ảnh JPG/PNG; tối đa 10 MB)"), required=False)

    def __init__(self, *args, candidates: QuerySet[Member] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if candidates is None:
            del self.fields["member"]
        else:
            self.fields["member"].queryset = candidates
            self.fields["member"].label_from_instance = lambda m: (
                f"{m.full_name} — {m.organisation.name}" if m.organisation else m.full_name
            )
        self.fields["certificate"].widget.attrs["accept"] = ".pdf,.jpg,.jpeg,.png"
        self.helper = FormHelper()
        self.helper.layout = Layout(
            *(["member"] if candidates is not None else []),
            "completed",
            Row(Column("certificate_number", css_class="col-sm-5"), Column("certificate", css_class="col-sm-7")),
            _submit(_("Ghi học viên") if candidates is not None else _("Lưu")),
        )


# --- party admission (issue #18, item 4; the rules: cells/admission.py) --------------------------------


class CandidateForm(forms.Form):
    """The cell proposes a quần chúng ưu tú with two official members introducing them."""

    full_name = forms.CharField(label=_("Họ và tên"), max_length=120)
    date_of_birth = VNDateField(label=_("Ngày sinh"), required=False)
    sex = forms.ChoiceField(label=_("Giới tính"), choices=[("", "—"), *Member.Sex.choices], required=False)
    citizen_id = forms.RegexField(
        label=_("Số CCCD"),
        regex=r"^\d{12}$",
        required=False,
        error_messages={"invalid": _("Số CCCD gồm đúng 12 chữ số.")},
    )
    phone = forms.CharField(label=_("Điện thoại"), max_length=20, required=False)
    email = forms.EmailField(label=_("Thư điện tử"), required=False)
    workplace = forms.CharField(label=_("Nơi công tác"), max_length=255, required=False)
    job_title = forms.CharField(label=_("Chức vụ chính quyền"), max_length=120, required=False)
    hometown = forms.CharField(label=_("Quê quán"), max_length=255, required=False)
    mentor_1 = forms.ModelChoiceField(
        queryset=Member.objects.none(),
        label=_("Đảng viên giới thiệu thứ nhất"),
        error_messages={"invalid_choice": _("Chọn một đảng viên chính thức của chi bộ.")},
    )
    mentor_2 = forms.ModelChoiceField(
        queryset=Member.objects.none(),
        label=_("Đảng viên giới thiệu thứ hai"),
        error_messages={"invalid_choice": _("Chọn một đảng viên chính thức của chi bộ.")},
    )
    proposed_on = VNDateField(label=_("Ngày chi bộ giới thiệu"))

    def __init__(self, *args, cell: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        officials = Member.objects.filter(
            organisation=cell, status=Member.Status.OFFICIAL, state=Member.State.ACTIVE
        ).order_by("full_name", "pk")
        for key in ("mentor_1", "mentor_2"):
            self.fields[key].queryset = officials
            self.fields[key].help_text = _("Đảng viên chính thức của chi bộ (Điều lệ Đảng, Điều 4).")
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "full_name",
            Row(
                Column("date_of_birth", css_class="col-sm-6"),
                Column("sex", css_class="col-sm-6"),
            ),
            Row(Column("citizen_id", css_class="col-sm-6"), Column("phone", css_class="col-sm-6")),
            "email",
            Row(Column("workplace", css_class="col-sm-6"), Column("job_title", css_class="col-sm-6")),
            "hometown",
            Row(Column("mentor_1", css_class="col-sm-6"), Column("mentor_2", css_class="col-sm-6")),
            "proposed_on",
            _submit(_("Lưu quần chúng ưu tú")),
        )


class CandidateClassForm(forms.Form):
    class_name = forms.CharField(label=_("Lớp bồi dưỡng nhận thức về Đảng"), max_length=255, required=False)
    class_date = VNDateField(label=_("Ngày cấp giấy chứng nhận"))
    certificate_number = forms.CharField(label=_("Số giấy chứng nhận"), max_length=60)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["class_date"].help_text = _("Giấy chứng nhận có giá trị 60 tháng kể từ ngày cấp.")
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "class_name",
            Row(Column("class_date", css_class="col-sm-6"), Column("certificate_number", css_class="col-sm-6")),
            _submit(_("Lưu giấy chứng nhận")),
        )


class CandidateDocumentsForm(forms.Form):
    has_application = forms.BooleanField(label=_("Đơn xin vào Đảng"), required=False)
    has_biography = forms.BooleanField(label=_("Lý lịch của người xin vào Đảng"), required=False)
    has_references = forms.BooleanField(label=_("Giấy giới thiệu của hai đảng viên chính thức"), required=False)
    has_reviews = forms.BooleanField(label=_("Nhận xét của đoàn thể và chi ủy nơi cư trú"), required=False)
    has_verification = forms.BooleanField(label=_("Kết quả thẩm tra lý lịch"), required=False)
    documents_date = VNDateField(label=_("Ngày hoàn thiện hồ sơ"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "has_application",
            "has_biography",
            "has_references",
            "has_reviews",
            "has_verification",
            "documents_date",
            _submit(_("Lưu hồ sơ")),
        )


class CandidateProposalForm(forms.Form):
    proposal_number = forms.CharField(label=_("Số văn bản đề nghị của đảng ủy"), max_length=60)
    proposal_date = VNDateField(label=_("Ngày đảng ủy đề nghị"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("proposal_number", css_class="col-sm-6"), Column("proposal_date", css_class="col-sm-6")),
            _submit(_("Lưu đề nghị của đảng ủy")),
        )


class CandidateDecisionForm(forms.Form):
    decision_number = forms.CharField(label=_("Số quyết định kết nạp"), max_length=60)
    decision_date = VNDateField(label=_("Ngày quyết định kết nạp"))
    decision_level = forms.ChoiceField(label=_("Cấp ra quyết định"), choices=Candidate.DecisionLevel.choices)
    decision_signer = forms.CharField(label=_("Người ký quyết định"), max_length=120, required=False)
    decision_received_on = VNDateField(label=_("Ngày nhận quyết định"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision_date"].help_text = _("Tuổi đảng tính từ ngày này.")
        self.fields["decision_received_on"].help_text = _(
            "Ngày chi bộ nhận quyết định: 30 ngày làm việc tổ chức lễ kết nạp tính từ ngày này. "
            "Chưa có thì tính từ ngày ký quyết định."
        )
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("decision_number", css_class="col-sm-6"), Column("decision_date", css_class="col-sm-6")),
            "decision_level",
            Row(
                Column("decision_signer", css_class="col-sm-6"),
                Column("decision_received_on", css_class="col-sm-6"),
            ),
            _submit(_("Lưu quyết định kết nạp")),
        )


class CandidateCeremonyForm(forms.Form):
    ceremony_date = VNDateField(label=_("Ngày lễ kết nạp"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ceremony_date"].help_text = _(
            "Lưu ngày lễ kết nạp sẽ tạo hồ sơ đảng viên dự bị; 12 tháng dự bị tính từ ngày này."
        )
        self.helper = FormHelper()
        self.helper.layout = Layout("ceremony_date", _submit(_("Lưu lễ kết nạp, tạo hồ sơ đảng viên dự bị")))


class CandidateWithdrawForm(forms.Form):
    """The cell stops considering a candidate (rút khỏi danh sách), with the day and the reason."""

    withdrawn_on = VNDateField(label=_("Ngày dừng xem xét"))
    reason = forms.CharField(label=_("Lý do dừng xem xét"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "withdrawn_on",
            "reason",
            _submit(_("Dừng xem xét quần chúng này")),
        )


class CandidateDocumentForm(forms.Form):
    """A scan of one of the candidate's papers (checked by its content in the service)."""

    kind = forms.ChoiceField(label=_("Loại giấy tờ"), choices=CandidateDocument.Kind.choices)
    file = forms.FileField(label=_("Tệp (PDF, ảnh JPG/PNG; tối đa 10 MB)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ".pdf,.jpg,.jpeg,.png"
        self.helper = FormHelper()
        self.helper.layout = Layout("kind", "file", _submit(_("Tải lên")))


STEP_FORMS = {
    "class": CandidateClassForm,
    "documents": CandidateDocumentsForm,
    "proposal": CandidateProposalForm,
    "decision": CandidateDecisionForm,
    "ceremony": CandidateCeremonyForm,
}
