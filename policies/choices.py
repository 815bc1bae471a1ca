"""Choices for the policies app."""
