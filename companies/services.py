"""Services for the companies app."""
