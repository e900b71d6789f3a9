"""Forms of the scoring app."""
