"""Selectors for the projects app."""
