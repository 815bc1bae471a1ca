"""`make run` for real: scripts/run.py with its own PostgreSQL and Redis on spare ports.

Start → healthy → static files served → SIGTERM stops every child; start again → kill -9 the
runner → the children die with it (PR_SET_PDEATHSIG); a third start recovers cleanly.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures import die_with_parent, free_port

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def _get(url: str, timeout: float = 5):
    return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - http://127.0.0.1 only


def _stat(pid: int):
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else fields


class Runner:
    def __init__(self, local_dir: Path, log_dir: Path) -> None:
        self.local_dir = local_dir
        self.log_dir = log_dir
        self.port = free_port()
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DEBUG")
            and not key.startswith("CELERY_")
        }
        self.env.update(
            PORT=str(self.port),
            PORTAL_PG_PORT=str(free_port()),
            PORTAL_REDIS_PORT=str(free_port()),
            PORTAL_LOCAL_DIR=str(local_dir),
            PORTAL_ADMIN_PASSWORD="run-test-password-1234",
            PORTAL_PG_FSYNC="off",
            # The runner, not the data: load_curated_data has its own tests and takes a while.
            PORTAL_LOAD_CURATED_DATA="never",
            PORTAL_WORKER_CONCURRENCY="1",
            WEB_CONCURRENCY="1",
        )
        self.process: subprocess.Popen | None = None
        self.runs = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.runs += 1
        self.log = self.log_dir / f"run-{self.runs}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "scripts/run.py"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(signal.SIGTERM),
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def fail(self, message: str):
        pytest.fail(f"{message}\n--- runner output ---\n{self.output()}")

    def wait_healthy(self) -> dict:
        deadline = time.monotonic() + START_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.fail(f"runner exited early with {self.process.returncode}")
            try:
                with _get(f"{self.url}/healthz", timeout=3) as response:
                    return json.load(response)
            except urllib.error.HTTPError as error:
                last = error.read().decode(errors="replace")
            except OSError as error:
                last = str(error)
            time.sleep(0.5)
        self.fail(f"/healthz not 200 within {START_TIMEOUT:.0f}s: {last}")
        return {}

    def child_pids(self) -> set[int]:
        """Every live process in the process groups named by the runner's PID files."""
        leaders = set()
        for pidfile in (self.local_dir / "run").glob("*.pid"):
            leaders.add(int(pidfile.read_text().split()[0]))
        members = set()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                fields = _stat(int(entry.name))
                if fields and int(fields[2]) in leaders:
                    members.add(int(entry.name))
        return members | {pid for pid in leaders if _stat(pid)}

    def wait_gone(self, pids: set[int], what: str) -> None:
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline:
            alive = {pid for pid in pids if _stat(pid)}
            if not alive:
                return
            time.sleep(0.2)
        details = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:80] for pid in alive}
        self.fail(f"still alive {STOP_TIMEOUT:.0f}s after {what}: {details}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.fail("runner did not exit after SIGTERM")
            return -1


@pytest.fixture
def runner(tmp_path):
    # The postgres OS user must reach the cluster directory: a world-traversable dir in /tmp.
    local_dir = Path(tempfile.mkdtemp(prefix="portal-runtest-", dir="/tmp"))
    local_dir.chmod(0o755)
    runner = Runner(local_dir / "local", tmp_path)
    yield runner
    if runner.process and runner.process.poll() is None:
        runner.process.send_signal(signal.SIGTERM)
        try:
            runner.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            runner.process.kill()
    for pid in runner.child_pids() if (runner.local_dir / "run").exists() else ():
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(local_dir, ignore_errors=True)


def test_run_serves_stops_and_survives_kill_9(runner):
    started = time.monotonic()

    # 1. first start: cluster created, everything healthy, admin page and its CSS served.
    runner.start()
    health = runner.wait_healthy()
    assert health["checks"] == {"database": "ok", "redis": "ok", "worker": "ok"}
    with _get(f"{runner.url}/admin/login/") as response:
        assert response.status == 200
        page = response.read().decode()
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', page)
    assert stylesheet, "the admin login page links no stylesheet"
    with _get(f"{runner.url}{stylesheet.group(1)}") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/css")
        assert len(response.read()) > 100
    names = {p.stem for p in (runner.local_dir / "run").glob("*.pid")}
    assert names == {"web", "worker", "beat", "postgres", "redis"}

    # 2. SIGTERM: a clean exit, every child gone (its own PostgreSQL and Redis included).
    children = runner.child_pids()
    assert len(children) >= 5
    assert runner.stop() == 0, runner.output()
    runner.wait_gone(children, "SIGTERM")
    assert not list((runner.local_dir / "run").glob("*.pid"))

    # 3. second start, then kill -9 of the runner: the children die with it.
    runner.start()
    runner.wait_healthy()
    children = runner.child_pids()
    runner.process.kill()
    runner.process.wait()
    runner.wait_gone(children, "kill -9 of the runner")

    # 4. third start recovers without manual cleanup.
    runner.start()
    assert runner.wait_healthy()["status"] == "ok"
    children = runner.child_pids()
    assert runner.stop() == 0, runner.output()
    runner.wait_gone(children, "SIGTERM")

    elapsed = time.monotonic() - started
    # Bounded by the per-step timeouts anyway; the 90 s budget holds unless the box is overloaded.
    if os.getloadavg()[0] < 2 * (os.cpu_count() or 1):
        assert elapsed < 90, f"took {elapsed:.0f}s"
