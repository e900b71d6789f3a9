"""Forms of the scoring app: the score sheet (one field per criterion), ratings and inspections."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from lib.forms import NOTE_MAX, VNDateField, long_text_field

from .engine import iter_criteria
from .models import MeetingScore, RatingLevel
from .schemes import CHOICE, plain_number


def points_error_messages(maximum) -> dict:
    """The messages of a points field, written as the scorer reads them ("Điểm tối đa là 3.").

    Django's stock ones print the limit as stored ("3.00") with a space before the full stop.
    """
    from decimal import Decimal

    from django.utils.formats import number_format

    limit = Decimal(str(maximum))
    limit = limit.quantize(Decimal(1)) if limit == limit.to_integral_value() else limit.normalize()
    return {
        "invalid": _("Nhập điểm bằng chữ số, ví dụ 2.5."),
        "min_value": _("Điểm không được âm."),
        "max_value": _("Điểm tối đa là %(max)s.") % {"max": number_format(limit)},
        "max_decimal_places": _("Điểm có nhiều nhất 2 chữ số sau dấu thập phân."),
        "max_digits": _("Điểm tối đa là %(max)s.") % {"max": number_format(limit)},
        "max_whole_digits": _("Điểm tối đa là %(max)s.") % {"max": number_format(limit)},
    }


def _submit(label):
    return Submit("submit", label, css_class="btn-lg")


class ScoreSheetForm(forms.Form):
    """One field per applicable criterion, named ``line_<id>``, started from ``initial_attr`` of each line.

    Choice criteria offer their levels; the others take a number between 0 and the criterion's maximum.
    The template places each field next to its criterion and evidence.
    """

    def __init__(
        self,
        *args,
        score: MeetingScore,
        initial_attr: str = "self_points",
        with_reason: bool = False,
        with_weaknesses: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        criteria = {(g["code"], c["code"]): c for g, c in iter_criteria(score.scheme_snapshot)}
        self.lines = []
        for line in score.lines.filter(applicable=True).order_by("order"):
            criterion = criteria[(line.group_code, line.criterion_code)]
            name = f"line_{line.pk}"
            initial = getattr(line, initial_attr)
            if initial is None and initial_attr == "official_points":
                initial = line.self_points
            label = f"{line.criterion_code}. {criterion['name']}"
            if criterion.get("kind") == CHOICE:
                choices = [("", "—")] + [
                    (
                        str(plain_number(option["points"])),
                        f"{plain_number(option['points'])} — {option.get('label', '')}",
                    )
                    for option in criterion.get("options") or []
                ]
                self.fields[name] = forms.ChoiceField(
                    label=label,
                    choices=_unique(choices),
                    required=False,
                    initial=str(plain_number(initial)) if initial is not None else "",
                )
            else:
                self.fields[name] = forms.DecimalField(
                    label=label,
                    required=False,
                    min_value=0,
                    max_value=line.max_points,
                    decimal_places=2,
                    error_messages=points_error_messages(line.max_points),
                    initial=plain_number(initial) if initial is not None else None,
                    widget=forms.NumberInput(attrs={"step": "0.25", "inputmode": "decimal"}),
                )
            self.lines.append((line, name))
        if with_weaknesses:
            self.fields["weaknesses"] = long_text_field(
                label=_("Hạn chế, khuyết điểm của buổi sinh hoạt"), required=False, initial=score.weaknesses, rows=3
            )
        if with_reason:
            self.fields["reason"] = long_text_field(
                label=_("Lý do điều chỉnh (bắt buộc khi thay đổi điểm của chi bộ)"),
                required=False,
                max_length=NOTE_MAX,
                rows=3,
            )
        self.helper = FormHelper()
        self.helper.form_tag = False

    def points(self) -> dict:
        return {line.pk: self.cleaned_data.get(name) for line, name in self.lines}


def _unique(choices):
    seen, result = set(), []
    for value, label in choices:
        if value not in seen:
            seen.add(value)
            result.append((value, label))
    return result


LEVEL_CHOICES = [("", "—")] + list(RatingLevel.choices)


class RatingSelfForm(forms.Form):
    level = forms.ChoiceField(label=_("Tự xếp loại"), choices=LEVEL_CHOICES)
    score = forms.DecimalField(
        label=_("Tự chấm điểm (thang 100, nếu có)"), required=False, min_value=0, max_value=100, decimal_places=2
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["score"].error_messages.update(points_error_messages(100))
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("level", css_class="col-sm-8"), Column("score", css_class="col-sm-4")),
            "comment",
            _submit(_("Ghi tự đánh giá")),
        )

    comment = long_text_field(label=_("Tự nhận xét ưu điểm, hạn chế"), required=False, rows=5)


class RatingProposeForm(forms.Form):
    level = forms.ChoiceField(label=_("Mức đề xuất"), choices=LEVEL_CHOICES)
    note = long_text_field(label=_("Ý kiến nhận xét, đề xuất"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout("level", "note", _submit(_("Ghi đề xuất")))


class RatingDecideForm(forms.Form):
    level = forms.ChoiceField(label=_("Mức cấp ủy cấp trên quyết định"), choices=LEVEL_CHOICES)
    note = long_text_field(
        label=_("Ghi chú (bắt buộc khi khác mức đề xuất)"), required=False, max_length=NOTE_MAX, rows=3
    )
    acknowledge_warnings = forms.BooleanField(label=_("Đã xem cảnh báo về tỷ lệ và vẫn quyết định"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout("level", "note", "acknowledge_warnings", _submit(_("Quyết định xếp loại")))


class InspectionForm(forms.Form):
    inspected_on = VNDateField(label=_("Ngày kiểm tra"))
    inspectors = forms.CharField(label=_("Người kiểm tra"), max_length=255)
    member_register_ok = forms.BooleanField(label=_("Sổ danh sách đảng viên đầy đủ"), required=False)
    minutes_book_ok = forms.BooleanField(label=_("Sổ biên bản sinh hoạt đầy đủ"), required=False)
    dues_book_ok = forms.BooleanField(label=_("Sổ thu, nộp đảng phí đầy đủ"), required=False)
    documents_ok = forms.BooleanField(label=_("Đủ chương trình, kế hoạch bắt buộc"), required=False)
    findings = long_text_field(label=_("Nhận xét, kết luận"), rows=5)
    follow_up = long_text_field(label=_("Yêu cầu khắc phục"), required=False, rows=3)
    follow_up_due = VNDateField(label=_("Hạn khắc phục"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("inspected_on", css_class="col-sm-4"), Column("inspectors", css_class="col-sm-8")),
            Row(Column("member_register_ok", css_class="col-sm-6"), Column("minutes_book_ok", css_class="col-sm-6")),
            Row(Column("dues_book_ok", css_class="col-sm-6"), Column("documents_ok", css_class="col-sm-6")),
            "findings",
            "follow_up",
            Row(Column("follow_up_due", css_class="col-sm-4")),
            _submit(_("Ghi kết quả kiểm tra")),
        )


class FollowUpForm(forms.Form):
    done_on = VNDateField(label=_("Ngày khắc phục xong"))
    result = long_text_field(label=_("Kết quả khắc phục"), rows=3)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout("done_on", "result", _submit(_("Ghi nhận")))
