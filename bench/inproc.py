"""Measurements that run inside Django against one benchmark database (a subprocess of run.py).

Usage: DATABASE_URL=... python -m bench.inproc prepare|queries|recompute|freshness [JSON args]
Prints one JSON object on the last line of stdout. Each step reports `available: false` with
a reason when the code it measures does not exist (yet), instead of failing the whole run.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import traceback

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

BENCH_USER = "bench"
PROJECT_FILTER_REGION = "demo-jiangsu"
PROJECT_FILTER_AMOUNT_KIND = "capital_expenditure"


def _token() -> str:
    from portal.services import api_token_issue

    user, _ = get_user_model().objects.get_or_create(
        username=BENCH_USER, defaults={"is_staff": False, "email": "bench@example.invalid"}
    )
    _token_row, raw = api_token_issue(user=user, name="bench")
    return raw


def prepare(_args: dict) -> dict:
    """A token for wrk, and the slugs the detail page and the filtered list use."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT slug FROM companies_company WHERE slug LIKE 'demo-%%' AND EXISTS "
            "(SELECT 1 FROM companies_facility f WHERE f.company_id = companies_company.id) "
            "ORDER BY id LIMIT 1"
        )
        company = cursor.fetchone()[0]
        cursor.execute("SELECT path FROM portal_region WHERE slug = %s", [PROJECT_FILTER_REGION])
        row = cursor.fetchone()
    return {
        "token": _token(),
        "company_slug": company,
        "region_slug": PROJECT_FILTER_REGION,
        "region_path": row[0] if row else None,
        "amount_kind": PROJECT_FILTER_AMOUNT_KIND,
    }


def query_targets(company_slug: str, page_size: int) -> dict[str, str]:
    return {
        "api-companies-list": f"/api/v1/companies/?page_size={page_size}",
        "api-facilities-list": f"/api/v1/facilities/?page_size={page_size}",
        "api-projects-list": f"/api/v1/projects/?page_size={page_size}",
        "api-company-detail": f"/api/v1/companies/{company_slug}/",
        "html-companies-list": "/companies/",
        "html-company-detail": f"/companies/{company_slug}/",
    }


def queries(args: dict) -> dict:
    """Queries per request (after one warm-up request) of every list, detail and page."""
    info = prepare({})
    client = Client(HTTP_AUTHORIZATION=f"Bearer {info['token']}")
    counts = {}
    for name, url in query_targets(info["company_slug"], args.get("page_size", 1000)).items():
        warm = client.get(url)
        if warm.status_code != 200:
            counts[name] = {"available": False, "reason": f"GET {url} → {warm.status_code}"}
            continue
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        counts[name] = {
            "available": response.status_code == 200,
            "queries": len(captured.captured_queries),
            "status": response.status_code,
            "sql": [query["sql"][:300] for query in captured.captured_queries],
        }
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM projects_investmentproject")
        rows = cursor.fetchone()[0]
    return {"targets": counts, "project_rows": rows}


# The bare SQL floor of the metric recompute: the same families of figures (facilities by
# kind/status per company, investment totals per company by amount kind and currency, region
# roll-ups over the materialised path), written to temporary tables as plain GROUP BYs.
FLOOR_SQL = [
    """CREATE TEMP TABLE floor_company_facilities ON COMMIT DROP AS
       SELECT company_id, 'kind' AS dimension, kind AS value, count(*) AS n
         FROM companies_facility GROUP BY company_id, kind
       UNION ALL
       SELECT company_id, 'status', status, count(*)
         FROM companies_facility GROUP BY company_id, status""",
    """CREATE TEMP TABLE floor_company_investment ON COMMIT DROP AS
       SELECT company_id, amount_kind, currency, sum(amount) AS total, count(*) AS projects
         FROM projects_investmentproject WHERE amount IS NOT NULL
        GROUP BY company_id, amount_kind, currency""",
    """CREATE TEMP TABLE floor_region_ancestors ON COMMIT DROP AS
       SELECT r.id AS region_id, a::bigint AS ancestor_id
         FROM portal_region r, unnest(string_to_array(trim(both '/' from r.path), '/')) a""",
    """CREATE TEMP TABLE floor_region_investment ON COMMIT DROP AS
       WITH leaf AS (
           SELECT region_id, amount_kind, currency, sum(amount) AS total, count(*) AS projects
             FROM projects_investmentproject WHERE amount IS NOT NULL
            GROUP BY region_id, amount_kind, currency)
       SELECT a.ancestor_id, l.amount_kind, l.currency, sum(l.total) AS total,
              sum(l.projects) AS projects
         FROM leaf l JOIN floor_region_ancestors a ON a.region_id = l.region_id
        GROUP BY a.ancestor_id, l.amount_kind, l.currency""",
    """CREATE TEMP TABLE floor_region_companies ON COMMIT DROP AS
       WITH leaf AS (
           SELECT registered_region_id AS region_id, count(*) AS companies
             FROM companies_company WHERE registered_region_id IS NOT NULL
            GROUP BY registered_region_id)
       SELECT a.ancestor_id, sum(l.companies) AS companies
         FROM leaf l JOIN floor_region_ancestors a ON a.region_id = l.region_id
        GROUP BY a.ancestor_id""",
    """CREATE TEMP TABLE floor_region_facilities ON COMMIT DROP AS
       WITH leaf AS (
           SELECT region_id, status, count(*) AS n FROM companies_facility
            GROUP BY region_id, status)
       SELECT a.ancestor_id, l.status, sum(l.n) AS facilities
         FROM leaf l JOIN floor_region_ancestors a ON a.region_id = l.region_id
        GROUP BY a.ancestor_id, l.status""",
]


def _time_floor() -> float:
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in FLOOR_SQL:
            cursor.execute(statement)
    return time.perf_counter() - started


def recompute_floor(_args: dict) -> dict:
    return {"available": True, "seconds": _time_floor()}


def recompute_full(_args: dict) -> dict:
    """`recompute_all()`, timed (the orchestrator alternates it with the floor)."""
    try:
        from portal.metrics import services
    except ImportError as error:
        return {"available": False, "reason": f"portal.metrics.services: {error}"}
    started = time.perf_counter()
    services.recompute_all()
    return {"available": True, "seconds": time.perf_counter() - started}


def recompute_incremental(_args: dict) -> dict:
    try:
        from portal.metrics import services
    except ImportError as error:
        return {"available": False, "reason": f"portal.metrics.services: {error}"}
    return {"available": True, **_incremental(services)}


def _incremental(services) -> dict:
    """Change 1% of the projects (audited, like curator edits) and recompute what is stale."""
    from django.utils import timezone

    since = timezone.now()
    time.sleep(0.01)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE projects_investmentproject SET amount = amount + 1, version = version + 1 "
            "WHERE id %% %s = 0 AND amount IS NOT NULL",
            [100],
        )
        changed = cursor.rowcount
    started = time.perf_counter()
    subjects = services.stale_subjects(since)
    services.recompute_subjects(subjects)
    return {
        "incremental_s": time.perf_counter() - started,
        "incremental_rows_changed": changed,
        "incremental_subjects": len(subjects),
    }


def freshness(args: dict) -> dict:
    """Edit a facility's kind through the service; poll the company's metric until it shows."""
    try:
        from companies import services as company_services
        from companies.models import Facility
        from portal.metrics.selectors import metric_value
    except ImportError as error:
        return {"available": False, "reason": f"import failed: {error}"}
    samples, timeout = int(args.get("edits", 20)), float(args.get("timeout_s", 10))
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    kinds = ["manufacturing", "innovation_center", "biobank", "testing_lab", "office"]
    demo = Facility.objects.filter(slug__startswith="demo-").order_by("id")
    step = max(1, demo.count() // (samples + 1))  # spread over companies, one edit each
    facilities = list(demo[: (samples + 1) * step : step])
    if len(facilities) < samples + 1:
        return {"available": False, "reason": "not enough demo facilities"}
    latencies, not_visible = [], 0
    for index, facility in enumerate(facilities[: samples + 1]):
        new_kind = next(kind for kind in kinds if kind != facility.kind)
        before = metric_value("company", facility.company_id, "facilities_by_kind", kind=new_kind)
        expected = (before or 0) + 1
        started = time.perf_counter()
        company_services.facility_update(
            facility=facility,
            actor=user,
            expected_version=facility.version,
            data={"kind": new_kind},
        )
        deadline = started + (60 if index == 0 else timeout)  # the first one warms the worker
        seen = None
        while time.perf_counter() < deadline:
            seen = metric_value("company", facility.company_id, "facilities_by_kind", kind=new_kind)
            if seen is not None and seen >= expected:
                break
            time.sleep(0.02)
        visible = seen is not None and seen >= expected
        if index == 0:
            if not visible:
                return {"available": False, "reason": "no metric update within 60 s (worker?)"}
            continue
        if not visible:
            # Censored at the limit, not dropped: leaving slow edits out would flatter p99.
            not_visible += 1
        latencies.append(min(time.perf_counter() - started, timeout))
        if not_visible > samples // 2:
            break  # p50 and p99 both sit at the limit now; more edits cannot change the verdict
    ordered = sorted(latencies)
    return {
        "available": True,
        "samples": len(latencies),
        "not_visible_within_s": timeout,
        "not_visible": not_visible,
        "p50_s": statistics.median(ordered),
        "p99_s": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "max_s": ordered[-1],
        "runs": latencies,
    }


STEPS = {
    "prepare": prepare,
    "queries": queries,
    "recompute_floor": recompute_floor,
    "recompute_full": recompute_full,
    "recompute_incremental": recompute_incremental,
    "freshness": freshness,
}


def main(argv: list[str]) -> int:
    step = STEPS[argv[1]]
    args = json.loads(argv[2]) if len(argv) > 2 else {}
    try:
        result = step(args)
    except Exception as error:  # noqa: BLE001 - the orchestrator reports it as not available
        traceback.print_exc(file=sys.stderr)
        result = {"available": False, "reason": f"{type(error).__name__}: {error}"}
    sys.stdout.write("\n" + json.dumps(result, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
