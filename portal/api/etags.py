"""Conditional requests: data version, ETags, If-None-Match (304) and If-Match versions."""

import hashlib
import re

from django.db.models import Max

from portal.api.errors import PreconditionFailed, PreconditionRequired
from portal.models import Change

VERSION_TAG = re.compile(r'(?:W/)?"?(\d{1,10})(?:-[0-9a-f]{1,64})?"?')


def data_version() -> int:
    """Latest audit-log id: grows with every committed change of curated data."""
    return Change.objects.aggregate(latest=Max("id"))["latest"] or 0


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def not_modified(request, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = _tags(header)
    return "*" in tags or etag.removeprefix("W/") in tags


def list_etag(version: int, request) -> str:
    """Changes whenever the data or the query (filters, cursor, ordering, format) changes."""
    query = "&".join(sorted(f"{k}={v}" for k, vs in request.GET.lists() for v in vs))
    raw = f"{version}|{request.path}|{query}|{request.accepted_renderer.format}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


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
