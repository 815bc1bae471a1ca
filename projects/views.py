"""Views for the projects app."""
