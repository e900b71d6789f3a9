"""Models of the meetings app (see design §3)."""
