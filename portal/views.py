"""Views of the shared core: the health check."""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from portal.celery import app as celery_app

# Each probe gets a short budget so the whole check answers within 2 seconds.
REDIS_TIMEOUT_SECONDS = 0.5
WORKER_PING_TIMEOUT_SECONDS = 1.0


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "down"
        return f"down: {type(error).__name__}"


def _redis_status() -> str:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        client.ping()
        return "ok"
    except Exception as error:  # noqa: BLE001
        return f"down: {type(error).__name__}"


def _worker_status() -> str:
    try:
        replies = celery_app.control.ping(timeout=WORKER_PING_TIMEOUT_SECONDS)
    except Exception as error:  # noqa: BLE001
        return f"down: {type(error).__name__}"
    return "ok" if replies else "down: no worker answered"


@never_cache
def healthz(request):
    """Report database, Redis and Celery worker status; 503 names whatever is down."""
    checks = {"database": _database_status(), "redis": _redis_status()}
    # Without Redis a worker ping would only wait out its timeout for nothing.
    checks["worker"] = _worker_status() if checks["redis"] == "ok" else "down: redis unavailable"
    down = sorted(name for name, status in checks.items() if status != "ok")
    body = {"status": "ok" if not down else "down", "checks": checks, "down": down}
    return JsonResponse(body, status=200 if not down else 503)
