"""Views for the policies app."""
