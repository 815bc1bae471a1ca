"""Filtersets for the companies app."""
