"""Poison-message protection for Celery tasks, and two diagnostic tasks for fault drills.

Tasks run with `acks_late` and `reject_on_worker_lost`, so a worker child killed mid-task gets
its message redelivered: nothing is lost. The flip side is a task that kills its worker every
time (segfault in a C extension, out-of-memory) would be redelivered forever. `ParkingTask`
counts deliveries per task id and retry number in Redis; past `MAX_DELIVERIES` it does not run
the task again but "parks" it: the message is pushed to the `PARKED_KEY` list for an operator,
logged, and acknowledged. Retries (`self.retry`) get a fresh count, since a retry is a new
message by design, not a redelivery.

When Redis cannot be reached the counter fails open (the task runs): losing the poison guard
for a moment is better than refusing all work.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time

import redis
from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

MAX_DELIVERIES = 3
PARKED_KEY = "portal:tasks:parked"
DELIVERIES_KEY = "portal:tasks:deliveries:{task_id}:{retries}"
# Long enough to outlive the broker's visibility timeout (redeliveries of one message).
DELIVERIES_TTL_SECONDS = 2 * 24 * 3600

_client: redis.Redis | None = None


def redis_client() -> redis.Redis:
    global _client  # one client per worker process
    if _client is None:
        _client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1
        )
    return _client


def _deliveries_key(request) -> str:
    return DELIVERIES_KEY.format(task_id=request.id, retries=request.retries or 0)


class ParkingTask(Task):
    """Base task that parks a message after MAX_DELIVERIES deliveries instead of looping."""

    def __call__(self, *args, **kwargs):
        request = self.request
        if request.called_directly or not request.id:
            return super().__call__(*args, **kwargs)
        key = _deliveries_key(request)
        try:
            client = redis_client()
            pipe = client.pipeline()
            pipe.incr(key)
            pipe.expire(key, DELIVERIES_TTL_SECONDS)
            deliveries = pipe.execute()[0]
        except Exception:  # noqa: BLE001 - fail open: run the task without the guard
            logger.warning("delivery counter unavailable for %s[%s]", self.name, request.id)
            return super().__call__(*args, **kwargs)
        if deliveries > MAX_DELIVERIES:
            self._park(client, request, deliveries, args, kwargs)
            return None  # returning acknowledges the message: it is not delivered again
        result = super().__call__(*args, **kwargs)
        try:
            client.delete(key)  # done: forget the count
        except Exception:  # noqa: BLE001 - the key expires on its own
            logger.debug("could not clear delivery counter %s", key)
        return result

    def _park(self, client, request, deliveries, args, kwargs) -> None:
        record = {
            "id": request.id,
            "task": self.name,
            "args": args,
            "kwargs": kwargs,
            "deliveries": deliveries,
            "parked_at": timezone.now().isoformat(),
        }
        logger.error(
            "task %s[%s] parked after %d deliveries (it kept killing its worker)",
            self.name,
            request.id,
            deliveries - 1,
        )
        try:
            client.rpush(PARKED_KEY, json.dumps(record, default=str))
        except Exception:  # noqa: BLE001 - the log line above is the record then
            logger.warning("could not store parked task %s", request.id)


def parked_tasks() -> list[dict]:
    """Parked messages, oldest first (for operators and the fault drill)."""
    return [json.loads(item) for item in redis_client().lrange(PARKED_KEY, 0, -1)]


# Diagnostic tasks (used by the fault drills in tests/reliability, harmless otherwise) ------

PROBE_KEY = "portal:reliability:probe:{run}"


@shared_task(name="portal.reliability.probe", base=ParkingTask, acks_late=True,
             reject_on_worker_lost=True)  # fmt: skip
def probe(run: str, number: int, seconds: float = 0.0) -> int:
    """Record the start (with this child's pid) and the end of a short piece of work."""
    client = redis_client()
    key = PROBE_KEY.format(run=run)
    client.rpush(f"{key}:started", f"{number}:{os.getpid()}")
    time.sleep(seconds)
    client.sadd(f"{key}:done", number)
    return number


@shared_task(name="portal.reliability.crash", base=ParkingTask, acks_late=True,
             reject_on_worker_lost=True)  # fmt: skip
def crash(run: str) -> None:
    """Kill the worker child running it, every time: a poison message."""
    redis_client().incr(PROBE_KEY.format(run=run) + ":crashes")
    os.kill(os.getpid(), signal.SIGKILL)
