"""Turn a lost database into a clean 503 instead of a 500.

While PostgreSQL restarts (or the pool has no connection to give within its timeout) every
view fails with OperationalError/InterfaceError. That is an outage, not a bug: answer 503 with
Retry-After and a short body (JSON for the API, HTML otherwise), never a traceback, and log
one line. The pool reconnects by itself once the server is back.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

from portal.api.errors import error_body

try:  # the pool raises its own error when no connection comes within its timeout
    from psycopg_pool import PoolTimeout
except ImportError:  # pragma: no cover - psycopg_pool is a pinned dependency
    PoolTimeout = OperationalError

logger = logging.getLogger("portal.availability")

RETRY_AFTER_SECONDS = 5
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
HTML = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>Temporarily unavailable"
    "</title></head><body><h1>Temporarily unavailable</h1><p>The database cannot be reached "
    "right now. Please try again in a few seconds.</p></body></html>"
)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UNAVAILABLE):
            return None
        logger.warning(
            "database unavailable: %s %s: %s",
            request.method,
            request.path,
            type(exception).__name__,
        )
        if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
            body = error_body(503, "database_unavailable", "Database unavailable; retry shortly.")
            response = JsonResponse(body, status=503)
        else:
            response = HttpResponse(HTML, status=503, content_type="text/html; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
