"""``get_FOO_display`` without translating every label of the field on each call (issue #20, item 5).

Django's ``Model._get_FIELD_display`` builds ``dict(make_hashable(field.flatchoices))`` each time it is
called: hashing each (value, lazy label) pair translates the label, so a meeting list of 50 rows paid one
translation per choice of the field for every label it showed. ``ChoiceLabels`` looks the value up in a
value → lazy label dict, built once per field when its choices are a fixed list (a registry's callable,
such as the meeting kinds, is read again each time, still without translating the labels), and translates
only the label shown, into the request's language.
"""

from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

_LABELS: dict = {}


def choice_labels(field) -> dict:
    """The field's value → (lazy, untranslated) label dict."""
    labels = _LABELS.get(field)
    if labels is None:
        labels = {make_hashable(value): label for value, label in field.flatchoices}
        if isinstance(field.choices, (list, tuple)):  # fixed at start-up; a callable may change
            _LABELS[field] = labels
    return labels


class ChoiceLabels:
    """Model mixin (before ``models.Model``): every ``get_FOO_display`` of the model reads ``choice_labels``."""

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        # force_str() turns the lazy label into the active language's text, as Django's own does.
        return force_str(choice_labels(field).get(make_hashable(value), value), strings_only=True)
