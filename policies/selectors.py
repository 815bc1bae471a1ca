"""Selectors for the policies app."""
