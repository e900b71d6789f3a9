"""Forms of the reports app: the period of a dashboard, and the year of an annual report."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lib import query

from .periods import Period


def _year_choices():
    this_year = timezone.localdate().year
    return [(year, str(year)) for year in range(this_year, this_year - 6, -1)]


PARAMETERS = {"year": query.YEAR, "quarter": query.QUARTER, "month": query.MONTH}


class PeriodForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Năm"), coerce=int, choices=_year_choices)
    quarter = forms.TypedChoiceField(
        label=_("Quý"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[("", _("Cả năm"))] + [(q, _("Quý %(q)s") % {"q": q}) for q in range(1, 5)],
    )
    month = forms.TypedChoiceField(
        label=_("Tháng"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[("", _("Mọi tháng"))] + [(m, _("Tháng %(m)s") % {"m": m}) for m in range(1, 13)],
    )

    def clean(self):
        data = super().clean()
        if data.get("month") and data.get("quarter") and (data["month"] - 1) // 3 + 1 != data["quarter"]:
            raise forms.ValidationError(_("Tháng đã chọn không thuộc quý đã chọn."))
        return data

    @classmethod
    def from_query(cls, params) -> "PeriodForm":
        """The form bound to a request's query: ``nam``, ``quy``, ``thang`` (or year, quarter, month)."""
        return cls(query.form_data(params, PARAMETERS) or params or None)

    def period(self) -> Period:
        """The chosen period, or this year when the choice is missing or invalid."""
        if self.is_bound and self.is_valid():
            data = self.cleaned_data
            return Period(data["year"], data.get("quarter") if not data.get("month") else None, data.get("month"))
        return Period(timezone.localdate().year)


class ReportRunForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Năm báo cáo"), coerce=int, choices=_year_choices)
