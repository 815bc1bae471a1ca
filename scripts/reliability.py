#!/usr/bin/env python
"""`make reliability`: run the fault drills on servers of their own and print one summary.

1. starts a private PostgreSQL cluster and Redis under RELIABILITY_LOCAL_DIR (default
   /tmp/reliability) on 127.0.0.1:54349 / 63829 (never the shared 54329 / 63799);
2. runs `pytest -m reliability tests/reliability` against them (Redis SIGKILL mid-storm,
   worker children SIGKILLed mid-task and a poison task, PostgreSQL restart under load,
   admin/API edit races);
3. runs the permission matrix, the fuzzer (scripts/fuzz.py, unless --skip-fuzz) and a
   backup → restore → verify round trip on the drill database;
4. prints the table and exits non-zero if anything failed; stops its own servers.
"""

# ruff: noqa: S603, S108 - runs our own fixed commands; the drill dir is ours, mode 0755
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
ARTIFACTS = ROOT / "test-artifacts"
DRILLS = ARTIFACTS / "reliability"
LOCAL = Path(os.environ.get("RELIABILITY_LOCAL_DIR", "/tmp/reliability"))
PG_PORT = int(os.environ.get("RELIABILITY_PG_PORT", "54349"))
REDIS_PORT = int(os.environ.get("RELIABILITY_REDIS_PORT", "63829"))


def log(message: str) -> None:
    print(f"[reliability] {message}", file=sys.stderr, flush=True)


def services_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        PORTAL_LOCAL_DIR=str(LOCAL),
        PORTAL_PG_PORT=str(PG_PORT),
        PORTAL_REDIS_PORT=str(REDIS_PORT),
        PORTAL_PG_FSYNC="off",  # a throwaway cluster: speed over durability
    )
    return env


def drill_env() -> dict:
    env = os.environ.copy()
    env.update(
        DATABASE_URL=f"postgres://portal@127.0.0.1:{PG_PORT}/portal",
        REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0",
        RELIABILITY_LOCAL_DIR=str(LOCAL),
        RELIABILITY_PG_PORT=str(PG_PORT),
        RELIABILITY_REDIS_PORT=str(REDIS_PORT),
        PYTHONUNBUFFERED="1",
    )
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "TEST_REDIS_URL"):
        env.pop(name, None)
    return env


def run(argv: list[str], env: dict, timeout: float, log_name: str) -> int:
    ARTIFACTS.mkdir(exist_ok=True)
    logfile = ARTIFACTS / log_name
    log(f"$ {' '.join(argv)}  (output: {logfile.relative_to(ROOT)})")
    with logfile.open("w") as out:
        try:
            return subprocess.run(
                argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
            ).returncode
        except subprocess.TimeoutExpired:
            out.write(f"\n[reliability] timed out after {timeout}s\n")
            return 124


def load(name: str) -> dict:
    path = DRILLS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def pg_bin() -> str:
    return subprocess.run(
        [str(ROOT / "scripts" / "services.sh"), "pg-bin"], capture_output=True, text=True
    ).stdout.strip()


def backup_round_trip(env: dict) -> dict:
    """backup → restore --verify into a new database on the drill server."""
    dump = LOCAL / "drill.dump"
    seeded = subprocess.run(
        [PY, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    if seeded.returncode != 0:
        return {"error": seeded.stderr[-500:]}
    subprocess.run([PY, "manage.py", "load_curated_data"], cwd=ROOT, env=env,
                   capture_output=True, timeout=300)  # fmt: skip
    backup = subprocess.run(
        [PY, "manage.py", "backup", "--output", str(dump)], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if backup.returncode != 0:
        return {"error": backup.stderr[-500:]}
    target = "portal_restore_drill"
    subprocess.run(
        [pg_bin() + "/psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "portal",
         "-d", "postgres", "-qc", f'DROP DATABASE IF EXISTS "{target}"'],
        capture_output=True, timeout=60,
    )  # fmt: skip
    restore = subprocess.run(
        [PY, "manage.py", "restore", str(dump), "--target-db", target, "--verify"], cwd=ROOT,
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    text = restore.stdout + restore.stderr
    tables = re.search(r"tables: (\d+)", text)  # restore --verify: "tables: N, mismatches: M"
    mismatches = re.search(r"mismatches: (\d+)", text)
    return {
        "returncode": restore.returncode,
        "tables": int(tables.group(1)) if tables else None,
        "mismatches": int(mismatches.group(1)) if mismatches else (0 if restore.returncode == 0
                                                                    else None),
        "output": text[-800:],
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-fuzz", action="store_true", help="reuse the last fuzz report")
    parser.add_argument("-k", default=None, help="only drills matching this pytest -k expression")
    args = parser.parse_args()

    if PG_PORT == 54329 or REDIS_PORT == 63799:
        log("refusing to run the drills on the shared servers' ports")
        return 2
    shutil.rmtree(DRILLS, ignore_errors=True)
    DRILLS.mkdir(parents=True)
    LOCAL.mkdir(parents=True, exist_ok=True)
    LOCAL.chmod(0o755)
    start = subprocess.run([str(ROOT / "scripts" / "services.sh"), "start"], env=services_env())
    if start.returncode != 0:
        log("could not start the drill's own PostgreSQL/Redis")
        return 1
    results = {}
    try:
        env = drill_env()
        junit = str(ARTIFACTS / "reliability.xml")
        pytest_args = [PY, "-m", "pytest", "-m", "reliability", "tests/reliability", "-q",
                       "-p", "no:cacheprovider", "--junitxml", junit]  # fmt: skip
        if args.k:
            pytest_args += ["-k", args.k]
        results["drills"] = run(pytest_args, env, 900, "reliability-drills.log")
        matrix = [PY, "-m", "pytest", "tests/test_permission_matrix.py", "-q",
                  "-p", "no:cacheprovider"]  # fmt: skip
        results["matrix"] = run(matrix, env, 900, "permission-matrix.log")
        if not args.skip_fuzz:
            results["fuzz"] = run([PY, "scripts/fuzz.py"], os.environ.copy(), 1800, "fuzz.log")
        backup = backup_round_trip(drill_env())
        results["backup"] = (
            0 if backup.get("returncode") == 0 and not backup.get("mismatches") else 1
        )
        (DRILLS / "backup.json").write_text(json.dumps(backup, indent=2))
    finally:
        subprocess.run([str(ROOT / "scripts" / "services.sh"), "stop"], env=services_env())
    print_table(results)
    return 0 if all(code == 0 for code in results.values()) else 1


def _worker_back(storm: dict) -> str:
    if not storm.get("worker_back"):
        return "NOT back"
    if storm.get("worker_reconnected"):
        return "reconnected"
    return f"restarted {storm.get('worker_restarted')}x by its supervisor"


def _cell(value) -> str:
    return "n/a" if value is None or value == "" else str(value)


def print_table(results: dict) -> None:
    fuzz = {}
    fuzz_path = ARTIFACTS / "fuzz-summary.json"
    if fuzz_path.exists():
        fuzz = json.loads(fuzz_path.read_text())
    storm, workers, pg, races = (load(n) for n in ("redis_storm", "worker_kill", "pg_restart",
                                                     "races"))  # fmt: skip
    matrix, backup = load("permission_matrix"), load("backup")
    faults = (1 if storm else 0) + workers.get("kills", 0) + pg.get("restarts", 0)
    rows = [
        ("requests fuzzed / 5xx", fuzz.get("requests"), fuzz.get("server_errors"),
         f"{fuzz.get('operations', 'n/a')} operations, {fuzz.get('failures', 'n/a')} failures"),
        ("faults injected / recomputes lost", faults,
         (storm.get("recomputes_lost", 0) if storm else None),
         f"redis kill during {storm.get('edits', 'n/a')} edits "
         f"(stale before reconcile {storm.get('stale_before_reconcile', 'n/a')}, "
         f"max edit {storm.get('max_edit_seconds', 'n/a')} s, read errors "
         f"{storm.get('read_errors', 'n/a')}, worker "
         f"{_worker_back(storm)}); {workers.get('kills', 'n/a')} worker kills, "
         f"{workers.get('completed', 'n/a')}/{workers.get('tasks', 'n/a')} tasks done, poison "
         f"parked after {workers.get('poison_deliveries', 'n/a')} deliveries; "
         f"{pg.get('restarts', 'n/a')} PostgreSQL restart ({pg.get('clean_503', 'n/a')} clean "
         f"503, {pg.get('unclean', 'n/a')} unclean)"),
        ("races / lost updates", races.get("pairs"), races.get("lost_updates"),
         f"{races.get('one_winner', 'n/a')} pairs with one winner, "
         f"{races.get('both_won', 'n/a')} sequential"),
        ("endpoints × roles / leaks", matrix.get("checks"),
         (None if not matrix else matrix.get("mismatches", 0) + matrix.get("leaks", 0)),
         f"{matrix.get('endpoints', 'n/a')} patterns × {matrix.get('roles', 'n/a')} roles"),
        ("backup tables / mismatches", backup.get("tables"), backup.get("mismatches"),
         "backup → restore --verify"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'check':<{width}}  {'count':>7}  {'bad':>5}  detail")
    print(f"{'-' * width}  {'-' * 7}  {'-' * 5}  {'-' * 40}")
    for name, count, bad, detail in rows:
        print(f"{name:<{width}}  {_cell(count):>7}  {_cell(bad):>5}  {detail}")
    print()
    print("steps: " + ", ".join(f"{k} {'ok' if v == 0 else f'FAILED ({v})'}" for k, v in
                                results.items()))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
