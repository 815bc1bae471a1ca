"""Querysets for the projects app."""
