"""Selectors of the scoring app."""
