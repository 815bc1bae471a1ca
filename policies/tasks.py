"""Tasks for the policies app."""
