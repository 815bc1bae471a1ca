"""Services for the projects app."""
