"""Fixtures shared by every test package (loaded as a pytest plugin from the root conftest.py).

Add shared fixtures here; keep each one documented and independent of app modules.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from redis.exceptions import RedisError

ROOT = Path(__file__).resolve().parent.parent
WORKER_START_TIMEOUT = 60.0
WORKER_STOP_TIMEOUT = 20.0
WORKER_IDLE_TIMEOUT = 30.0
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def die_with_parent(signum: int = signal.SIGTERM):
    """preexec_fn for subprocesses that must not outlive the test session (PR_SET_PDEATHSIG)."""
    parent = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True)

    def setup() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return setup


def database_url(settings_dict: dict) -> str:
    """postgres:// URL for a Django DATABASES entry (as seen after pytest-django's setup)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(settings_dict['NAME'], safe='')}"


@pytest.fixture(scope="session", autouse=True)
def _celery_app_configured():
    """Create the Celery app's broker pool and result backend from the real test settings, up front.

    Both are built from the CELERY_* settings the first time they are used and then kept; if that
    first use happened inside a test's override_settings(CELERY_BROKER_URL=...), every later test
    would talk to that (by then dead) broker.
    """
    from portal.celery import app

    app.pool  # noqa: B018 - creating them is the point
    app.backend  # noqa: B018


@dataclass
class CeleryWorkerProcess:
    """A real `celery worker` subprocess; `nodename` is what `control.ping` answers with."""

    process: subprocess.Popen
    nodename: str
    env: dict = field(repr=False)
    logfile: Path
    argv: list[str] = field(default_factory=list, repr=False)
    restarts: int = 0

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def restart(self) -> None:
        """Start the worker again after it exited (what scripts/run.py's supervisor does)."""
        if self.process.poll() is None:
            raise RuntimeError("the worker is still running")
        _stop_worker(self.process)  # reap what is left of its process group
        self.process = _spawn_worker(self.argv, self.env, self.logfile, append=True)
        self.restarts += 1

    def ping(self, timeout: float = 1.0) -> bool:
        from portal.celery import app

        replies = app.control.ping(destination=[self.nodename], timeout=timeout)
        return any(self.nodename in reply for reply in replies)

    def busy(self) -> bool:
        """Whether work is queued, scheduled or running for this worker (a debounced recompute
        still pending counts: its guard key or dirty set is in Redis)."""
        from portal.celery import app
        from portal.metrics import dirty

        client = dirty.redis_client()
        if client.exists(dirty.DEBOUNCE_KEY, dirty.DIRTY_KEY):
            return True
        with app.connection_for_write() as connection:
            broker = connection.default_channel.client
            if broker.llen(app.conf.task_default_queue) or broker.hlen("unacked"):
                return True
        inspect = app.control.inspect(destination=[self.nodename], timeout=1.0)
        for report in (inspect.active(), inspect.reserved(), inspect.scheduled()):
            if report is None or any(report.values()):
                return True  # no reply (busy or gone) or tasks listed
        return False

    def wait_idle(self, timeout: float = WORKER_IDLE_TIMEOUT) -> bool:
        """Wait until the worker has nothing left to do, seen twice in a row; False on timeout
        or when the worker is not running (then nothing it does can race the test)."""
        deadline = time.monotonic() + timeout
        idle_streak = 0
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                idle_streak = 0 if self.busy() else idle_streak + 1
            except (RedisError, OSError):  # Redis down (a fault drill): nothing to wait for
                return False
            if idle_streak >= 2:
                return True
            time.sleep(0.1)
        return False


def _spawn_worker(argv: list[str], env: dict, logfile: Path, append: bool = False):
    with logfile.open("ab" if append else "wb") as log:
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGTERM),
        )


def _celery_command() -> list[str]:
    script = Path(sys.executable).parent / "celery"  # .venv/bin/celery when run from the venv
    return [str(script)] if script.exists() else [sys.executable, "-m", "celery"]


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, tmp_path_factory) -> CeleryWorkerProcess:
    """Start a real prefork Celery worker on the test database; stop it at the end of the session.

    Tests using it should be marked `@pytest.mark.integration` and use `transactional_db`, so the
    rows they write are committed and visible to the worker. The worker consumes the `celery`
    queue on the test broker (settings.CELERY_BROKER_URL, Redis DB 1 under `make test`).
    """
    from django.conf import settings

    nodename = f"pytest-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    env = os.environ.copy()
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.test",
        # After django_db_setup this names pytest-django's test database, e.g. test_portal.
        DATABASE_URL=database_url(settings.DATABASES["default"]),
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_RESULT_BACKEND=settings.CELERY_RESULT_BACKEND,
        PYTHONUNBUFFERED="1",
    )
    logfile = tmp_path_factory.mktemp("celery-worker") / "worker.log"
    argv = [
        *_celery_command(),
        "-A", "portal", "worker",
        "--pool=prefork", "-c", "2", "-Q", "celery",
        "--hostname", nodename, "--loglevel", "INFO", "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    process = _spawn_worker(argv, env, logfile)
    worker = CeleryWorkerProcess(
        process=process, nodename=nodename, env=env, logfile=logfile, argv=argv
    )
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while not worker.ping(timeout=0.5):
            if process.poll() is not None:
                pytest.fail(f"Celery worker exited with {process.returncode}:\n{worker.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"Celery worker did not answer a ping:\n{worker.log_tail()}")
        yield worker
    finally:
        _stop_worker(worker.process)  # the one running now, if a test restarted it


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item):
    """Before a test's database is flushed, let the worker finish what the test set off.

    A recompute still running when the flush's TRUNCATE arrives holds share locks on the
    tables it reads while the TRUNCATE holds exclusive locks on others: a deadlock that fails
    the teardown. Runs before fixture finalizers (tryfirst), so the database is still there.
    """
    worker = getattr(item, "funcargs", {}).get("celery_worker_process")
    if isinstance(worker, CeleryWorkerProcess):
        worker.wait_idle()


def _stop_worker(process: subprocess.Popen) -> None:
    """Warm shutdown, then SIGKILL the whole process group (prefork children included)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=WORKER_STOP_TIMEOUT)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
