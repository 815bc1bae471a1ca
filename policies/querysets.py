"""Querysets for the policies app."""
