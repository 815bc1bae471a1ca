"""Views for the companies app."""
