"""Selectors of the meetings app."""
