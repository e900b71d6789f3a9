"""Signals the cells app sends, for the apps above it (meetings) to listen to.

The cells app never imports those apps (cells → meetings → scoring → reports): when a change to a
membership must reach the meeting lists, the service sends one of these. Unlike
``meetings.signals.minutes_adopted`` they are sent inside the service's transaction, with
``send`` (not ``send_robust``): the lists change in the same transaction as the membership, and a
listener's failure undoes the transfer rather than leaving a member on a list they have left.
"""

from django.dispatch import Signal

# ``member`` takes no part any more in the meetings of ``cell`` held on the days from ``start`` to
# ``end`` (None: for good): a transfer, a removal or a suspension (``cells.services``). Also sent:
# ``by``, the user who made the change. The meetings app takes the member off the lists of those
# meetings that are not held yet, which voids their RSVP links.
member_withdrawn = Signal()

# ``member``'s exemptions changed for the days from ``since`` on (an exemption granted or ended).
# The meetings app marks them exempt, or no longer exempt, on the lists of meetings not held yet.
member_exemption_changed = Signal()

# ``organisation`` and its subtree moved under another parent (``cells.services.tree.organisation_move``):
# ``old_ancestors`` and ``new_ancestors`` are the ids of the organisations above it before and after, top
# first. The reports app moves its cells' monthly sums from the first to the second.
organisation_moved = Signal()
