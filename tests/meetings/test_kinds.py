"""The meeting-kind registry (meetings.kinds): the derived tuples read it."""

from meetings import indicators, kinds
from meetings.models import Meeting


def test_every_model_kind_is_registered_and_the_tuples_come_from_the_registry():
    assert set(kinds.KINDS) == set(Meeting.Kind.values)
    assert Meeting.REGULAR_KINDS == kinds.codes("regular") == (Meeting.Kind.REGULAR, Meeting.Kind.COMBINED)
    assert Meeting.MIN_MINUTES == {Meeting.Kind.REGULAR: 90, Meeting.Kind.COMBINED: 120}
    assert set(indicators.SCORED_KINDS) == {
        Meeting.Kind.REGULAR,
        Meeting.Kind.COMBINED,
        Meeting.Kind.THEMATIC,
        Meeting.Kind.PARTY_GROUP,
    }
    assert indicators.HELD_STATES == (Meeting.State.HELD, Meeting.State.MINUTES_ADOPTED)


def test_a_registered_kind_shows_in_the_derived_tuples_by_its_flags():
    kinds.register(
        kinds.MeetingKind("thu_nghiem", "TRIAL", "Thử nghiệm", ("opening", "close"), thematic=True, cell_meeting=True)
    )
    try:
        assert "thu_nghiem" in kinds.codes("thematic") and "thu_nghiem" in kinds.codes("cell_meeting")
        assert "thu_nghiem" not in kinds.codes("regular") and "thu_nghiem" not in kinds.codes("scored")
    finally:
        kinds.unregister("thu_nghiem")
    assert "thu_nghiem" not in kinds.KINDS
