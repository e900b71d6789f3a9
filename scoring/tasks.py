"""Tasks of the scoring app."""
