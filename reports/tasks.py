"""Tasks of the reports app."""
