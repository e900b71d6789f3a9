"""Audit rows: what changed, who changed it, before and after."""

import datetime
from decimal import Decimal

from django.db.models import Model

from ..models import (
    AuditEntry,
)

# --- audit -------------------------------------------------------------------------------


def _json_value(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Model):
        return value.pk
    return value


def snapshot(instance: Model, *, exclude=("created_at", "updated_at")) -> dict:
    """The instance's concrete field values as JSON-safe data, foreign keys as ids."""
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude:
            continue
        data[field.attname] = _json_value(getattr(instance, field.attname))
    return data


def audit_log(*, actor, action: str, instance: Model, organisation=None, before=None, after=None) -> AuditEntry:
    """Record one change. ``action`` is ``app.entity.verb``; ``before``/``after`` are snapshots."""
    if before is not None and after is not None:
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        before = {k: v for k, v in before.items() if k in changed}
        after = {k: v for k, v in after.items() if k in changed}
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        organisation=organisation,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        before=before,
        after=after,
    )
