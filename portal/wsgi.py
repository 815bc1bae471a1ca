"""WSGI entry point used by gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")

application = get_wsgi_application()


def _warm_up() -> None:
    """Import every URLconf (and the views, API resources and schema code they pull in)
    while the worker boots: Django does it lazily in the first request, which then took
    0.5–4 s on a busy machine. No database access here: the worker must boot without it."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the property import is the point


_warm_up()
