"""`make bench`: the whole benchmark on its own PostgreSQL and Redis, results as ratios.

1. Starts a PostgreSQL cluster and Redis under .local/bench/ on their own ports (never the
   dev services), via scripts/services.sh with PORTAL_LOCAL_DIR.
2. Seeds `bench_template` once with generate_demo_data (reused while the generator version,
   seed, scale and migrations are unchanged) and exports the same rows to SQLite.
3. Per round clones the template (`CREATE DATABASE … TEMPLATE`), starts gunicorn for the
   portal and for the floor app with the same settings, and Datasette, then runs wrk against
   every target in alternation (order reversed every other round).
4. Counts SQL queries at 10 and 10,000 rows, times the metric recompute against a bare SQL
   aggregate, and edit-to-visible freshness through a real Celery worker.
5. Writes bench/results/latest.json and latest.md (bench/report.py).

Environment: BENCH_COMPANIES (100000), BENCH_SEED (1), BENCH_ROUNDS (3), BENCH_DURATION (3, s
per wrk run), BENCH_CONNECTIONS ("8 32"), BENCH_EDITS (20), BENCH_PG_PORT (54339),
BENCH_REDIS_PORT (63809), BENCH_HTTP_PORT (18100; +1 floor, +2 Datasette).
Usage: python -m bench.run [all|data]
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench import report
from bench.demo_data import GENERATOR_VERSION

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local" / "bench"
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")
DATASETTE = LOCAL / "datasette-venv" / "bin" / "datasette"
RESULTS = ROOT / "bench" / "results"

COMPANIES = int(os.environ.get("BENCH_COMPANIES", "100000"))
SEED = int(os.environ.get("BENCH_SEED", "1"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
DURATION = int(os.environ.get("BENCH_DURATION", "3"))
CONNECTIONS = [int(c) for c in os.environ.get("BENCH_CONNECTIONS", "8 32").split()]
EDITS = int(os.environ.get("BENCH_EDITS", "20"))
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "54339"))
REDIS_PORT = int(os.environ.get("BENCH_REDIS_PORT", "63809"))
HTTP_PORT = int(os.environ.get("BENCH_HTTP_PORT", "18100"))
PAGE_SIZE = 100
# Same settings as scripts/run.py serves the portal with (sync workers, WEB_CONCURRENCY=2).
GUNICORN_ARGS = ["--workers", os.environ.get("WEB_CONCURRENCY", "2"), "--timeout", "60",
                 "--graceful-timeout", "10", "--no-control-socket"]  # fmt: skip
# One template per scale, so a quick small run never throws away the full-scale one.
TEMPLATE = f"bench_template_{COMPANIES}"
SMALL_DB, LARGE_DB = "bench_q10", "bench_q10k"
PG_BIN = Path("/usr/lib/postgresql/15/bin")

_children: list[subprocess.Popen] = []


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def dsn(database: str) -> str:
    return f"postgres://portal@127.0.0.1:{PG_PORT}/{database}"


def redis_url(db: int = 0) -> str:
    return f"redis://127.0.0.1:{REDIS_PORT}/{db}"


def psql(sql: str, database: str = "postgres") -> str:
    result = subprocess.run(
        [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "portal", "-d",
         database, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return result.stdout.strip()


def django_env(database: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": dsn(database),
        "REDIS_URL": redis_url(0),
        "CELERY_BROKER_URL": redis_url(0),
        "CELERY_RESULT_BACKEND": redis_url(0),
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    env.update(extra)
    return env


def manage(database: str, *args: str, **extra: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=django_env(database, **extra),
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return result.stdout + result.stderr


def inproc(database: str, step: str, args: dict | None = None, timeout: float = 900) -> dict:
    """Run a bench/inproc.py step against `database`; its JSON answer, or why it failed."""
    env = django_env(database, ALLOWED_HOSTS="testserver,127.0.0.1,localhost")
    try:
        result = subprocess.run(
            [PYTHON, "-m", "bench.inproc", step, json.dumps(args or {})], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"available": False, "reason": f"{step} timed out after {timeout:.0f} s"}
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        return {"available": False, "reason": f"{step} failed: {' / '.join(tail)}"}
    return json.loads(lines[-1])


def spawn(name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    LOCAL.mkdir(parents=True, exist_ok=True)
    logfile = open(LOCAL / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
    child = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True
    )
    _children.append(child)
    return child


def stop(child: subprocess.Popen) -> None:
    """Stop one child we started (its own process group, by id) and wait for it."""
    if child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGTERM)
            child.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
    if child in _children:
        _children.remove(child)


def stop_all() -> None:
    for child in list(reversed(_children)):
        stop(child)


def wait_http(url: str, child: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"{child.args[0]} exited with {child.returncode}; see {LOCAL}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own 127.0.0.1 URL
                return
        except urllib.error.HTTPError:
            return  # it answers; the status is the target's business
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


# --- services and databases -------------------------------------------------------------


def start_services() -> None:
    env = {
        **os.environ,
        "PORTAL_LOCAL_DIR": str(LOCAL),
        "PORTAL_PG_PORT": str(PG_PORT),
        "PORTAL_REDIS_PORT": str(REDIS_PORT),
        "PORTAL_PG_DATABASES": "postgres",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    subprocess.run([str(ROOT / "scripts" / "services.sh"), "start"], env=env, check=True)
    # Fewer checkpoints while seeding a million rows; the server keeps its other defaults.
    psql("ALTER SYSTEM SET max_wal_size = '8GB'")
    # A measurement stopped at its time limit must not leave its query running on the server.
    psql("ALTER SYSTEM SET client_connection_check_interval = '1s'")
    psql("SELECT pg_reload_conf()")


def database_exists(name: str) -> bool:
    return psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


def drop_database(name: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clone(name: str, template: str) -> None:
    drop_database(name)
    # FILE_COPY copies the files instead of WAL-logging every block: seconds, not minutes.
    psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')


def database_comment(name: str) -> dict:
    text = psql(
        f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{name}'"
    )
    try:
        return json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}


def set_database_comment(name: str, value: dict) -> None:
    text = json.dumps(value).replace("'", "''")
    psql(f"COMMENT ON DATABASE \"{name}\" IS '{text}'")


def files_fingerprint(paths) -> str:
    """Changes whenever one of the files is added, removed or edited."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def migrations_fingerprint() -> str:
    """The template must be rebuilt when a migration is added or edited."""
    return files_fingerprint(sorted(ROOT.glob("*/migrations/0*.py")))


def metrics_fingerprint() -> str:
    """The template's stored metrics must be recomputed when the metric SQL changes."""
    return files_fingerprint(
        [*sorted(ROOT.glob("portal/metrics/*.py")), *sorted(ROOT.glob("*/metrics.py"))]
    )


def empty_schema() -> str:
    """A migrated, empty database to clone the small query-count databases from."""
    name = "bench_empty"
    fingerprint = {"migrations": migrations_fingerprint()}
    if database_exists(name) and database_comment(name) == fingerprint:
        return name
    drop_database(name)
    psql(f'CREATE DATABASE "{name}"')
    manage(name, "migrate", "--skip-checks", "-v0")
    set_database_comment(name, fingerprint)
    return name


def seeded(name: str, companies: int, per_company: tuple[int, int], key: dict) -> dict:
    """Database `name` with demo data at the scale; rebuilt only when `key` changed."""
    facilities, projects = per_company
    wanted = {**key, "companies": companies, "facilities": facilities, "projects": projects}
    current = database_comment(name) if database_exists(name) else {}
    if current and all(current.get(k) == v for k, v in wanted.items()):
        return {**current, "reused": True}
    clone(name, empty_schema())
    log(f"generating {companies} companies into {name}")
    started = time.perf_counter()
    output = manage(
        name, "generate_demo_data", "--companies", str(companies), "--seed", str(SEED),
        "--facilities-per-company", str(facilities), "--projects-per-company", str(projects),
        "--skip-audit", "--no-progress",
    )  # fmt: skip
    seconds = time.perf_counter() - started
    rows = sum(int(n.replace(",", "")) for n in re.findall(r"^\s+\S+\s+([\d,]+)$", output, re.M))
    info = {**wanted, "seconds": round(seconds, 1), "rows": rows, "output": output[-2000:]}
    psql("VACUUM ANALYZE", name)
    # The metrics are populated once, here: every clone then starts as a live portal does,
    # with its figures stored (pages show them), and the recurring full recompute is what
    # the recompute step measures. The one-off population is timed and reported apart.
    log(f"populating the metric tables of {name}")
    population = inproc(name, "recompute_full", timeout=RECOMPUTE_TIMEOUT * 3)
    info["metrics_population_s"] = (
        round(population["seconds"], 2) if population.get("available") else None
    )
    psql("VACUUM ANALYZE", name)
    set_database_comment(name, {k: v for k, v in info.items() if k != "output"})
    return {**info, "reused": False}


def datasette_file(key: str) -> Path:
    path = LOCAL / f"datasette-{key}.sqlite"
    if not path.exists():
        for stale in LOCAL.glob("datasette-*.sqlite"):
            stale.unlink()
        log("exporting the template rows to SQLite for Datasette")
        subprocess.run(
            [PYTHON, "-m", "bench.datasette_export", dsn(TEMPLATE), str(path)],
            cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    return path


def ensure_datasette() -> bool:
    if DATASETTE.exists():
        return True
    log("installing Datasette into its own venv (bench/requirements.txt)")
    try:
        subprocess.run([PYTHON, "-m", "venv", str(DATASETTE.parent.parent)], check=True)
        subprocess.run(
            [str(DATASETTE.parent / "pip"), "install", "-q", "-r",
             str(ROOT / "bench" / "requirements.txt")],
            check=True,
        )  # fmt: skip
    except subprocess.CalledProcessError:
        return False
    return DATASETTE.exists()


# --- HTTP -------------------------------------------------------------------------------

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(output: str) -> dict:
    """Throughput, p50/p99 latency and error counts from `wrk --latency` output."""

    def latency(percentile: str) -> float | None:
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        return float(match.group(1)) * UNIT_MS[match.group(2)] if match else None

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    requests = re.search(r"(\d+) requests in", output)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "requests": int(requests.group(1)) if requests else 0,
        "errors": (int(non2xx.group(1)) if non2xx else 0)
        + (sum(int(g) for g in socket.groups()) if socket else 0),
    }


def wrk(url: str, connections: int, headers: dict[str, str], duration: int = DURATION) -> dict:
    argv = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency",
            "--timeout", "10s"]  # fmt: skip
    for key, value in headers.items():
        argv += ["-H", f"{key}: {value}"]
    result = subprocess.run(
        [*argv, url], capture_output=True, text=True, timeout=duration + 30, check=False
    )
    figures = parse_wrk(result.stdout)
    if figures["errors"] and figures["requests"]:
        # Errors make fast responses: count only successful throughput.
        figures["rps"] *= max(0.0, 1 - figures["errors"] / figures["requests"])
    return figures


# Close to wrk's 10 s timeout: slower pages would only queue work into the next run.
SLOW_REQUEST_S = 8.0


def probe(url: str, headers: dict[str, str]) -> tuple[bool, str, float]:
    # Only the http://127.0.0.1 URLs built by http_targets come here.
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            body = response.read()
            elapsed = time.perf_counter() - started
            return True, f"{response.status}, {len(body)} bytes", elapsed
    except urllib.error.HTTPError as error:
        kind = "endpoint does not exist yet" if error.code == 404 else "error"
        return False, f"HTTP {error.code} ({kind}) at {url.split('127.0.0.1')[-1]}", 0.0
    except OSError as error:
        return False, f"no answer: {error}", 0.0


def drain(url: str, timeout: float = 90) -> None:
    """Wait until the server answers promptly again: requests wrk left queued in gunicorn's
    backlog would otherwise be served during (and slow down) the next target's run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 - 127.0.0.1 only
                pass
        except urllib.error.HTTPError:
            pass
        except OSError:
            time.sleep(0.5)
            continue
        if time.perf_counter() - started < 0.5:
            return


def http_targets(info: dict) -> dict[str, tuple[str, dict]]:
    portal = f"http://127.0.0.1:{HTTP_PORT}"
    floor = f"http://127.0.0.1:{HTTP_PORT + 1}"
    datasette = f"http://127.0.0.1:{HTTP_PORT + 2}/bench"
    auth = {"Authorization": f"Bearer {info['token']}"}
    project_filter = f"region={info['region_slug']}&amount_kind={info['amount_kind']}"
    ds = f"_size={PAGE_SIZE}&_nocount=1&_nofacet=1&_shape=objects"
    path = info.get("region_path") or "/"
    return {
        "floor-companies": (f"{floor}/companies?page_size={PAGE_SIZE}", {}),
        "api-companies": (f"{portal}/api/v1/companies/?page_size={PAGE_SIZE}", auth),
        "datasette-companies": (f"{datasette}/companies.json?_sort=name_en&{ds}", {}),
        "floor-facilities": (f"{floor}/facilities?page_size={PAGE_SIZE}", {}),
        "api-facilities": (f"{portal}/api/v1/facilities/?page_size={PAGE_SIZE}", auth),
        "datasette-facilities": (f"{datasette}/facilities.json?_sort=name_en&{ds}", {}),
        "floor-projects": (f"{floor}/projects?{project_filter}&page_size={PAGE_SIZE}", {}),
        "api-projects": (f"{portal}/api/v1/projects/?{project_filter}&page_size={PAGE_SIZE}", auth),
        "datasette-projects": (
            f"{datasette}/projects.json?region_path__startswith={path}&amount_kind="
            f"{info['amount_kind']}&_sort_desc=announced_on&{ds}",
            {},
        ),
        "html-list": (f"{portal}/companies/", {}),
        "html-detail": (f"{portal}/companies/{info['company_slug']}/", {}),
    }


def start_web(database: str, sqlite: Path | None) -> list[subprocess.Popen]:
    env = django_env(
        database,
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        SECRET_KEY="bench-only-secret-key-not-used-anywhere-else-0123456789abcdef",  # noqa: S106
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # Throttling stays on (its Redis round trip is a real cost) but never refuses wrk.
        API_THROTTLE_RATE="100000000/s",
        BENCH_FLOOR_DSN=dsn(database),
    )
    gunicorn = str(VENV_BIN / "gunicorn")
    children = [
        spawn("portal", [gunicorn, "portal.wsgi:application", "--bind",
                         f"127.0.0.1:{HTTP_PORT}", *GUNICORN_ARGS], env),
        spawn("floor", [gunicorn, "bench.floor_app:application", "--bind",
                        f"127.0.0.1:{HTTP_PORT + 1}", *GUNICORN_ARGS], env),
    ]  # fmt: skip
    wait_http(f"http://127.0.0.1:{HTTP_PORT}/healthz", children[0])
    wait_http(f"http://127.0.0.1:{HTTP_PORT + 1}/companies?page_size=1", children[1])
    if sqlite is not None:
        link = LOCAL / "bench.sqlite"  # Datasette names the database after the file
        link.unlink(missing_ok=True)
        link.symlink_to(sqlite)
        children.append(
            spawn("datasette", [str(DATASETTE), "serve", "--immutable", str(link), "-h",
                                "127.0.0.1", "-p", str(HTTP_PORT + 2), "--setting",
                                "sql_time_limit_ms", "10000"], {**os.environ})
        )  # fmt: skip
        wait_http(f"http://127.0.0.1:{HTTP_PORT + 2}/-/versions.json", children[-1])
    return children


def measure_http(rounds_info: list[dict], sqlite: Path | None, results: dict) -> None:
    samples: dict[str, dict[int, list[dict]]] = {}
    unavailable: dict[str, str] = {}
    for round_index, info in enumerate(rounds_info):
        database = info["database"]
        log(f"round {round_index + 1}/{len(rounds_info)}: HTTP on {database}")
        children = start_web(database, sqlite)
        try:
            targets = http_targets(info)
            order = list(targets)
            if round_index % 2:
                order.reverse()  # A B C … then … C B A: drift during a round cancels out
            for name in order:
                url, headers = targets[name]
                if name.startswith("datasette") and sqlite is None:
                    unavailable[name] = "Datasette could not be installed"
                    continue
                ok, detail, elapsed = probe(url, headers)
                if not ok:
                    unavailable[name] = detail
                    continue
                if elapsed > SLOW_REQUEST_S:
                    # Too slow to load-test within the run's budget (wrk would queue minutes
                    # of work): the single request bounds it; all workers busy at best.
                    workers = int(GUNICORN_ARGS[1])
                    estimate = {
                        "rps": workers / elapsed,
                        "p50_ms": elapsed * 1000,
                        "p99_ms": elapsed * 1000,
                        "errors": 0,
                        "requests": 1,
                        "estimated": f"one request took {elapsed:.1f} s; not load-tested",
                    }
                    for conns in CONNECTIONS:
                        samples.setdefault(name, {}).setdefault(conns, []).append(estimate)
                    continue
                log(f"  {name}")
                if round_index == 0:
                    wrk(url, 4, headers, duration=2)  # warm caches once, not measured
                for conns in CONNECTIONS:
                    figures = wrk(url, conns, headers)
                    samples.setdefault(name, {}).setdefault(conns, []).append(figures)
                    if name.startswith(("api", "html")):
                        # A 404 is answered by Django without touching the database (unlike
                        # /healthz, which checks the worker): a fast answer means an empty queue.
                        drain(f"http://127.0.0.1:{HTTP_PORT}/bench-drain-probe-404")
        finally:
            for child in children:
                stop(child)
    http = {}
    for name in http_targets(rounds_info[0]):
        if name not in samples:
            http[name] = {"available": False, "reason": unavailable.get(name, "not measured")}
            continue
        by_connections = {}
        for conns, runs in samples[name].items():
            good = [run for run in runs if run["rps"] and run["p99_ms"] is not None]
            if not good:
                continue
            by_connections[str(conns)] = {
                "rps": statistics.median(run["rps"] for run in good),
                "p50_ms": statistics.median(run["p50_ms"] for run in good),
                "p99_ms": statistics.median(run["p99_ms"] for run in good),
                "errors": sum(run["errors"] for run in runs),
                "runs": runs,
            }
            notes = {run["estimated"] for run in good if run.get("estimated")}
            if notes:
                by_connections[str(conns)]["note"] = "; ".join(sorted(notes))
        http[name] = {"available": bool(by_connections), "by_connections": by_connections}
        if not by_connections:
            http[name]["reason"] = "every wrk run failed"
    results["http"] = http


# --- the other measurements ---------------------------------------------------------------


def measure_queries(results: dict) -> None:
    key = {
        "generator": GENERATOR_VERSION,
        "seed": SEED,
        "migrations": migrations_fingerprint(),
        "metrics": metrics_fingerprint(),
    }
    seeded(SMALL_DB, 10, (1, 1), key)
    seeded(LARGE_DB, 10_000, (1, 1), key)
    small = inproc(SMALL_DB, "queries", {"page_size": 1000})
    large = inproc(LARGE_DB, "queries", {"page_size": 1000})
    queries = {}
    for name in sorted(set(small.get("targets", {})) | set(large.get("targets", {}))):
        a, b = small["targets"].get(name, {}), large["targets"].get(name, {})
        if a.get("available") and b.get("available"):
            queries[name] = {"available": True, "small": a["queries"], "large": b["queries"]}
            if a["queries"] != b["queries"]:
                queries[name]["sql_large"] = b.get("sql", [])
        else:
            queries[name] = {"available": False, "reason": a.get("reason") or b.get("reason")}
    if not queries:
        reason = small.get("reason") or large.get("reason") or "nothing measured"
        queries["all"] = {"available": False, "reason": reason}
    results["queries"] = queries


RECOMPUTE_TIMEOUT = float(os.environ.get("BENCH_RECOMPUTE_TIMEOUT", "120"))


def measure_recompute(database: str, population_s: float | None = None) -> dict:
    """Bare SQL floor and full recompute in alternation (F, R, F, R), then 1% incremental.

    A full recompute slower than the timeout is stopped and reported as a miss with a lower
    bound, so one slow family cannot push the whole run past its time budget.
    """
    floors, fulls = [], []
    for _ in range(2):
        floor = inproc(database, "recompute_floor")
        if not floor.get("available"):
            return floor
        floors.append(floor["seconds"])
        full = inproc(database, "recompute_full", timeout=RECOMPUTE_TIMEOUT)
        if not full.get("available"):
            if "timed out" not in full.get("reason", ""):
                return full
            return {
                "available": True,
                "floor_s": statistics.median(floors),
                "full_s": RECOMPUTE_TIMEOUT,
                "full_timed_out": True,
                "incremental_s": None,
                "incremental_reason": "skipped: the full recompute did not finish",
            }
        fulls.append(full["seconds"])
        if full["seconds"] > RECOMPUTE_TIMEOUT / 4:
            break  # too slow to repeat within the run's budget; one sample is reported
    result = {
        "available": True,
        "initial_s": population_s,
        "floor_s": statistics.median(floors),
        "full_s": statistics.median(fulls),
        "floor_runs": floors,
        "full_runs": fulls,
    }
    incremental = inproc(database, "recompute_incremental", timeout=RECOMPUTE_TIMEOUT)
    if incremental.get("available"):
        result.update({k: v for k, v in incremental.items() if k != "available"})
    elif "timed out" in incremental.get("reason", ""):
        result["incremental_s"] = RECOMPUTE_TIMEOUT
        result["incremental_timed_out"] = True
    else:
        result["incremental_s"] = None
        result["incremental_reason"] = incremental.get("reason")
    return result


def measure_freshness(database: str, results: dict) -> None:
    subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(REDIS_PORT), "FLUSHDB"],
        check=False, capture_output=True,
    )  # fmt: skip
    env = django_env(database, DJANGO_SETTINGS_MODULE="portal.settings.local")
    worker = spawn(
        "worker",
        [str(VENV_BIN / "celery"), "-A", "portal", "worker", "--loglevel", "WARNING",
         "--concurrency", os.environ.get("PORTAL_WORKER_CONCURRENCY", "2"), "--hostname",
         f"bench-{PG_PORT}@%h", "--without-gossip", "--without-mingle"],
        env,
    )  # fmt: skip
    try:
        results["freshness"] = inproc(database, "freshness", {"edits": EDITS}, timeout=300)
    finally:
        stop(worker)


def machine_facts() -> dict:
    def first_line(argv: list[str]) -> str:
        try:
            out = subprocess.run(argv, capture_output=True, text=True, check=False)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"

    import django

    memory = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "memory_gb": round(int(memory) / 1024 / 1024, 1),
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": psql("SHOW server_version"),
        "wrk": first_line(["wrk", "-v"]).split(" [")[0].replace("wrk ", ""),
        "platform": platform.platform(),
    }


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "all"
    started = time.perf_counter()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    start_services()
    key = {
        "generator": GENERATOR_VERSION,
        "seed": SEED,
        "migrations": migrations_fingerprint(),
        "metrics": metrics_fingerprint(),
    }
    generation = seeded(TEMPLATE, COMPANIES, (2, 10), key)
    log(f"template ready ({'reused' if generation['reused'] else 'generated'}: "
        f"{generation.get('seconds')} s)")  # fmt: skip
    if command == "data":
        return 0
    results: dict = {
        "machine": machine_facts(),
        "config": {
            "companies": COMPANIES,
            "seed": SEED,
            "rounds": ROUNDS,
            "duration_s": DURATION,
            "connections": CONNECTIONS,
            "page_size": PAGE_SIZE,
            "generator_version": GENERATOR_VERSION,
        },
        "generation": {
            k: generation.get(k) for k in ("seconds", "rows", "reused", "metrics_population_s")
        },
        "notes": [
            "Demo data is loaded with the portal_audit trigger disabled during the COPY "
            "(bench databases only, re-enabled after); foreign keys and secondary indexes are "
            "re-created and re-validated after the load.",
            "Query counts compare databases with 10 and 10,000 companies/facilities/projects; "
            "API lists are read at page_size=1000.",
        ],
    }
    manage(TEMPLATE, "collectstatic", "--noinput", "-v0", "--skip-checks")
    sqlite = (
        datasette_file(f"{GENERATOR_VERSION}-{SEED}-{COMPANIES}") if ensure_datasette() else None
    )
    run_databases = []
    try:
        rounds_info = []
        for round_index in range(ROUNDS):
            database = f"bench_run_{round_index + 1}"
            clone(database, TEMPLATE)
            run_databases.append(database)
            info = inproc(database, "prepare")
            if "token" not in info:
                raise RuntimeError(f"could not prepare {database}: {info.get('reason')}")
            rounds_info.append({**info, "database": database})
        measure_http(rounds_info, sqlite, results)
        log("query counts at 10 and 10,000 rows")
        measure_queries(results)
        log("metric recompute vs SQL floor")
        results["recompute"] = measure_recompute(
            run_databases[-1], generation.get("metrics_population_s")
        )
        log("edit-to-visible freshness through a Celery worker")
        measure_freshness(run_databases[0], results)
    finally:
        stop_all()
        for database in run_databases:
            drop_database(database)
    results["wall_seconds"] = time.perf_counter() - started
    json_path, md_path = report.write(results, RESULTS)
    log(f"wrote {json_path.relative_to(ROOT)} and {md_path.relative_to(ROOT)}")
    print(md_path.read_text())
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    finally:
        stop_all()
