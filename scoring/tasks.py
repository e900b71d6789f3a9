"""Background tasks of the scoring app: thin wrappers over services, taking ids, safe to run twice."""

from celery import shared_task
from django.core.exceptions import ValidationError

from meetings.models import Meeting

from . import services
from .models import MeetingScore


@shared_task(acks_late=True)
def meeting_score_prefill(meeting_id: int) -> bool:
    """Propose the score of a held meeting: queued on commit when its minutes are adopted (scoring.signals).

    Returns quietly when the meeting is gone, not scorable, or its score is already adopted.
    """
    meeting = Meeting.objects.filter(pk=meeting_id).first()
    if meeting is None or MeetingScore.objects.filter(meeting=meeting).exclude(state=MeetingScore.State.DRAFT).exists():
        return False
    try:
        services.meeting_score_prefill(meeting=meeting, by=None)
    except ValidationError:
        return False
    return True
