"""Filtersets for the policies app."""
