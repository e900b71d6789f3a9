"""Signals the meetings app sends, for the apps above it (scoring, reports) to listen to.

The meetings app never imports those apps (cells → meetings → scoring → reports): a flow that goes
upward is a signal, sent once the transaction that made the change has committed.
"""

from django.dispatch import Signal

# The minutes of a meeting were adopted (``meetings.services.meeting_adopt_minutes``), sent on commit
# with ``meeting_id``. The scoring app pre-fills the meeting's score from its records.
minutes_adopted = Signal()

# Sent, in the writing transaction, after a set-based write changed figures stored on meetings
# (``services.attendance_counts_refresh``: an ``UPDATE … FROM`` sends no ``post_save``), with
# ``meeting_ids``, the meetings whose figures changed. The monthly rollups of ``reports`` listen.
meeting_counts_changed = Signal()
