"""Views of the shared core: the health check."""

import time
from concurrent.futures import ThreadPoolExecutor, wait

import redis
from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from kombu.pidbox import Mailbox

from portal.celery import app as celery_app

# The probes run concurrently; whatever has not answered by the deadline counts as down, so the
# whole check answers well within 2 seconds whichever dependency hangs or refuses.
DEADLINE_SECONDS = 1.5
REDIS_TIMEOUT_SECONDS = 0.5
BROKER_CONNECT_TIMEOUT_SECONDS = 0.5
WORKER_PING_TIMEOUT_SECONDS = 1.0


def _down(error: BaseException) -> str:
    return f"down: {type(error).__name__}"


def _database_status() -> str:
    connection = connections["default"]  # this thread's own connection
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "down"
        return _down(error)
    finally:
        connection.close()  # back to the pool; a probe thread must not keep a connection


def _redis_status() -> str:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    except Exception as error:  # noqa: BLE001
        return _down(error)


def _worker_status() -> str:
    # An explicit connection built from the current settings with short timeouts: the app's
    # default producer pool was configured at import and would retry a dead broker for seconds.
    try:
        with celery_app.connection_for_write(
            url=settings.CELERY_BROKER_URL,
            connect_timeout=BROKER_CONNECT_TIMEOUT_SECONDS,
            transport_options={
                "socket_connect_timeout": BROKER_CONNECT_TIMEOUT_SECONDS,
                "socket_timeout": WORKER_PING_TIMEOUT_SECONDS,
                "max_retries": 0,
            },
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=0.5)
            # A mailbox of our own: control.ping() would publish through the app's producer
            # pool, which is bound to the broker URL it saw first and retries for seconds.
            mailbox = Mailbox(
                celery_app.conf.control_exchange, type="fanout", accept=["json"], serializer="json"
            )
            replies = mailbox(conn)._broadcast(
                "ping", {}, reply=True, timeout=WORKER_PING_TIMEOUT_SECONDS
            )
    except Exception as error:  # noqa: BLE001
        return f"down: broker unavailable ({type(error).__name__})"
    return "ok" if replies else "down: no worker answered"


PROBES = {"database": _database_status, "redis": _redis_status, "worker": _worker_status}


@never_cache
def healthz(request):
    """Report database, Redis and Celery worker status; 503 names whatever is down."""
    started = time.monotonic()
    executor = ThreadPoolExecutor(max_workers=len(PROBES), thread_name_prefix="healthz")
    futures = {name: executor.submit(probe) for name, probe in PROBES.items()}
    wait(futures.values(), timeout=DEADLINE_SECONDS)
    # Do not wait for a hung probe: it ends on its own socket timeout.
    executor.shutdown(wait=False, cancel_futures=True)
    checks = {
        name: future.result() if future.done() else f"down: no answer within {DEADLINE_SECONDS}s"
        for name, future in futures.items()
    }
    down = sorted(name for name, status in checks.items() if status != "ok")
    body = {
        "status": "ok" if not down else "down",
        "checks": checks,
        "down": down,
        "elapsed_ms": round((time.monotonic() - started) * 1000),
    }
    return JsonResponse(body, status=200 if not down else 503)
