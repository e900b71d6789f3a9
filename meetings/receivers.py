"""What the meetings app does when the cells app signals a change of membership (cells.signals).

Sent inside the cells service's transaction: the lists change with the membership, or neither does.
"""

from django.dispatch import receiver

from cells.signals import member_exemption_changed, member_withdrawn

from . import services


@receiver(member_withdrawn, dispatch_uid="meetings.withdraw_from_meeting_lists")
def withdraw_from_meeting_lists(sender, *, member, cell, start, end=None, by=None, **kwargs) -> None:
    services.attendance_withdraw(member=member, cell=cell, start=start, end=end, by=by)


@receiver(member_exemption_changed, dispatch_uid="meetings.refresh_exempt_on_meeting_lists")
def refresh_exempt_on_meeting_lists(sender, *, member, since, by=None, **kwargs) -> None:
    services.attendance_exemptions_refresh(member=member, since=since, by=by)
