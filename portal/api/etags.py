"""Conditional requests: data version, ETags, If-None-Match (304) and If-Match versions."""

import datetime
import hashlib
import logging
import re
import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection

from portal.api.errors import PreconditionFailed, PreconditionRequired
from portal.models import Change

VERSION_TAG = re.compile(r'(?:W/)?"?(\d{1,10})(?:-[0-9a-f]{1,64})?"?')
logger = logging.getLogger(__name__)
# Bounds how long a page can stay stale when an older change id commits after a newer one
# (the data version is max(id), not a commit order); every later change moves the key anyway.
PAGE_CACHE_SECONDS = 60
# After a cache failure, skip the page cache for a while instead of paying a timeout each time.
CACHE_DOWN_SECONDS = 30.0
_skip_cache_until = 0.0


def data_state() -> tuple[int, int]:
    """(data version, database oid). The version is the latest audit-log id: it grows with
    every committed change of curated data. Cache keys add the oid, so a re-created database
    (tests, benchmark clones) never meets entries of another one at the same version."""
    # Plain SQL: this runs on every API request, and compiling the ORM aggregate cost more
    # than the index-only lookup it asks for.
    with connection.cursor() as cursor:
        cursor.execute(DATA_STATE_SQL)
        version, oid = cursor.fetchone()
    return version or 0, oid


def data_version() -> int:
    return data_state()[0]


def derived_data_head() -> int:
    """Latest metric history id: derived figures change on a recompute without any audited
    write, and every changed figure appends one history row."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM portal_metricsnapshot")
        return cursor.fetchone()[0]


DATA_STATE_SQL = (
    f'SELECT max("id"), (SELECT oid FROM pg_database WHERE datname = current_database()) '  # noqa: S608 - constant
    f'FROM "{Change._meta.db_table}"'
)


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def not_modified(request, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = _tags(header)
    return "*" in tags or etag.removeprefix("W/") in tags


def list_etag(version: int | str, request) -> str:
    """Changes whenever the data or the query (filters, cursor, ordering, format) changes."""
    query = "&".join(sorted(f"{k}={v}" for k, vs in request.GET.lists() for v in vs))
    raw = f"{version}|{request.path}|{query}|{request.accepted_renderer.format}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def page_cache_key(state: tuple[int, int], request) -> str:
    """Key of a rendered list page: data state, day (ownership "today"), host and query."""
    query = "&".join(sorted(f"{k}={v}" for k, vs in request.GET.lists() for v in vs))
    raw = (
        f"{state}|{datetime.date.today().isoformat()}|{request.scheme}://{request.get_host()}"
        f"|{request.path}|{query}|{request.accepted_renderer.format}"
    )
    return "api-page:" + hashlib.sha256(raw.encode()).hexdigest()


def _cache_down(error: Exception) -> None:
    global _skip_cache_until
    logger.warning("API page cache unavailable, rendering uncached: %r", error)
    _skip_cache_until = time.monotonic() + CACHE_DOWN_SECONDS


def cached_page(key: str, prefetched: tuple[str, bytes | None] | None = None) -> bytes | None:
    """The stored body, or None; a cache outage only means rendering the page again.

    `prefetched` is (key, body) when the throttle already read the key in its round trip.
    """
    if prefetched is not None and prefetched[0] == key:
        return prefetched[1]
    if time.monotonic() < _skip_cache_until:
        return None
    cache = caches["default"]
    try:
        if isinstance(cache, RedisCache):
            # Raw bytes, not pickled: the body is JSON already.
            return cache._cache.get_client(key).get(cache.make_and_validate_key(key))
        return cache.get(key)
    except Exception as error:  # noqa: BLE001 - any cache failure degrades to no cache
        _cache_down(error)
        return None


def store_page(key: str, body: bytes) -> None:
    if time.monotonic() < _skip_cache_until:
        return
    cache = caches["default"]
    try:
        if isinstance(cache, RedisCache):
            client = cache._cache.get_client(key, write=True)
            client.set(cache.make_and_validate_key(key), body, ex=PAGE_CACHE_SECONDS)
        else:
            cache.set(key, body, PAGE_CACHE_SECONDS)
    except Exception as error:  # noqa: BLE001
        _cache_down(error)


def detail_etag(version: int, body: bytes) -> str:
    """`"<version>-<digest>"`: the version part is what If-Match is checked against."""
    return f'"{version}-{hashlib.sha256(body).hexdigest()[:16]}"'


def expected_version(request) -> int:
    """The record version named by If-Match; 428 without it, 412 when it is not one of ours."""
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired()
    match = VERSION_TAG.fullmatch(header.strip())
    if match is None:
        raise PreconditionFailed("If-Match must be an ETag returned by this API.")
    return int(match.group(1))
