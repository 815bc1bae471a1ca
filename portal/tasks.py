"""Celery tasks of the shared core (found by `autodiscover_tasks`)."""

from portal.metrics.tasks import (
    recompute_all_metrics,
    recompute_dirty_metrics,
    recompute_family,
    recompute_subjects,
    reconcile_metrics,
)

__all__ = [
    "recompute_all_metrics",
    "recompute_dirty_metrics",
    "recompute_family",
    "recompute_subjects",
    "reconcile_metrics",
]
