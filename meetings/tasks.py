"""Tasks of the meetings app."""
