#!/usr/bin/env python
"""`make fuzz`: schemathesis against a real gunicorn serving the API, on a database of its own.

1. (re)creates the database FUZZ_DATABASE (default `portal_fuzz`) on the PostgreSQL of
   DATABASE_URL (default the project-local server), migrates it and loads the curated data;
   empties its Redis database FUZZ_REDIS_URL (default local DB 11: cache, broker);
2. creates a superuser `fuzz-admin` and issues it a token with `manage.py issue_token` (a
   staff token reaches the write paths too: validation, If-Match, conflicts);
3. starts gunicorn on a spare loopback port (DEBUG off, throttling raised so the fuzzer is
   not answered 429);
4. runs `st run /api/v1/schema/` with every phase, FUZZ_MAX_EXAMPLES (default 150) cases per
   operation (35+ operations: well over 5,000 requests), the checks not_a_server_error and
   response_schema_conformance plus our own "no stack trace in a body"
   (tests/reliability/fuzz_hooks.py);
5. writes test-artifacts/fuzz-report.xml (JUnit), test-artifacts/fuzz-summary.json (requests,
   5xx, operations) and fails on any failure or if fewer than 5,000 requests were made.
"""

# ruff: noqa: S603 - fixed commands of our own
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
BIN = Path(PY).parent
ARTIFACTS = ROOT / "test-artifacts"
MIN_REQUESTS = 5000


def log(message: str) -> None:
    print(f"[fuzz] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_database(url: str, name: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path=f"/{name}"))


def manage(env: dict, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, text=True, capture_output=True, **kwargs
    )


def recreate_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


def main() -> int:
    server_url = os.environ.get("DATABASE_URL", "postgres://portal@127.0.0.1:54329/portal")
    database = os.environ.get("FUZZ_DATABASE", "portal_fuzz")
    redis_url = os.environ.get("FUZZ_REDIS_URL", "redis://127.0.0.1:63799/11")
    max_examples = os.environ.get("FUZZ_MAX_EXAMPLES", "150")
    ARTIFACTS.mkdir(exist_ok=True)
    summary_path = ARTIFACTS / "fuzz-summary.json"
    summary_path.unlink(missing_ok=True)

    env = os.environ.copy()
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.local",
        DEBUG="false",
        DATABASE_URL=with_database(server_url, database),
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        CELERY_RESULT_BACKEND=redis_url,
        API_THROTTLE_RATE="1000000/min",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    log(f"database {database} on {urlparse(server_url).netloc}")
    recreate_database(server_url, database)
    # The database starts afresh, so must its cache: a page cached by an earlier run under the
    # same data version would be served instead of what this code renders.
    import redis

    redis.Redis.from_url(redis_url, socket_connect_timeout=5).flushdb()
    for step in (["migrate", "--noinput"], ["load_curated_data"]):
        result = manage(env, *step, timeout=600)
        if result.returncode != 0:
            log(f"manage.py {' '.join(step)} failed:\n{result.stderr[-2000:]}")
            return 1
    created = manage(
        env, "createsuperuser", "--noinput", "--username", "fuzz-admin",
        "--email", "fuzz@example.com", timeout=120,
    )  # fmt: skip
    if created.returncode != 0:
        log(created.stderr[-1000:])
        return 1
    issued = manage(env, "issue_token", "fuzz-admin", "--name", "fuzz", "--days", "1", timeout=60)
    token = issued.stdout.strip().splitlines()[-1] if issued.returncode == 0 else ""
    if not token:
        log(f"issue_token failed: {issued.stderr[-1000:]}")
        return 1

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn_log = (ARTIFACTS / "fuzz-gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "2", "--timeout", "60", "--access-logfile", "-"],
        cwd=ROOT, env=env, stdout=gunicorn_log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_http(f"{base}/api/v1/schema/")
        st_env = env | {
            "SCHEMATHESIS_HOOKS": "tests.reliability.fuzz_hooks",
            "FUZZ_SUMMARY_PATH": str(summary_path),
            "PYTHONPATH": str(ROOT),
        }
        argv = [
            str(BIN / "st"), "run", f"{base}/api/v1/schema/",
            "--header", f"Authorization: Bearer {token}",
            "--checks", "not_a_server_error,response_schema_conformance,no_stack_trace_in_body",
            "--max-examples", max_examples,
            "--workers", "2",
            "--seed", os.environ.get("FUZZ_SEED", "20260101"),
            "--request-timeout", "30",
            "--suppress-health-check", "all",
            "--continue-on-failure",
            "--report", "junit",
            "--report-junit-path", str(ARTIFACTS / "fuzz-report.xml"),
            "--warnings", "off",
        ]  # fmt: skip
        log(f"schemathesis: {max_examples} examples per operation against {base}")
        with (ARTIFACTS / "fuzz-schemathesis.log").open("w") as out:
            fuzz = subprocess.run(argv, cwd=ROOT, env=st_env, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=1500)  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        gunicorn_log.close()

    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    tail = (ARTIFACTS / "fuzz-schemathesis.log").read_text(errors="replace").splitlines()[-25:]
    print("\n".join(tail))
    summary.update(exit_code=fuzz.returncode, failures=0 if fuzz.returncode == 0 else "see report")
    summary_path.write_text(json.dumps(summary, indent=2))
    log(
        f"{summary.get('requests', 0)} requests, {summary.get('server_errors', 0)} 5xx, "
        f"{summary.get('operations', 0)} operations; schemathesis exit {fuzz.returncode}; "
        "report test-artifacts/fuzz-report.xml"
    )
    if summary.get("requests", 0) < MIN_REQUESTS:
        log(f"fewer than {MIN_REQUESTS} requests: raise FUZZ_MAX_EXAMPLES")
        return 1
    return 0 if fuzz.returncode == 0 and summary.get("server_errors", 1) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
