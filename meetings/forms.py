"""Forms of the meetings app."""
