"""Models of the scoring app (see design §3)."""
