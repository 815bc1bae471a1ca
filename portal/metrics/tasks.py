"""Celery tasks of the metrics: thin (names and ids in, call a service), idempotent, late
acknowledged, retried with jittered backoff, time limited.

Idempotent because every recompute is an upsert of the same computed values; safe out of
order because the upsert refuses to replace a row computed from newer data.
"""

from __future__ import annotations

import datetime

from celery import group, shared_task
from django.db import DatabaseError

from portal.metrics import dirty, registry, services

TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (DatabaseError, ConnectionError, OSError),
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 5,
    "soft_time_limit": 540,
    "time_limit": 600,
}


@shared_task(name="portal.metrics.recompute_family", **TASK_OPTIONS)
def recompute_family(
    family_key: str, subject_ids: list[int] | None = None, input_version: int | None = None
) -> dict:
    result = services.recompute_family(
        family_key, subject_ids=subject_ids, input_version=input_version
    )
    return result.__dict__


@shared_task(name="portal.metrics.recompute_subjects", **TASK_OPTIONS)
def recompute_subjects(subjects: list[list], input_version: int | None = None) -> int:
    results = services.recompute_subjects(
        [tuple(subject) for subject in subjects], input_version=input_version
    )
    return len(results)


@shared_task(name="portal.metrics.recompute_dirty", **TASK_OPTIONS)
def recompute_dirty_metrics() -> int:
    """Drain the dirty set written by the after-write hook and recompute those subjects."""
    subjects, tables = dirty.take_dirty()
    if not subjects:
        return 0
    try:
        services.recompute_subjects(subjects, tables=tables)
    except Exception:
        dirty.put_back(subjects, tables)
        raise
    return len(subjects)


@shared_task(name="portal.metrics.recompute_all", **TASK_OPTIONS)
def recompute_all_metrics() -> int:
    """Full recompute: one task per family (a dozen or so), run in parallel by the workers."""
    keys = [family.key for family in registry.families()]
    group(recompute_family.s(key) for key in keys).apply_async()
    return len(keys)


@shared_task(name="portal.metrics.reconcile", **TASK_OPTIONS)
def reconcile_metrics(lookback_hours: float = 24) -> int:
    """Recompute whatever the audit log says changed but the metrics do not reflect yet,
    plus anything left in the dirty set (a debounced task that was never published)."""
    try:
        leftovers, tables = dirty.take_dirty()
    except Exception:  # noqa: BLE001 - Redis down: the audit log below still covers it
        leftovers, tables = [], None
    if leftovers:
        services.recompute_subjects(leftovers, tables=tables)
    stale = services.reconcile(lookback=datetime.timedelta(hours=lookback_hours))
    return len(leftovers) + len(stale)
