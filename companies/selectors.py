"""Selectors for the companies app."""
