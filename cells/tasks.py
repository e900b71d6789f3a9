"""Background tasks of the cells app (none yet: member data changes are synchronous)."""
