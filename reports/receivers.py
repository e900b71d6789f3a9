"""The monthly rollups follow every change of what they count (``reports.rollups``).

Registered by the reports app (``ReportsConfig.ready``): the layers below send their usual model signals
and ``meetings.signals.meeting_counts_changed`` and never import this. Each receiver recounts the
cell-months concerned in the writing transaction (the signals are sent inside it): a rolled-back
change leaves the rollup as it was.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from cells.models import Organisation
from cells.signals import organisation_moved
from meetings.models import Meeting, Task
from meetings.signals import meeting_counts_changed
from scoring.models import MeetingScore

from . import rollups

# The fields of a meeting a rollup counts by; a save that changes none of them changes no rollup.
COUNTED_FIELDS = (
    "organisation_id",
    "period_month",
    "kind",
    "state",
    "attendance_present",
    "attendance_base",
    "attendance_unexcused",
)


def _meeting_pre_save(sender, instance: Meeting, raw=False, update_fields=None, **kwargs):
    if rollups.is_suspended():
        return
    instance._rollup_before = None
    instance._rollup_skip = False
    if raw or instance.pk is None or instance._state.adding:
        return
    if update_fields is not None and not {f.removesuffix("_id") for f in COUNTED_FIELDS} & {
        f.removesuffix("_id") for f in update_fields
    }:
        instance._rollup_skip = True
        return
    instance._rollup_skip = False
    instance._rollup_before = Meeting.objects.filter(pk=instance.pk).values(*COUNTED_FIELDS).first()


def _meeting_post_save(sender, instance: Meeting, created=False, raw=False, **kwargs):
    if rollups.is_suspended():
        return
    if raw or getattr(instance, "_rollup_skip", False):
        return
    before = getattr(instance, "_rollup_before", None)
    after = {name: getattr(instance, name) for name in COUNTED_FIELDS}
    if not created and before == after:
        return
    pairs = [(instance.organisation_id, instance.period_month)]
    if before:
        pairs.append((before["organisation_id"], before["period_month"]))
    cancelled = Meeting.State.CANCELLED
    if before and (
        (before["state"] == cancelled) != (after["state"] == cancelled)
        or before["organisation_id"] != after["organisation_id"]
    ):
        # Cancelled (or no longer), or moved to another cell: its open tasks stop (start) counting there,
        # in the months they are due (reports.rollups counts the open tasks of meetings not cancelled).
        due = set(instance.tasks.filter(due_date__isnull=False).values_list("due_date", flat=True).distinct())
        organisations = {instance.organisation_id, before["organisation_id"]}
        pairs += [(organisation_id, day) for organisation_id in organisations for day in due]
    rollups.recount_pairs(pairs)


def _meeting_post_delete(sender, instance: Meeting, **kwargs):
    if rollups.is_suspended():
        return
    rollups.recount_pairs([(instance.organisation_id, instance.period_month)])


def _guests_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if rollups.is_suspended():
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        rollups.recount_pairs([(instance.organisation_id, instance.period_month)])
    elif pk_set:
        rollups.recount_meetings(pk_set)
    # A reverse clear deletes the guest rows one by one: _guest_deleted recounts their meetings.


def _guest_deleted(sender, instance, **kwargs):
    """A guest row deleted on its own (a member deleted, a reverse clear): its meeting's visit."""
    if rollups.is_suspended():
        return
    rollups.recount_meetings([instance.meeting_id])


def _score_pre_save(sender, instance: MeetingScore, raw=False, **kwargs):
    """Only the official level is counted: a save that keeps it (the points typed in) changes nothing."""
    instance._rollup_same_level = False
    if raw or rollups.is_suspended() or instance.pk is None or instance._state.adding:
        return
    before = MeetingScore.objects.filter(pk=instance.pk).values_list("official_level", "meeting_id").first()
    instance._rollup_same_level = before == (instance.official_level, instance.meeting_id)


def _score_changed(sender, instance: MeetingScore, raw=False, **kwargs):
    if rollups.is_suspended():
        return
    if raw or (kwargs.get("signal") is post_save and getattr(instance, "_rollup_same_level", False)):
        return
    meeting = Meeting.objects.filter(pk=instance.meeting_id).values("organisation_id", "period_month").first()
    if meeting is not None:
        rollups.recount_pairs([(meeting["organisation_id"], meeting["period_month"])])


# The fields of a task its month's rollup counts by (reports.rollups: the open tasks by due date).
TASK_FIELDS = ("meeting_id", "due_date", "status")


def _task_pairs(*values: dict | None) -> list:
    """The (cell, month) whose rollup counts a task with each of these values (none without a due date):
    the meetings' cells read in one query."""
    dated = [v for v in values if v and v["due_date"] is not None]
    if not dated:
        return []
    cells = dict(Meeting.objects.filter(pk__in={v["meeting_id"] for v in dated}).values_list("pk", "organisation_id"))
    return [(cells[v["meeting_id"]], v["due_date"]) for v in dated if v["meeting_id"] in cells]


def _task_pre_save(sender, instance: Task, raw=False, **kwargs):
    instance._rollup_before = None
    if raw or rollups.is_suspended() or instance.pk is None or instance._state.adding:
        return
    instance._rollup_before = Task.objects.filter(pk=instance.pk).values(*TASK_FIELDS).first()


def _task_post_save(sender, instance: Task, created=False, raw=False, **kwargs):
    if raw or rollups.is_suspended():
        return
    before = getattr(instance, "_rollup_before", None)
    after = {name: getattr(instance, name) for name in TASK_FIELDS}
    if not created and before == after:
        return  # its text, result or assignees: nothing counted
    rollups.recount_pairs(_task_pairs(after, before))


def _task_post_delete(sender, instance: Task, **kwargs):
    # Also for the tasks of a meeting deleted with it: their meeting's row is deleted after them.
    if rollups.is_suspended():
        return
    rollups.recount_pairs(_task_pairs({name: getattr(instance, name) for name in TASK_FIELDS}))


def _counts_changed(sender, meeting_ids, **kwargs):
    if rollups.is_suspended():
        return
    rollups.recount_meetings(meeting_ids)


def _organisation_moved(sender, organisation, old_ancestors, new_ancestors, **kwargs):
    rollups.moved(organisation=organisation, old_ancestors=old_ancestors, new_ancestors=new_ancestors)


def connect() -> None:
    organisation_moved.connect(_organisation_moved, sender=Organisation, dispatch_uid="rollups_organisation_moved")
    pre_save.connect(_meeting_pre_save, sender=Meeting, dispatch_uid="rollups_meeting_pre_save")
    post_save.connect(_meeting_post_save, sender=Meeting, dispatch_uid="rollups_meeting_post_save")
    post_delete.connect(_meeting_post_delete, sender=Meeting, dispatch_uid="rollups_meeting_post_delete")
    m2m_changed.connect(_guests_changed, sender=Meeting.upper_guests.through, dispatch_uid="rollups_guests")
    post_delete.connect(_guest_deleted, sender=Meeting.upper_guests.through, dispatch_uid="rollups_guest_delete")
    pre_save.connect(_score_pre_save, sender=MeetingScore, dispatch_uid="rollups_score_pre_save")
    post_save.connect(_score_changed, sender=MeetingScore, dispatch_uid="rollups_score_post_save")
    post_delete.connect(_score_changed, sender=MeetingScore, dispatch_uid="rollups_score_post_delete")
    pre_save.connect(_task_pre_save, sender=Task, dispatch_uid="rollups_task_pre_save")
    post_save.connect(_task_post_save, sender=Task, dispatch_uid="rollups_task_post_save")
    post_delete.connect(_task_post_delete, sender=Task, dispatch_uid="rollups_task_post_delete")
    meeting_counts_changed.connect(_counts_changed, sender=Meeting, dispatch_uid="rollups_counts")
