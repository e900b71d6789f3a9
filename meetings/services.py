"""Services of the meetings app."""
