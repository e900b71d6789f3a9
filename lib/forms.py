"""The form pieces every app shares: dates typed as on paper (dd/mm/yyyy, mm/yyyy, dd/mm/yyyy HH:MM) with
their year range, text length limits with a Vietnamese message, and a service's errors shown on a form."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from .dates import parse_month
from .formatting import thousands


class VNDateInput(forms.DateInput):
    """A plain text date field in dd/mm/yyyy: what the paper forms use, and easy to type on a phone."""

    def __init__(self, attrs=None):
        defaults = {"placeholder": "dd/mm/yyyy", "inputmode": "numeric", "autocomplete": "off"}
        super().__init__(attrs={**defaults, **(attrs or {})}, format="%d/%m/%Y")


class YearRangeMixin:
    """Refuse dates outside 1900–2100 with a clear message on the field.

    Year 1 or 9999 is always a typing slip here, and such dates break what comes after the form: a
    meeting at 01/01/0001 00:00 local time is before year 1 in UTC and cannot be read back from PostgreSQL.
    """

    min_year, max_year = 1900, 2100

    def to_python(self, value):
        result = super().to_python(value)
        if result is not None and not self.min_year <= result.year <= self.max_year:
            message = _("Năm phải trong khoảng %(min)s–%(max)s.") % {"min": self.min_year, "max": self.max_year}
            raise ValidationError(message, code="year_range")
        return result


class VNDateField(YearRangeMixin, forms.DateField):
    widget = VNDateInput
    default_error_messages = {"invalid": _("Nhập ngày theo dạng ngày/tháng/năm, ví dụ 05/02/2026.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"])
        super().__init__(**kwargs)


# How long a typed text may be. A 300 KB opinion made the minutes PDF take 7 s; no real one comes
# near these. LONG_TEXT_MAX is about six printed pages (an opinion, a conclusion, findings);
# NOTE_MAX about a third of a page (a task, a guest list, a reason).
LONG_TEXT_MAX = 20_000
NOTE_MAX = 2_000


class TextLengthValidator(MaxLengthValidator):
    message = _(
        "Nội dung quá dài: tối đa %(limit_value)s ký tự, hiện có %(show_value)s. Hãy rút gọn, hoặc đưa "
        "phần chi tiết vào tài liệu đính kèm."
    )

    def __call__(self, value):
        if len(value) > self.limit_value:
            raise ValidationError(
                self.message,
                code="max_length",
                params={"limit_value": thousands(self.limit_value), "show_value": thousands(len(value))},
            )


def limit_text(field: forms.CharField, max_length: int = LONG_TEXT_MAX) -> forms.CharField:
    """Give a text field (of a form or a model form) its maximum length, in the browser and on the server."""
    field.max_length = max_length
    field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
    field.validators.append(TextLengthValidator(max_length))
    field.widget.attrs["maxlength"] = str(max_length)
    return field


def long_text_field(*, label, max_length: int = LONG_TEXT_MAX, rows: int = 4, **kwargs) -> forms.CharField:
    """A textarea with a length limit and a clear Vietnamese message when it is exceeded."""
    return limit_text(forms.CharField(label=label, widget=forms.Textarea(attrs={"rows": rows}), **kwargs), max_length)


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError next to the fields it names (or on top of the form)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.error_dict.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        form.add_error(None, error)


class VNDateTimeField(YearRangeMixin, forms.DateTimeField):
    """dd/mm/yyyy HH:MM in a plain text box: quick to type, and the same on every phone."""

    default_error_messages = {"invalid": _("Nhập ngày giờ theo dạng ngày/tháng/năm giờ:phút, ví dụ 05/02/2026 14:00.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["%d/%m/%Y %H:%M", "%d/%m/%Y %H.%M", "%d-%m-%Y %H:%M", "%Y-%m-%d %H:%M"])
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(
                format="%d/%m/%Y %H:%M", attrs={"placeholder": "dd/mm/yyyy HH:MM", "autocomplete": "off"}
            ),
        )
        super().__init__(**kwargs)


class MonthField(forms.CharField):
    """A month typed as mm/yyyy (or mm-yyyy, or yyyy-mm as a month input sends it), cleaned to its first day.

    ``accept_day``: a whole date (dd/mm/yyyy) is read as its month too. A year outside 1900–2100 is refused
    with the ``year_range`` message. The meetings' forms use the default messages; the dues book passes its own.
    """

    default_error_messages = {
        "invalid": _("Nhập tháng theo dạng tháng/năm, ví dụ 02/2026."),
        "year_range": _("Năm phải trong khoảng %(min)s–%(max)s."),
    }
    min_year, max_year = YearRangeMixin.min_year, YearRangeMixin.max_year

    def __init__(self, *, accept_day: bool = False, **kwargs):
        self.accept_day = accept_day
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"placeholder": "mm/yyyy", "inputmode": "numeric", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return value.strftime("%m/%Y") if hasattr(value, "strftime") else value

    def to_python(self, value):
        if isinstance(value, datetime.date):
            return value.replace(day=1)
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        month = parse_month(value, first_year=datetime.MINYEAR, last_year=datetime.MAXYEAR)
        if month is None and self.accept_day:
            try:
                month = datetime.datetime.strptime(value, "%d/%m/%Y").date().replace(day=1)
            except ValueError:
                month = None
        if month is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if not self.min_year <= month.year <= self.max_year:
            raise ValidationError(
                self.error_messages["year_range"] % {"min": self.min_year, "max": self.max_year}, code="year_range"
            )
        return month
