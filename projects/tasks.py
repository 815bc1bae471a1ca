"""Tasks for the projects app."""
