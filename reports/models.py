"""Models of the reports app (see design §3)."""
