"""Choices for the companies app."""
