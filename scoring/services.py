"""Services of the scoring app."""
