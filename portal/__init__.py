"""Shared core of the CGT policy and investment portal."""

from portal.celery import app as celery_app

__all__ = ("celery_app",)
