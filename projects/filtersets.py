"""Filtersets for the projects app."""
