#!/usr/bin/env python3
"""`make run`: provision the portal, then supervise every process it needs until Ctrl-C.

Run with the project's virtualenv (`.venv/bin/python scripts/run.py`; `make run` does this after
creating the venv). Steps:

1. recover from a previous run that crashed or was `kill -9`ed (stale PID files, a stale
   postmaster.pid, a cluster still running on another port);
2. start the project-local PostgreSQL and Redis in the foreground unless DATABASE_URL /
   REDIS_URL are set (a server already answering on the port is used and left alone);
3. migrate, `load_curated_data` when that command exists (and its inputs changed), ensure the
   local `admin` account, collectstatic (when static sources changed; in parallel);
4. start gunicorn, a Celery worker and Celery beat, print the URL and admin credentials;
5. supervise them: a crashed gunicorn, worker or beat is restarted with exponential backoff
   (1 s, doubling with each crash in a row, at most 30 s; each restart logged); after 5 restarts
   in a row, each crash within 60 s of its start, the runner gives up. A child that ran 60 s or
   more before crashing starts the count afresh. When the runner gives up, when the PostgreSQL
   or Redis started here dies, or on SIGINT / SIGTERM, it stops everything it started and
   exits (non-zero unless asked to stop).

Every child runs in its own process group with PR_SET_PDEATHSIG, so it is signalled even when
this runner is SIGKILLed. PID files live in <local dir>/run/.

Environment: PORT (8000), PORTAL_HOST (127.0.0.1), PORTAL_LOCAL_DIR (<repo>/.local),
PORTAL_PG_PORT (54329), PORTAL_REDIS_PORT (63799), PORTAL_ADMIN_PASSWORD, WEB_CONCURRENCY (2),
PORTAL_WORKER_CONCURRENCY (2), PORTAL_LOAD_CURATED_DATA (auto: when fixtures/, migrations,
the command or DATABASE_URL changed since the last successful load; always; never),
DJANGO_SETTINGS_MODULE (portal.settings.local), DEBUG (false).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = Path(os.environ.get("PORTAL_LOCAL_DIR") or ROOT / ".local").resolve()
RUN_DIR = LOCAL / "run"
STATIC_ROOT = ROOT / "staticfiles"  # settings.STATIC_ROOT
VENV_BIN = Path(sys.executable).parent
PG_PORT = int(os.environ.get("PORTAL_PG_PORT") or 54329)
REDIS_PORT = int(os.environ.get("PORTAL_REDIS_PORT") or 63799)
PORT = int(os.environ.get("PORT") or 8000)
HOST = os.environ.get("PORTAL_HOST") or "127.0.0.1"
PG_OS_USER = os.environ.get("PORTAL_PG_OS_USER") or "postgres"
IS_ROOT = os.geteuid() == 0

PR_SET_PDEATHSIG = 1
# How each process wants to be asked to stop; the same signal arrives if the runner dies.
STOP_SIGNALS = {
    "postgres": signal.SIGINT,  # fast shutdown: roll back open transactions, exit cleanly
    "redis": signal.SIGTERM,
    "web": signal.SIGTERM,  # gunicorn graceful stop
    "worker": signal.SIGTERM,  # Celery warm shutdown
    "beat": signal.SIGTERM,
}
STOP_TIMEOUTS = {"worker": 30.0, "postgres": 30.0}
# Crashed application processes are restarted (the Celery worker exits for good on some broker
# losses: kombu's "Unrecoverable error: AttributeError(... 'hostname')", docs/reliability.md).
RESTARTABLE = ("web", "worker", "beat")
RESTART_BACKOFF_BASE = 1.0  # seconds before the first restart; doubles per rapid crash
RESTART_BACKOFF_CAP = 30.0
RESTART_STABLE_SECONDS = 60.0  # a child that ran this long before crashing starts afresh
RESTART_MAX_RAPID = 5  # crashes in a row, each within RESTART_STABLE_SECONDS, before giving up
_libc = ctypes.CDLL(None, use_errno=True)
_output_lock = threading.Lock()
_stop_requested: int | None = None


class StopRequested(Exception):
    """SIGINT/SIGTERM arrived; unwind and stop what was started."""


class StartupError(Exception):
    """A provisioning step failed; the message says which."""


def log(message: str) -> None:
    with _output_lock:
        print(f"[run] {message}", flush=True)


def _on_signal(signum, _frame) -> None:
    global _stop_requested
    if _stop_requested is None:
        _stop_requested = signum


def check_stop() -> None:
    if _stop_requested is not None:
        raise StopRequested


def sleep(seconds: float) -> None:
    """Sleep in small steps so a stop request is noticed quickly."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        check_stop()
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
    check_stop()


# --- process bookkeeping -------------------------------------------------------------------


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, process group, start time in clock ticks) of a live process, else None."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return fields[0], int(fields[2]), int(fields[19])


def group_members(pgid: int, not_before: int) -> list[int]:
    """Live processes of process group `pgid` that started no earlier than `not_before`."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = proc_stat(int(entry.name))
            if stat and stat[1] == pgid and stat[2] >= not_before:
                members.append(int(entry.name))
    return members


def _signal_quietly(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def stop_process_tree(name: str, pid: int, starttime: int, timeout: float) -> None:
    """Ask a group leader to stop, wait, then SIGKILL whatever is left of its group."""
    stat = proc_stat(pid)
    if stat and stat[2] == starttime:
        _signal_quietly(pid, STOP_SIGNALS.get(name, signal.SIGTERM))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stat = proc_stat(pid)
            if not stat or stat[2] != starttime:
                break
            time.sleep(0.1)
        else:
            log(f"{name} (pid {pid}) did not stop within {timeout:.0f}s; killing it")
    for member in group_members(pid, starttime):
        _signal_quietly(member, signal.SIGKILL)


def recover_stale_processes() -> None:
    """Stop processes a previous runner left behind (it crashed or was SIGKILLed)."""
    for pidfile in sorted(RUN_DIR.glob("*.pid")):
        try:
            pid, starttime = (int(part) for part in pidfile.read_text().split()[:2])
        except (OSError, ValueError):
            pidfile.unlink(missing_ok=True)
            continue
        name = pidfile.stem
        stat = proc_stat(pid)
        leftovers = group_members(pid, starttime)
        if (stat and stat[2] == starttime) or leftovers:
            log(f"stopping {name} left over from a previous run (pid {pid})")
            stop_process_tree(name, pid, starttime, STOP_TIMEOUTS.get(name, 15.0))
        pidfile.unlink(missing_ok=True)


@dataclass
class Child:
    name: str
    popen: subprocess.Popen
    starttime: int
    pidfile: Path | None = None
    threads: list[threading.Thread] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self, timeout: float | None = None) -> None:
        stop_process_tree(
            self.name, self.pid, self.starttime, timeout or STOP_TIMEOUTS.get(self.name, 15.0)
        )
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.popen.kill()
        if self.pidfile:
            self.pidfile.unlink(missing_ok=True)


@dataclass
class RestartPolicy:
    """Backoff for one restartable child: when to restart it after a crash, when to give up."""

    base: float = RESTART_BACKOFF_BASE
    cap: float = RESTART_BACKOFF_CAP
    stable_after: float = RESTART_STABLE_SECONDS
    max_rapid: int = RESTART_MAX_RAPID
    rapid: int = 0  # crashes in a row, each within `stable_after` seconds of the start

    def after_crash(self, ran_for: float) -> float | None:
        """Seconds to wait before restarting a child that ran `ran_for` s; None: give up."""
        if ran_for >= self.stable_after:
            self.rapid = 0
        self.rapid += 1
        if self.rapid > self.max_rapid:
            return None
        return min(self.cap, self.base * 2 ** (self.rapid - 1))


def _child_preexec(pdeath_signal: int, parent_pid: int):
    def setup() -> None:
        # Runs in the child after fork (and after the uid switch, which would clear the flag).
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        if _libc.prctl(PR_SET_PDEATHSIG, int(pdeath_signal), 0, 0, 0) != 0:
            os._exit(126)
        if os.getppid() != parent_pid:  # the runner died before prctl took effect
            os._exit(1)

    return setup


def spawn(
    name: str, argv: list[str], env: dict, *, output=None, pidfile: bool = True, **kwargs
) -> Child:
    """Start a child in its own process group that dies with the runner."""
    pdeath = STOP_SIGNALS.get(name, signal.SIGTERM)
    stdout = subprocess.PIPE if output == "pipe" else output
    popen = subprocess.Popen(  # noqa: S603 - argv is built here, never from user input
        [str(arg) for arg in argv],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.STDOUT if output is not None else None,
        start_new_session=True,
        preexec_fn=_child_preexec(pdeath, os.getpid()),
        **kwargs,
    )
    stat = proc_stat(popen.pid)
    child = Child(name, popen, stat[2] if stat else 0)
    if pidfile:
        child.pidfile = RUN_DIR / f"{name}.pid"
        child.pidfile.write_text(f"{popen.pid} {child.starttime}\n")
    return child


def pump_output(child: Child) -> None:
    """Copy a child's output to ours, each line prefixed with the child's name."""
    prefix = f"{child.name:>6} | ".encode()

    def pump() -> None:
        for line in iter(child.popen.stdout.readline, b""):
            with _output_lock:
                sys.stdout.buffer.write(prefix + line)
                sys.stdout.buffer.flush()

    thread = threading.Thread(target=pump, name=f"pump-{child.name}", daemon=True)
    thread.start()
    child.threads.append(thread)


# --- the runner ---------------------------------------------------------------------------


class Runner:
    def __init__(self) -> None:
        self.children: list[Child] = []  # long-running, in start order
        self.env = os.environ.copy()
        self.env.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")
        # DEBUG off: whitenoise serves the collected, hashed files from STATIC_ROOT like production.
        self.env.setdefault("DEBUG", "false")
        self.env.setdefault("WEB_CONCURRENCY", "2")
        self.env["PYTHONUNBUFFERED"] = "1"
        self.admin_password_file = LOCAL / "admin-password"
        self.commands: dict[str, list] = {}  # restartable children: name -> argv

    # services

    def wait_for(self, what: str, probe, timeout: float, child: Child | None = None) -> None:
        deadline = time.monotonic() + timeout
        while not probe():
            if child and child.popen.poll() is not None:
                raise StartupError(f"{what} exited with code {child.popen.returncode}")
            if time.monotonic() > deadline:
                raise StartupError(f"{what} not ready after {timeout:.0f}s")
            sleep(0.2)

    def run_script(self, *argv: str) -> str:
        result = subprocess.run(  # noqa: S603
            [str(ROOT / "scripts" / argv[0]), *argv[1:]],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            check=False,
        )
        if result.returncode != 0:
            raise StartupError(f"scripts/{' '.join(argv)} failed with code {result.returncode}")
        return result.stdout.decode().strip()

    def start_postgres(self) -> None:
        import psycopg

        def accepting() -> bool:
            try:
                psycopg.connect(
                    host="127.0.0.1",
                    port=PG_PORT,
                    user="portal",
                    dbname="postgres",
                    connect_timeout=1,
                ).close()
            except psycopg.Error:
                return False
            return True

        if accepting():
            log(f"using the PostgreSQL already running on port {PG_PORT} (left running at exit)")
        else:
            bindir = Path(self.run_script("services.sh", "pg-bin"))
            data = LOCAL / "pgdata"
            self.clear_stale_postmaster(bindir, data)
            user = {"user": PG_OS_USER, "group": PG_OS_USER, "extra_groups": []} if IS_ROOT else {}
            logfile = open(LOCAL / "pgsocket" / "postgres.log", "ab")  # noqa: SIM115
            child = spawn(
                "postgres",
                [bindir / "postgres", "-D", data, "-p", PG_PORT, "-k", LOCAL / "pgsocket"],
                self.env,
                output=logfile,
                **user,
            )
            logfile.close()
            self.children.append(child)
            self.wait_for("PostgreSQL", accepting, 60, child)
            log(f"PostgreSQL started on 127.0.0.1:{PG_PORT} (log: {logfile.name})")
        with psycopg.connect(
            host="127.0.0.1", port=PG_PORT, user="portal", dbname="postgres", autocommit=True
        ) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'portal'").fetchone():
                conn.execute("CREATE DATABASE portal")
        self.env["DATABASE_URL"] = f"postgres://portal@127.0.0.1:{PG_PORT}/portal"

    def clear_stale_postmaster(self, bindir: Path, data: Path) -> None:
        pidfile = data / "postmaster.pid"
        if not pidfile.exists():
            return
        lines = pidfile.read_text().splitlines()
        pid = int(lines[0]) if lines and lines[0].strip().isdigit() else 0
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes() if pid else b""
        except OSError:
            cmdline = b""
        if b"postgres" in cmdline and proc_stat(pid):
            port = lines[3] if len(lines) > 3 else "?"
            log(f"stopping the PostgreSQL cluster left running on port {port} (pid {pid})")
            argv = [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop"]
            if IS_ROOT:
                argv = ["runuser", "-u", PG_OS_USER, "--", *argv]
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
        else:
            log("removing stale postmaster.pid")
            pidfile.unlink(missing_ok=True)

    def start_redis(self) -> None:
        import redis

        def accepting() -> bool:
            try:
                return bool(redis.Redis(host="127.0.0.1", port=REDIS_PORT, socket_timeout=1).ping())
            except redis.RedisError:
                return False

        if accepting():
            log(f"using the Redis already running on 127.0.0.1:{REDIS_PORT} (left running at exit)")
        else:
            directory = LOCAL / "redis"
            child = spawn(
                "redis",
                [
                    "redis-server",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    REDIS_PORT,
                    "--dir",
                    directory,
                    "--daemonize",
                    "no",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--logfile",
                    directory / "redis.log",
                ],
                self.env,
                output=subprocess.DEVNULL,
            )
            self.children.append(child)
            self.wait_for("Redis", accepting, 20, child)
            log(f"Redis started on 127.0.0.1:{REDIS_PORT}")
        self.env["REDIS_URL"] = f"redis://127.0.0.1:{REDIS_PORT}/0"

    # Django steps

    @staticmethod
    def has_command(name: str) -> bool:
        # Management commands live in <app>/management/commands/<name>.py; looking is instant,
        # where `manage.py help <name>` costs a Django start-up.
        return any(ROOT.glob(f"*/management/commands/{name}.py"))

    def static_fingerprint(self) -> str:
        """Changes when collectstatic could produce something new: our static files or packages."""
        digest = hashlib.sha256()
        digest.update(
            (ROOT / ".venv" / ".requirements.sha256").read_bytes()
            if (ROOT / ".venv" / ".requirements.sha256").exists()
            else b"no-venv-stamp"
        )
        for path in sorted([*ROOT.glob("static/**/*"), *ROOT.glob("*/static/**/*")]):
            if path.is_file() and STATIC_ROOT not in path.parents:
                stat = path.stat()
                digest.update(
                    f"{path.relative_to(ROOT)}:{stat.st_size}:{stat.st_mtime_ns}".encode()
                )
        return digest.hexdigest()

    def curated_fingerprint(self) -> str:
        """Changes when the curated data, the schema, the loader command or the database changes."""
        digest = hashlib.sha256(self.env.get("DATABASE_URL", "").encode())
        files = [
            *ROOT.glob("fixtures/**/*"),
            *ROOT.glob("*/migrations/*.py"),
            *ROOT.glob("*/management/commands/load_curated_data.py"),
        ]
        for path in sorted(files):
            if path.is_file():
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def wait_steps(self, steps: dict[str, Child], started: float) -> None:
        """Wait for concurrently running manage.py steps; the first failure aborts the rest."""
        pending = dict(steps)
        try:
            while pending:
                for name, child in list(pending.items()):
                    code = child.popen.poll()
                    if code is None:
                        continue
                    del pending[name]
                    if code != 0:
                        raise StartupError(f"manage.py {name} failed (exit code {code})")
                    log(f"{name}: done after {time.monotonic() - started:.1f}s")
                sleep(0.1)
        finally:
            for child in pending.values():
                child.stop(timeout=5)

    def start_step(self, *args: str) -> Child:
        return spawn("manage", [sys.executable, "manage.py", *args], self.env, pidfile=False)

    def prepare_django(self) -> None:
        started = time.monotonic()
        background: dict[str, Child] = {}
        # collectstatic needs no database: it runs alongside the database steps, and only when
        # the static sources changed since the last successful run.
        static_stamp = STATIC_ROOT / ".collectstatic-fingerprint"
        static_fingerprint = self.static_fingerprint()
        stamp_matches = static_stamp.exists() and static_stamp.read_text() == static_fingerprint
        if stamp_matches and (STATIC_ROOT / "staticfiles.json").exists():
            log("static files unchanged; skipping collectstatic")
        else:
            background["collectstatic"] = self.start_step(
                "collectstatic", "--noinput", "--verbosity", "0"
            )
        collecting = bool(background)
        try:
            steps = ["migrate", "--noinput", "--"]
            steps += ["ensure_local_admin", "--password-file", str(self.admin_password_file)]
            curated_stamp = RUN_DIR / "curated-data.fingerprint"
            curated_fingerprint = self.curated_fingerprint()
            mode = (os.environ.get("PORTAL_LOAD_CURATED_DATA") or "auto").lower()
            load = False
            if not self.has_command("load_curated_data"):
                log("load_curated_data does not exist yet; skipping the curated data")
            elif mode in ("never", "0", "false", "no"):
                log("PORTAL_LOAD_CURATED_DATA=never; skipping the curated data")
            elif (
                mode == "auto"
                and curated_stamp.exists()
                and curated_stamp.read_text() == curated_fingerprint
            ):
                log("curated data, schema and database unchanged since the last load; skipping it")
            else:
                curated_stamp.unlink(missing_ok=True)
                steps += ["--", "load_curated_data"]
                load = True
            # One Django process for the database steps: a start-up costs seconds on a busy box.
            database_steps = spawn(
                "manage",
                [sys.executable, ROOT / "scripts" / "manage_steps.py", *steps],
                self.env,
                pidfile=False,
            )
            self.wait_steps({"migrate, ensure_local_admin": database_steps}, started)
            if load:
                curated_stamp.write_text(curated_fingerprint)
            self.wait_steps(background, started)
            background.clear()
            if collecting:
                static_stamp.write_text(static_fingerprint)
        finally:
            for child in background.values():
                child.stop(timeout=5)

    # long-running processes

    def port_free(self) -> bool:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((HOST, PORT))
            except OSError:
                return False
        return True

    def start_app(self) -> None:
        if not self.port_free():
            raise StartupError(f"{HOST}:{PORT} is already in use; set PORT to another port")
        beat_schedule = LOCAL / "celerybeat-schedule"
        worker_name = f"portal-{PORT}@{socket.gethostname()}"
        commands = {
            "web": [
                VENV_BIN / "gunicorn",
                "portal.wsgi:application",
                "--bind",
                f"{HOST}:{PORT}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "10",
                "--access-logfile",
                "-",
                "--no-control-socket",
            ],
            "worker": [
                VENV_BIN / "celery",
                "-A",
                "portal",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                os.environ.get("PORTAL_WORKER_CONCURRENCY") or "2",
                "--hostname",
                worker_name,
                "--without-mingle",
                "--without-gossip",
            ],
            "beat": [
                VENV_BIN / "celery",
                "-A",
                "portal",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                beat_schedule,
            ],
        }
        self.commands = commands
        started = [spawn(name, argv, self.env, output="pipe") for name, argv in commands.items()]
        self.children.extend(started)
        # Output threads start only after the initial forks. A restart forks while they run; the
        # preexec hook only calls pthread_sigmask/prctl/getppid, which take no lock a thread holds.
        for child in started:
            pump_output(child)

    def restart(self, name: str) -> Child:
        """Start a fresh `name` (a crashed one was reaped already) and keep supervising it."""
        with _output_lock:  # no pump thread is mid-write while we fork
            child = spawn(name, self.commands[name], self.env, output="pipe")
        self.children.append(child)
        pump_output(child)
        return child

    def wait_until_serving(self) -> None:
        def serving() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=3):
                    return True
            except urllib.error.HTTPError:
                return (
                    True  # answering; the health check itself may still be waiting for the worker
                )
            except OSError:
                return False

        web = next(child for child in self.children if child.name == "web")
        self.wait_for("gunicorn", serving, 60, web)

    def health(self) -> str:
        """Wait briefly for /healthz to report everything up (the worker needs a few seconds)."""
        body = ""
        for _ in range(20):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=3):
                    return "ok (database, redis, worker)"
            except urllib.error.HTTPError as error:
                body = error.read().decode(errors="replace")
            except OSError as error:
                body = str(error)
            sleep(0.5)
        return f"NOT OK: {body}"

    def banner(self, health: str) -> None:
        password = (
            os.environ.get("PORTAL_ADMIN_PASSWORD") or self.admin_password_file.read_text().strip()
        )
        url = f"http://{'127.0.0.1' if HOST in ('0.0.0.0', '::') else HOST}:{PORT}"  # noqa: S104
        lines = [
            f"Portal running at {url}/",
            f"  pages     {url}/",
            f"  admin     {url}/admin/   user: admin   password: {password}",
            f"  API       {url}/api/v1/   (docs: {url}/api/v1/docs/)",
            f"  health    {url}/healthz   {health}",
            "Ctrl-C stops everything started here.",
        ]
        width = max(len(line) for line in lines) + 2
        with _output_lock:
            print("=" * width, *lines, "=" * width, sep="\n", flush=True)

    def supervise(self, poll_interval: float = 0.5) -> int:
        """Restart crashed application processes with backoff; 1 when giving up."""
        policies = {name: RestartPolicy() for name in self.commands}
        due: dict[str, float] = {}  # crashed children waiting for their restart: name -> when
        while True:
            now = time.monotonic()
            for child in list(self.children):
                code = child.popen.poll()
                if code is None:
                    continue
                if child.name not in policies:  # the PostgreSQL or Redis started here
                    log(f"{child.name} (pid {child.pid}) exited with code {code}; stopping all")
                    return 1
                ran_for = now - child.started
                policy = policies[child.name]
                delay = policy.after_crash(ran_for)
                if delay is None:
                    log(
                        f"{child.name} (pid {child.pid}) exited with code {code} after "
                        f"{ran_for:.1f}s: {policy.max_rapid + 1} crashes in a row, each within "
                        f"{policy.stable_after:.0f}s of its start; giving up, stopping all"
                    )
                    return 1
                log(
                    f"{child.name} (pid {child.pid}) exited with code {code} after {ran_for:.1f}s; "
                    f"restarting it in {delay:g}s (restart {policy.rapid} of at most "
                    f"{policy.max_rapid} in a row)"
                )
                self.children.remove(child)
                child.stop(timeout=5)  # reap what is left of its process group (pool children)
                due[child.name] = now + delay
            for name, when in list(due.items()):
                if time.monotonic() >= when:
                    del due[name]
                    child = self.restart(name)
                    log(f"restarted {name} (pid {child.pid})")
            sleep(poll_interval)

    def shutdown(self) -> None:
        # Application first, servers last; the worker gets longer to finish its current task.
        for group in (("web", "beat", "worker"), ("redis", "postgres")):
            members = [child for child in self.children if child.name in group]
            threads = [threading.Thread(target=child.stop) for child in members]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for child in members:
                log(f"stopped {child.name} (pid {child.pid})")
        self.children.clear()

    def main(self) -> int:
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        lock = open(RUN_DIR / "runner.lock", "w")  # noqa: SIM115 - held for the whole run
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"another `make run` is already running with {LOCAL}; stop it first (Ctrl-C)")
            return 1
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, _on_signal)

        recover_stale_processes()
        started = time.monotonic()
        try:
            if not self.env.get("DATABASE_URL") or not self.env.get("REDIS_URL"):
                self.run_script("services.sh", "prepare")
            if not self.env.get("DATABASE_URL"):
                self.start_postgres()
            if not self.env.get("REDIS_URL"):
                self.start_redis()
            check_stop()
            self.prepare_django()
            self.start_app()
            self.wait_until_serving()
            health = self.health()
            log(f"ready in {time.monotonic() - started:.1f}s")
            self.banner(health)
            return self.supervise()
        except StopRequested:
            log(f"received {signal.Signals(_stop_requested).name}; stopping")
            return 0
        except StartupError as error:
            log(f"error: {error}")
            return 1
        finally:
            self.shutdown()
            log("all processes started by this run are stopped")


if __name__ == "__main__":
    sys.exit(Runner().main())
