"""Querysets for the companies app."""
