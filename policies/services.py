"""Services for the policies app."""
