"""Celery worker children SIGKILLed mid-task 50 times, and a poison task.

Each probe task records its start (with the child's pid) in Redis, then works for a moment;
the drill kills the child running the first delivery of every probe. With acks_late and
reject_on_worker_lost the message goes back to the queue and a fresh child completes it, so
all 50 finish. A task that kills its child on every delivery is parked by ParkingTask after
3 deliveries instead of being redelivered forever.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from portal.celery_reliability import (
    MAX_DELIVERIES,
    PROBE_KEY,
    crash,
    parked_tasks,
    probe,
    redis_client,
)
from tests.reliability.conftest import record

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

TASKS = 50
PROBE_SECONDS = 1.0
DEADLINE_SECONDS = 85


def test_killed_children_lose_no_task_and_poison_is_parked(transactional_db, celery_worker_process):
    run = uuid.uuid4().hex[:8]
    key = PROBE_KEY.format(run=run)
    client = redis_client()
    for number in range(TASKS):
        probe.delay(run, number, PROBE_SECONDS)
    poison = crash.delay(run)

    killed: set[int] = set()  # probe numbers whose first delivery was killed
    seen = 0
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        starts = client.lrange(f"{key}:started", seen, -1)
        seen += len(starts)
        for entry in starts:
            number, pid = (int(part) for part in entry.decode().split(":"))
            if number not in killed:  # first delivery: kill it mid-task
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.add(number)
                except ProcessLookupError:
                    pass
        done = client.scard(f"{key}:done")
        poison_parked = any(p["id"] == poison.id for p in parked_tasks())
        if done == TASKS and len(killed) == TASKS and poison_parked:
            break
        time.sleep(0.02)

    done_numbers = {int(n) for n in client.smembers(f"{key}:done")}
    deliveries = client.llen(f"{key}:started")
    crashes = int(client.get(f"{key}:crashes") or 0)
    parked = [p for p in parked_tasks() if p["id"] == poison.id]
    figures = record(
        "worker_kill",
        tasks=TASKS,
        kills=len(killed),
        completed=len(done_numbers),
        probe_deliveries=deliveries,
        poison_crashes=crashes,
        poison_deliveries=parked[0]["deliveries"] - 1 if parked else None,
        poison_parked=bool(parked),
    )
    assert len(killed) == TASKS, figures
    assert done_numbers == set(range(TASKS)), figures
    assert parked, (
        f"the poison task was never parked: {figures}\n{celery_worker_process.log_tail()}"
    )
    # It ran (and killed its child) exactly MAX_DELIVERIES times; the next delivery parked it.
    assert crashes == MAX_DELIVERIES, figures
    assert celery_worker_process.ping(timeout=5), "the worker did not survive the drill"
