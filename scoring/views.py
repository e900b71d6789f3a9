"""Views of the scoring app."""
