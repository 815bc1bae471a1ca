"""`make run` for real: scripts/run.py with its own PostgreSQL and Redis on spare ports.

Start → healthy → static files served → a SIGKILLed worker is restarted → SIGTERM stops every
child; start again → kill -9 the runner → the children die with it (PR_SET_PDEATHSIG); a third
start recovers cleanly. The supervisor's restart policy (backoff, giving up after rapid crashes)
is also tested on its own with stand-in children.
"""

import contextlib
import functools
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures import die_with_parent, free_port

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


def _load_run_module():
    spec = importlib.util.spec_from_file_location("portal_run_script", ROOT / "scripts" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def run_module(tmp_path, monkeypatch):
    """scripts/run.py as a module, its PID files in a temporary directory."""
    module = _load_run_module()
    monkeypatch.setattr(module, "RUN_DIR", tmp_path)
    monkeypatch.setattr(module, "_stop_requested", None)
    return module


def test_restart_policy_backs_off_and_gives_up_after_rapid_crashes():
    run = _load_run_module()
    policy = run.RestartPolicy(base=1.0, cap=10.0, stable_after=60.0, max_rapid=5)
    assert [policy.after_crash(ran_for=2.0) for _ in range(5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert policy.after_crash(ran_for=2.0) is None  # the 6th rapid crash in a row: give up
    # A child that ran long enough before crashing starts the count afresh.
    policy = run.RestartPolicy(base=1.0, cap=10.0, stable_after=60.0, max_rapid=5)
    for _ in range(4):
        policy.after_crash(ran_for=2.0)
    assert policy.after_crash(ran_for=61.0) == 1.0
    assert policy.rapid == 1


def test_supervisor_restarts_a_crashed_child_and_logs_it(run_module, tmp_path, capsys):
    run = run_module
    marker = tmp_path / "crashed-once"
    runner = run.Runner()
    # Crashes on its first start, then runs like a healthy worker.
    runner.commands = {
        "worker": ["sh", "-c", f'[ -e "{marker}" ] && exec sleep 60; touch "{marker}"; exit 3'],
    }
    runner.children = [run.spawn("worker", runner.commands["worker"], runner.env, output="pipe")]
    first_pid = runner.children[0].pid

    def stop_when_restarted():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            alive = [c for c in runner.children if c.pid != first_pid and c.popen.poll() is None]
            if alive and (tmp_path / "worker.pid").exists():
                break
            time.sleep(0.05)
        run._stop_requested = signal.SIGTERM

    run.RestartPolicy = functools.partial(run.RestartPolicy, base=0.1, max_rapid=3)
    stopper = threading.Thread(target=stop_when_restarted)
    stopper.start()
    try:
        with pytest.raises(run.StopRequested):
            runner.supervise(poll_interval=0.05)
        stopper.join(timeout=30)
        [child] = runner.children
        assert child.pid != first_pid and child.popen.poll() is None
        assert int((tmp_path / "worker.pid").read_text().split()[0]) == child.pid
    finally:
        runner.shutdown()
    out = capsys.readouterr().out
    assert f"worker (pid {first_pid}) exited with code 3" in out
    assert "restarting it in 0.1s (restart 1 of at most 3 in a row)" in out
    assert f"restarted worker (pid {child.pid})" in out
    assert child.popen.poll() is not None  # shutdown stopped the restarted child


def test_supervisor_gives_up_after_repeated_rapid_crashes(run_module, capsys):
    run = run_module
    run.RestartPolicy = functools.partial(run.RestartPolicy, base=0.05, max_rapid=3)
    runner = run.Runner()
    runner.commands = {"beat": ["sh", "-c", "exit 5"], "web": ["sleep", "60"]}
    runner.children = [
        run.spawn(name, argv, runner.env, output="pipe") for name, argv in runner.commands.items()
    ]
    started = time.monotonic()
    try:
        assert runner.supervise(poll_interval=0.05) == 1
    finally:
        runner.shutdown()
    assert time.monotonic() - started < 20
    out = capsys.readouterr().out
    assert out.count("restarted beat") == 3
    assert "4 crashes in a row" in out and "giving up, stopping all" in out
    assert "restarted web" not in out


def test_supervisor_stops_all_when_its_own_server_dies(run_module, capsys):
    run = run_module
    runner = run.Runner()
    runner.commands = {"web": ["sleep", "60"]}
    runner.children = [
        run.spawn("redis", ["sh", "-c", "exit 1"], runner.env),
        run.spawn("web", ["sleep", "60"], runner.env, output="pipe"),
    ]
    try:
        assert runner.supervise(poll_interval=0.05) == 1
    finally:
        runner.shutdown()
    assert "redis (pid" in capsys.readouterr().out


@pytest.mark.integration
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

    # 1b. the Celery worker crashes (SIGKILL of its main process): the runner restarts it.
    worker_pidfile = runner.local_dir / "run" / "worker.pid"
    worker_pid = int(worker_pidfile.read_text().split()[0])
    os.kill(worker_pid, signal.SIGKILL)
    deadline = time.monotonic() + START_TIMEOUT
    new_pid = worker_pid
    while time.monotonic() < deadline and new_pid == worker_pid:
        if runner.process.poll() is not None:
            runner.fail("the runner exited instead of restarting the worker")
        with contextlib.suppress(OSError, ValueError, IndexError):
            new_pid = int(worker_pidfile.read_text().split()[0])
        time.sleep(0.2)
    if new_pid == worker_pid:
        runner.fail("the worker was not restarted")
    assert runner.wait_healthy()["checks"]["worker"] == "ok"
    assert f"restarted worker (pid {new_pid})" in runner.output()

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
