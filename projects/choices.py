"""Choices for the projects app."""
