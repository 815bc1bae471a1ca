"""Recompute derived metrics: whole families (full) or restricted to dirty subjects.

Public entry points (used by tasks, the management command, the admin action and the
benchmark): `recompute_all()`, `recompute_subjects(subjects)`, `recompute_family(key, ...)`,
`resolve_subjects_for_write(instance)`, `stale_subjects(since)`.

Every family is one statement (see `sql.UPSERT_FAMILY`: compute, diff against the stored
rows, write only what changed, record history and the run in the MetricComputation ledger)
plus an advisory lock, each in its own short transaction: a full recompute issues a fixed
number of statements whatever the row count. Families are independent (each writes only its
own figures and reads base rows, never another family's figures), so several run at once, each
on its own connection (`METRICS_PARALLEL_FAMILIES`).
"""

from __future__ import annotations

import datetime
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from portal.metrics import registry, sql

logger = logging.getLogger(__name__)

Subject = tuple[str, int | None]


@dataclass(frozen=True)
class FamilyResult:
    family: str
    computed: int
    written: int
    deleted: int
    snapshots: int  # history rows: one per subject whose figures were rewritten
    input_version: int


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def recompute_family(
    key: str,
    *,
    subject_ids: Iterable[int] | None = None,
    input_version: int | None = None,
    today: datetime.date | None = None,
    pending_only: bool = False,
) -> FamilyResult:
    """Recompute one family for the given subjects (None: every subject of its type).

    `pending_only` (keyed families): rewrite only the slices their queue of changed cells
    names, whatever the subjects.

    `input_version` None labels the rows with the highest Change id visible to the statement
    (the normal case). A number pins the label; it exists to replay an older run, and the
    guard then refuses to overwrite anything computed from newer data.
    """
    family = registry.family(key)
    ids = None if subject_ids is None else sorted({int(i) for i in subject_ids})
    if family.subject_type == "portal":
        ids = None  # one portal-wide subject: always recomputed as a whole
    pending_only = pending_only and family.keyed
    if pending_only:
        ids = None
    if ids is not None and not ids:
        return FamilyResult(key, 0, 0, 0, 0, 0)
    params = {
        "family": family.key,
        "subject_type": family.subject_type,
        "names": list(family.names),
        "subject_ids": ids,
        "input_version": input_version,
        "today": today or timezone.localdate(),
        "pending_only": pending_only,
        "live": family.live and pending_only,
    }
    if family.sql is not None:
        family_sql = family.sql
    else:
        rows = list(family.compute(ids))
        params["rows"] = json.dumps(rows, default=_json_default)
        family_sql = sql.PYTHON_ROWS
    statement = sql.UPSERT_FAMILY.replace(
        "{pending_sql}", family.pending_sql or sql.NO_PENDING
    ).replace("{family_sql}", family_sql)
    lock = {
        "family": key,
        "work_mem": settings.METRICS_WORK_MEM,
        "nested_loops": "off" if family.keyed else "on",
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.FAMILY_LOCK, lock)
        cursor.execute(statement, params)
        computed, written, deleted, snapshots, version, _recorded, _pruned = cursor.fetchone()
    return FamilyResult(key, computed, written, deleted, snapshots, version)


def recompute_all(
    *,
    progress: Callable[[FamilyResult], None] | None = None,
    input_version: int | None = None,
    rederive: bool = False,
) -> list[FamilyResult]:
    """Recompute every figure from the base rows: one locked statement per family.

    Keyed families' running totals are first rebuilt from every base row and compared with
    what the triggers kept; every total that differs is queued, and those families then
    rewrite the queued slices. `rederive` makes them rewrite every subject instead (after a
    change to their SQL, when figures must be derived anew from unchanged totals).
    """
    for key, refresh_sql in registry.refreshes().items():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                sql.FAMILY_LOCK,
                {"family": key, "work_mem": settings.METRICS_WORK_MEM, "nested_loops": "on"},
            )
            cursor.execute(refresh_sql)
            (corrected,) = cursor.fetchone()
        if corrected:
            # Triggers keep the totals exact, so a correction means something bypassed them.
            logger.warning("metrics refresh %s corrected %d running totals", key, corrected)
    jobs = [
        (family, {"input_version": input_version, "pending_only": family.keyed and not rederive})
        for family in registry.families()
    ]
    return run_families(jobs, progress=progress)


def group_subjects(subjects: Iterable[Subject]) -> dict[str, set[int | None]]:
    grouped: dict[str, set[int | None]] = defaultdict(set)
    for subject_type, subject_id in subjects:
        if subject_type not in registry.SUBJECT_TYPES:
            raise ValueError(f"unknown subject type {subject_type!r}")
        grouped[subject_type].add(None if subject_type == "portal" else int(subject_id))
    return grouped


def recompute_subjects(
    subjects: Iterable[Subject],
    *,
    input_version: int | None = None,
    tables: Iterable[str] | None = None,
    progress: Callable[[FamilyResult], None] | None = None,
) -> list[FamilyResult]:
    """Recompute the families of the given subjects, restricted to those subjects.

    `tables`: the tables whose edits made them dirty; only families reading one of them run
    (None: every family of each subject type).
    Keyed families run on their queue of changed cells whenever a table they read changed,
    whatever the subjects.
    """
    jobs = []
    tables = None if tables is None else frozenset(tables)
    grouped = group_subjects(subjects)
    for subject_type in registry.SUBJECT_TYPES:
        for family in registry.families_reading(subject_type, tables):
            if family.keyed:
                jobs.append((family, {"pending_only": True, "input_version": input_version}))
            elif subject_type in grouped:
                ids = grouped[subject_type]
                scope = None if subject_type == "portal" else sorted(ids)
                jobs.append((family, {"subject_ids": scope, "input_version": input_version}))
    return run_families(jobs, progress=progress)


def run_families(
    jobs: list[tuple[registry.MetricFamily, dict]],
    *,
    progress: Callable[[FamilyResult], None] | None = None,
) -> list[FamilyResult]:
    """Run `recompute_family(family.key, **kwargs)` for each job; results in job order.

    Up to `METRICS_PARALLEL_FAMILIES` run at once, each in its own thread, connection and
    transaction, the keyed families (the long ones) first. Inside a caller's transaction they
    run one after another on its connection, as they must see and join that transaction. Each
    family commits on its own either way: one failing does not undo the others, and the first
    error is raised once all have finished.
    """
    workers = min(settings.METRICS_PARALLEL_FAMILIES, len(jobs))
    if workers <= 1 or connection.in_atomic_block:
        results = []
        for family, kwargs in jobs:
            results.append(recompute_family(family.key, **kwargs))
            if progress is not None:
                progress(results[-1])
        return results

    def run(family: registry.MetricFamily, kwargs: dict) -> FamilyResult:
        try:
            return recompute_family(family.key, **kwargs)
        finally:
            # This thread's own connection goes back to the pool.
            connection.close()

    order = sorted(range(len(jobs)), key=lambda index: not jobs[index][0].keyed)
    results: dict[int, FamilyResult] = {}
    errors: list[BaseException] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="metrics") as executor:
        futures = {executor.submit(run, *jobs[index]): index for index in order}
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as error:  # re-raised below, once the others have finished
                logger.exception("metrics family %s failed", jobs[futures[future]][0].key)
                errors.append(error)
                continue
            results[futures[future]] = result
            if progress is not None:
                progress(result)
    if errors:
        raise errors[0]
    return [results[index] for index in sorted(results)]


# Dirty resolution -------------------------------------------------------------------------


def _resolve(
    changes_sql: str, params: dict, *, only_stale: bool, tables: frozenset[str] | None = None
) -> list[tuple[Subject, int]]:
    """Run RESOLVE_SUBJECTS; `tables` (None: all) limits it to the mappings of those tables."""
    mappings = [
        (table, mapping_sql)
        for table, mapping_sql in registry.change_mappings()
        if tables is None or table in tables
    ]
    if not mappings:
        return []
    row_ctes, selects = [], []
    for index, (table, mapping_sql) in enumerate(mappings):
        name = f"rows_{index}"
        params[f"table_{index}"] = table
        row_ctes.append(
            f",\n{name} AS (SELECT change_id, data FROM changed_rows "  # noqa: S608 - code only
            f"WHERE table_name = %(table_{index})s)"
        )
        selects.append(
            "SELECT subject_type::text, subject_id::bigint, change_id::bigint, "  # noqa: S608
            f"%(table_{index})s::text AS table_name FROM ("
            + mapping_sql.replace("{rows}", name)
            + f") AS m_{index}"
        )
    expansion_sql = "".join(
        f"\n    UNION ALL SELECT subject_type::text, subject_id::bigint, change_id::bigint "  # noqa: S608
        f"FROM ({expansion}) AS e_{index}"
        for index, expansion in enumerate(registry.expansions())
    )
    statement = (
        sql.RESOLVE_SUBJECTS.replace("{changes}", changes_sql)
        .replace("{row_ctes}", "".join(row_ctes))
        .replace("{mappings}", "\n    UNION ALL\n    ".join(selects))
        .replace("{expansions}", expansion_sql)
        .replace("{final}", sql.STALE_SUBJECTS if only_stale else sql.ALL_SUBJECTS)
    )
    if only_stale:
        # Keyed families keep no per-subject ledger: their queue says what is stale.
        dependencies = [
            (family.key, family.subject_type, table)
            for family in registry.families()
            if not family.keyed
            for table in sorted(registry.mapped_tables())
            if family.reads({table})
        ]
        params["dependency_families"] = [key for key, _, _ in dependencies]
        params["dependency_types"] = [subject_type for _, subject_type, _ in dependencies]
        params["dependency_tables"] = [table for _, _, table in dependencies]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [((kind, sid), change_id) for kind, sid, change_id in cursor.fetchall()]


def resolve_subjects_for_write(instance) -> list[Subject]:
    """The subjects a committed write of `instance` affects (old and new images both)."""
    table = instance._meta.db_table
    if table not in registry.mapped_tables():
        return []
    params = {"table": table, "pk": str(instance.pk)}
    # Those changes are all of `table`: the other tables' mappings need not be planned.
    return [
        s
        for s, _ in _resolve(
            sql.CHANGES_OF_LAST_WRITE, params, only_stale=False, tables=frozenset({table})
        )
    ]


def stale_subjects(
    since: datetime.datetime, *, tables: Iterable[str] | None = None
) -> list[Subject]:
    """Subjects touched by changes since `since` whose metrics predate those changes.

    `tables`: the tables known to have changed (from `changed_tables`), so only their
    mappings run; None reads every mapped table.
    """
    changed = registry.mapped_tables() if tables is None else frozenset(tables)
    params = {"since": since, "tables": sorted(changed & registry.mapped_tables())}
    return [s for s, _ in _resolve(sql.CHANGES_SINCE, params, only_stale=True, tables=changed)]


def changed_tables(since: datetime.datetime) -> set[str]:
    """The metric-relevant tables with audited changes since `since`."""
    with connection.cursor() as cursor:
        cursor.execute(
            sql.TABLES_CHANGED_SINCE, {"since": since, "tables": sorted(registry.mapped_tables())}
        )
        return {table for (table,) in cursor.fetchall()}


def recompute_stale(
    since: datetime.datetime, *, progress: Callable[[FamilyResult], None] | None = None
) -> list[Subject]:
    """Recompute the stale subjects of the changes since `since`, with only the families
    that read the changed tables; returns the subjects."""
    tables = changed_tables(since)
    if not tables:
        return []
    # Resolving subjects costs a pass over the changes; skip it when only keyed families (which
    # read their queue) and portal-wide ones (always whole) read the changed tables.
    by_subject = any(
        not family.keyed and family.subject_type != "portal"
        for subject_type in registry.SUBJECT_TYPES
        for family in registry.families_reading(subject_type, tables)
    )
    subjects = stale_subjects(since, tables=tables) if by_subject else [("portal", None)]
    recompute_subjects(subjects, tables=tables, progress=progress)
    return subjects


def reconcile(*, lookback: datetime.timedelta = datetime.timedelta(days=1)) -> list[Subject]:
    """Recompute whatever changed in the window and is not reflected yet; returns subjects.

    Covers a recompute lost between commit and publish (Redis down, worker killed): the
    audit log is the durable record of what changed, the MetricComputation ledger of what was
    computed after it.
    """
    return recompute_stale(timezone.now() - lookback)
