"""The floor: a minimal WSGI app that returns the API's first-page rows as JSON built by PostgreSQL.

No Django, no ORM, no serializer: one prepared query per request on a per-process connection,
and PostgreSQL's `json_agg` writes the body. Whatever the portal's list API costs above this
is framework, serialization and auth overhead; the benchmark reports the API as a ratio of it.

Served by gunicorn with the portal's settings (`gunicorn bench.floor_app:application`).
Environment: BENCH_FLOOR_DSN (default DATABASE_URL).

Routes (page size `page_size`, default 100, like the API):
  /companies                       ordered by name_en, id (the API default)
  /facilities                      ordered by name_en, id
  /projects?region=<slug>&amount_kind=<kind>
                                   within the region's subtree, newest announcement first
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs

import psycopg

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

BRIEF = "json_build_object('id', {alias}.id, 'slug', {alias}.slug, 'name_en', {alias}.name_en)"

QUERIES = {
    "companies": f"""
SELECT json_build_object('results', coalesce(json_agg(row_to_json(t)), '[]'::json))::text FROM (
  SELECT c.id, c.slug, c.kind, c.name_en, c.name_zh, c.name_zh_provenance, c.description,
         c.headquarters_country, c.modalities, c.website,
         (SELECT o.ownership_type FROM companies_ownershipperiod o
           WHERE o.company_id = c.id
             AND (o.effective_from IS NULL OR o.effective_from <= current_date)
             AND (o.effective_to IS NULL OR o.effective_to >= current_date)
           ORDER BY o.effective_from DESC NULLS LAST LIMIT 1) AS ownership_type,
         c.created_at, c.updated_at,
         {BRIEF.format(alias="r")} AS registered_region,
         CASE WHEN p.id IS NULL THEN NULL ELSE {BRIEF.format(alias="p")} END AS parent
    FROM companies_company c
    LEFT JOIN portal_region r ON r.id = c.registered_region_id
    LEFT JOIN companies_company p ON p.id = c.parent_id
   ORDER BY c.name_en, c.id
   LIMIT %(limit)s) t
""",
    "facilities": f"""
SELECT json_build_object('results', coalesce(json_agg(row_to_json(t)), '[]'::json))::text FROM (
  SELECT f.id, f.slug, f.name_en, f.name_zh, f.kind, f.modalities, f.status, f.status_since,
         f.capacity_notes, f.latitude, f.longitude,
         {BRIEF.format(alias="c")} AS company, {BRIEF.format(alias="r")} AS region
    FROM companies_facility f
    JOIN companies_company c ON c.id = f.company_id
    JOIN portal_region r ON r.id = f.region_id
   ORDER BY f.name_en, f.id
   LIMIT %(limit)s) t
""",
    "projects": """
SELECT json_build_object('results', coalesce(json_agg(row_to_json(t)), '[]'::json))::text FROM (
  SELECT p.id, p.slug, p.title, p.kind, p.amount::text AS amount, p.currency, p.amount_kind,
         p.announced_on, p.status, p.status_since,
         json_build_object('id', c.id, 'slug', c.slug, 'name_en', c.name_en) AS company,
         json_build_object('id', r.id, 'slug', r.slug, 'name_en', r.name_en) AS region
    FROM projects_investmentproject p
    JOIN companies_company c ON c.id = p.company_id
    JOIN portal_region r ON r.id = p.region_id
   WHERE (%(region)s::text IS NULL OR r.path LIKE
          (SELECT path FROM portal_region WHERE slug = %(region)s) || '%%')
     AND (%(amount_kind)s::text IS NULL OR p.amount_kind = %(amount_kind)s)
   ORDER BY p.announced_on DESC, p.id DESC
   LIMIT %(limit)s) t
""",
}

_connection: psycopg.Connection | None = None


def _connect() -> psycopg.Connection:
    # One connection per gunicorn worker process, opened after the fork, kept for its life.
    global _connection
    if _connection is None or _connection.closed:
        dsn = os.environ.get("BENCH_FLOOR_DSN") or os.environ["DATABASE_URL"]
        _connection = psycopg.connect(dsn, autocommit=True, prepare_threshold=0)
    return _connection


def rows_json(resource: str, params: dict[str, str | None], limit: int, conn=None) -> str:
    """The JSON body for a resource's first page; `conn` lets tests pass their connection."""
    query = QUERIES[resource]
    arguments = {
        "limit": limit,
        "region": params.get("region"),
        "amount_kind": params.get("amount_kind"),
    }
    if conn is not None:
        return conn.execute(query, arguments).fetchone()[0]
    try:
        return _connect().execute(query, arguments).fetchone()[0]
    except psycopg.OperationalError:
        # A dropped connection (server restart) is retried once on a fresh one.
        global _connection
        _connection = None
        return _connect().execute(query, arguments).fetchone()[0]


def _respond(start_response, status: str, body: bytes):
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def application(environ, start_response):
    resource = environ.get("PATH_INFO", "").strip("/")
    if resource not in QUERIES:
        return _respond(start_response, "404 Not Found", b'{"detail": "not found"}')
    query = {key: values[-1] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
    raw_size = query.get("page_size", "")
    limit = int(raw_size) if raw_size.isdigit() else DEFAULT_PAGE_SIZE
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    body = rows_json(resource, query, limit).encode()
    return _respond(start_response, "200 OK", body)
