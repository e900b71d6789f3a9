"""lib.choices: the models' get_FOO_display, looked up without translating every label of the field."""

import pytest
from django.db import models
from django.utils import translation

from cells.models import Member, Organisation
from lib.choices import ChoiceLabels
from meetings import kinds
from meetings.models import Attendance, Meeting, Resolution, Task

MODELS = [Meeting, Attendance, Resolution, Task, Organisation, Member]


def _choice_fields():
    return [(model, field) for model in MODELS for field in model._meta.concrete_fields if field.choices]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_label_is_the_one_django_shows_in_the_active_language(language):
    assert all(issubclass(model, ChoiceLabels) for model in MODELS)
    with translation.override(language):
        for model, field in _choice_fields():
            for value, _label in field.flatchoices:
                row = model(**{field.attname: value})
                shown = getattr(row, f"get_{field.name}_display")()
                assert shown == models.Model._get_FIELD_display(row, field), (model, field.name, value)


def test_the_label_follows_the_language_of_each_call():
    meeting = Meeting(state=Meeting.State.NOTIFIED, kind="thuong_ky")
    with translation.override("vi"):
        assert meeting.get_state_display() == "Đã thông báo"
        assert meeting.get_kind_display() == "Sinh hoạt thường kỳ"
    with translation.override("en"):  # the same field, the labels dict already built: still English
        assert meeting.get_state_display() == "Notified"
        assert meeting.get_kind_display() == "Regular meeting"


def test_a_value_outside_the_choices_is_shown_as_it_is():
    assert Meeting(state="khong_co").get_state_display() == "khong_co"
    assert Task(status="").get_status_display() == ""


def test_a_kind_registered_later_is_shown_by_its_label():
    """The meeting kinds are a registry read through a callable: a kind added after start-up has its label."""
    regular = kinds.get("thuong_ky")
    kinds.register(kinds.MeetingKind(code="thu_nghiem", name="trial", label="Buổi thử nghiệm", agenda=regular.agenda))
    try:
        assert Meeting(kind="thu_nghiem").get_kind_display() == "Buổi thử nghiệm"
    finally:
        kinds.unregister("thu_nghiem")
    assert Meeting(kind="thu_nghiem").get_kind_display() == "thu_nghiem"
