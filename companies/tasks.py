"""Tasks for the companies app."""
