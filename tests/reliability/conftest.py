"""Fault drills: they kill and restart PostgreSQL, Redis and Celery worker children.

They only ever touch servers of their own: `scripts/reliability.py` starts a PostgreSQL
cluster and a Redis under RELIABILITY_LOCAL_DIR (default /tmp/reliability) on ports 54349 and
63829, points DATABASE_URL / REDIS_URL at them and runs `pytest -m reliability`. Without
RELIABILITY_LOCAL_DIR in the environment these tests are deselected, so a plain `pytest` (and
`make test`) never kills the shared servers on 54329/63799.

Each test writes its figures to test-artifacts/reliability/<name>.json for the summary table.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "reliability"


def pytest_collection_modifyitems(config, items):
    if os.environ.get("RELIABILITY_LOCAL_DIR"):
        return
    here = Path(__file__).parent
    kept, dropped = [], []
    for item in items:
        (dropped if Path(str(item.fspath)).is_relative_to(here) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


class OwnServices:
    """Control of the drill's own PostgreSQL and Redis (never the shared ones)."""

    def __init__(self):
        self.local = Path(os.environ["RELIABILITY_LOCAL_DIR"])
        self.pg_port = int(os.environ.get("RELIABILITY_PG_PORT", "54349"))
        self.redis_port = int(os.environ.get("RELIABILITY_REDIS_PORT", "63829"))
        if self.pg_port == 54329 or self.redis_port == 63799:
            raise RuntimeError("the fault drills must not use the shared servers' ports")
        self.pg_data = self.local / "pgdata"
        self.pg_socket = self.local / "pgsocket"
        self.redis_pidfile = self.local / "redis" / "redis.pid"
        self.bin = Path(
            subprocess.run(
                [str(ROOT / "scripts" / "services.sh"), "pg-bin"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )

    def _as_postgres(self, *argv: str, timeout: float = 60) -> None:
        command = list(argv)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    def stop_postgres(self, mode: str = "fast") -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.pg_data), "-m", mode, "-w",
                          "-t", "30", "stop")  # fmt: skip

    def start_postgres(self) -> None:
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.pg_data),
            "-l", str(self.pg_socket / "postgres.log"),
            "-o", f"-p {self.pg_port} -k {self.pg_socket}", "-w", "-t", "60", "start",
        )  # fmt: skip

    def redis_pid(self) -> int:
        return int(self.redis_pidfile.read_text().strip())

    def kill_redis(self) -> None:
        """SIGKILL: no shutdown, no save; queued messages and the dirty set are gone."""
        os.kill(self.redis_pid(), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self._redis_answers():
            time.sleep(0.05)

    def start_redis(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(PORTAL_LOCAL_DIR=str(self.local), PORTAL_REDIS_PORT=str(self.redis_port))
        (self.local / "redis").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port),
                "--dir", str(self.local / "redis"), "--daemonize", "yes",
                "--pidfile", str(self.redis_pidfile),
                "--logfile", str(self.local / "redis" / "redis.log"),
                "--save", "", "--appendonly", "no",
            ],
            check=True, env=env, timeout=30,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self._redis_answers():
            if time.monotonic() > deadline:
                raise RuntimeError("own Redis did not come back")
            time.sleep(0.05)

    def _redis_answers(self) -> bool:
        import redis

        try:
            client = redis.Redis(port=self.redis_port, socket_connect_timeout=0.2)
            return bool(client.ping())
        except Exception:  # noqa: BLE001
            return False


@pytest.fixture(scope="session")
def own_services() -> OwnServices:
    return OwnServices()


def record(name: str, **figures) -> dict:
    """Keep a drill's figures for scripts/reliability.py's summary table."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(figures, indent=2, default=str))
    return figures


def _worker_busy() -> bool:
    """Tasks queued on the drill broker or running on a worker (True when unsure)."""
    from django.conf import settings

    from portal.celery import app

    try:
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1)
        if client.llen("celery"):
            return True
        active = app.control.inspect(timeout=1).active() or {}
    except Exception:  # noqa: BLE001 - broker down: nothing to wait for
        return False
    return any(active.values())


@pytest.fixture(autouse=True)
def _worker_idle_before_flush(request):
    """Let the worker finish the tasks a drill enqueued before the database is flushed.

    The session worker recomputes metrics after every edit; pytest-django's TRUNCATE at the
    end of a transactional test would otherwise deadlock with a recompute still reading.
    Requesting transactional_db here makes this teardown run before its flush.
    """
    if "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db")
    yield
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _worker_busy():
        time.sleep(0.5)
