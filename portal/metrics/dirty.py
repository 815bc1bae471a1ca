"""Dirty-subject tracking: the after-write hook and the debounced recompute it schedules.

After a write commits, the hook resolves the subjects it affects (via the audit log, so old
and new row images both count), adds them to a Redis set and enqueues ONE recompute task,
guarded by a `SET NX` key with a short expiry: a burst of edits inside the window coalesces
into that one task, which drains the whole set.

Nothing here may fail or hang a request: Redis has 1-second socket timeouts and every error
is caught and logged. Whatever is lost is picked up by the periodic reconciler, which reads
the durable audit log.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings

from portal.metrics import services

logger = logging.getLogger(__name__)

DIRTY_KEY = "portal:metrics:dirty"
# The tables whose edits dirtied the subjects: only the families reading them are recomputed.
# "*" stands for "unknown: every family".
DIRTY_TABLES_KEY = "portal:metrics:dirty-tables"
ALL_TABLES = "*"
DEBOUNCE_KEY = "portal:metrics:debounce"
DEBOUNCE_SECONDS = 0.3
# The guard outlives the countdown so edits during the wait coalesce, and expires on its own
# so a lost task (publish failed, worker died) never blocks the next one for long.
DEBOUNCE_GUARD_MS = 5000

_client: redis.Redis | None = None


def redis_client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
    return _client


def encode(subject: services.Subject) -> str:
    subject_type, subject_id = subject
    return f"{subject_type}:{'' if subject_id is None else subject_id}"


def decode(member: bytes | str) -> services.Subject:
    text = member.decode() if isinstance(member, bytes) else member
    subject_type, _, subject_id = text.partition(":")
    return subject_type, (int(subject_id) if subject_id else None)


def _add(client: redis.Redis, members: list[str], tables) -> None:
    """Add encoded subjects and the tables that dirtied them (None: unknown), atomically."""
    pipe = client.pipeline(transaction=True)
    pipe.sadd(DIRTY_KEY, *members)
    pipe.sadd(DIRTY_TABLES_KEY, *(sorted(tables) if tables is not None else [ALL_TABLES]))
    pipe.execute()


def mark_dirty(subjects, tables=None) -> bool:
    """Add subjects (dirtied by edits of `tables`; None: unknown) to the dirty set and schedule
    the debounced drain; False if it failed."""
    members = [encode(subject) for subject in subjects]
    if not members:
        return True
    try:
        client = redis_client()
        _add(client, members, tables)
        if client.set(DEBOUNCE_KEY, "1", nx=True, px=DEBOUNCE_GUARD_MS):
            from portal.metrics.tasks import recompute_dirty_metrics

            recompute_dirty_metrics.apply_async(countdown=DEBOUNCE_SECONDS)
    except Exception:  # must never fail the request; the reconciler catches up
        logger.warning("could not schedule a metrics recompute", exc_info=True)
        return False
    return True


def after_write(instance, action: str) -> None:
    """`portal.services.register_after_write` hook: runs after the write's commit."""
    try:
        subjects = services.resolve_subjects_for_write(instance)
    except Exception:  # never fail the (already committed) request
        logger.warning("could not resolve metric subjects of %r", instance, exc_info=True)
        return
    mark_dirty(subjects, tables={instance._meta.db_table})


def take_dirty() -> tuple[list[services.Subject], set[str] | None]:
    """Atomically take every dirty subject and the tables that dirtied them (None: every
    family must run) out of the sets.

    The debounce guard is released first: an edit arriving while we recompute schedules a
    fresh task instead of being swallowed by this one.
    """
    client = redis_client()
    client.delete(DEBOUNCE_KEY)
    pipe = client.pipeline(transaction=True)
    pipe.smembers(DIRTY_KEY)
    pipe.smembers(DIRTY_TABLES_KEY)
    pipe.delete(DIRTY_KEY, DIRTY_TABLES_KEY)
    members, table_members, _ = pipe.execute()
    subjects = sorted({decode(member) for member in members}, key=lambda s: (s[0], s[1] or 0))
    tables = {m.decode() if isinstance(m, bytes) else m for m in table_members}
    # Subjects without a table record (written by an older version) count as "unknown".
    return subjects, (None if ALL_TABLES in tables or not tables else tables)


def put_back(subjects, tables=None) -> None:
    """Return subjects to the set after a failed recompute, so the retry (or the reconciler)
    still sees them."""
    members = [encode(subject) for subject in subjects]
    if members:
        _add(redis_client(), members, tables)
