"""What the scoring app does when the layers below it signal a change."""

import logging

from django.dispatch import receiver

from meetings.signals import minutes_adopted

logger = logging.getLogger(__name__)


@receiver(minutes_adopted, dispatch_uid="scoring.prefill_on_minutes_adopted")
def prefill_score_when_minutes_adopted(sender, *, meeting_id: int, **kwargs) -> None:
    """Queue the score's pre-fill from the adopted records (``tasks.meeting_score_prefill``).

    Sent on commit, so the task reads the adopted minutes. With the broker down the secretary can
    still pre-fill from the score page: the failure is logged, the adoption stands.
    """
    from .tasks import meeting_score_prefill

    try:
        meeting_score_prefill.delay(meeting_id)
    except Exception:  # the broker unreachable: kombu's OperationalError and friends
        logger.exception("could not queue the score pre-fill of meeting %s", meeting_id)
