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


# The bare SQL floor of the metric recompute: the same figures over the same rows as plain
# GROUP BYs written to temporary tables (no lineage, no diff against stored values, no
# history): facilities by kind/status, investment by amount kind and currency with CNY/USD
# conversion at the announcement date's rate, product stages and milestones per company;
# companies, foreign-invested companies, facilities, investment and milestones per region
# rolled up the materialised path; portal-wide totals. Same work_mem as the recompute.
# Every project with an amount, converted at its announcement date's rate (the recompute's
# rule); the floor's three investment aggregates read it as a subquery.
FLOOR_CONVERTED = """(SELECT p.company_id, p.region_id, p.amount_kind, p.currency,
                extract(year FROM p.announced_on)::int AS year, p.amount,
                p.amount * CASE WHEN p.currency = 'CNY' THEN 1 ELSE c.rate_to_cny END
                    AS amount_cny,
                CASE WHEN p.currency = 'USD' THEN p.amount
                     ELSE round(p.amount * CASE WHEN p.currency = 'CNY' THEN 1
                                                ELSE c.rate_to_cny END / u.rate_to_cny, 6)
                     END AS amount_usd
           FROM projects_investmentproject p
           LEFT JOIN floor_rates c ON c.currency = p.currency AND c.day = p.announced_on
           LEFT JOIN floor_rates u ON u.currency = 'USD' AND u.day = p.announced_on
          WHERE p.amount IS NOT NULL) AS converted"""

_FLOOR_TEMPLATES = [
    """CREATE TEMP TABLE floor_rates ON COMMIT DROP AS
       WITH periods AS (
           SELECT currency, rate_to_cny,
                  CASE WHEN lag(date) OVER w IS NULL THEN '-infinity'::date ELSE date END
                      AS valid_from,
                  coalesce(lead(date) OVER w, 'infinity'::date) AS valid_to
             FROM portal_exchangerate WINDOW w AS (PARTITION BY currency ORDER BY date))
       SELECT p.currency, d::date AS day, p.rate_to_cny
         FROM (SELECT min(announced_on) AS first, max(announced_on) AS last
                 FROM projects_investmentproject) AS span
        CROSS JOIN generate_series(span.first, span.last, interval '1 day') AS d
         JOIN periods p ON d >= p.valid_from AND d < p.valid_to""",
    """CREATE TEMP TABLE floor_region_ancestors ON COMMIT DROP AS
       SELECT r.id AS region_id, a::bigint AS ancestor_id
         FROM portal_region r, unnest(string_to_array(trim(both '/' from r.path), '/')) a""",
    """CREATE TEMP TABLE floor_company_facilities ON COMMIT DROP AS
       SELECT company_id, kind, status, count(*) AS n
         FROM companies_facility
        GROUP BY GROUPING SETS ((company_id, kind), (company_id, status))""",
    """CREATE TEMP TABLE floor_company_investment ON COMMIT DROP AS
       WITH cells AS (
           SELECT company_id, amount_kind, currency, sum(amount) AS amount,
                  sum(amount_cny) AS amount_cny, sum(amount_usd) AS amount_usd, count(*) AS n
             FROM {converted}
            GROUP BY company_id, amount_kind, currency)
       SELECT company_id, amount_kind, currency, amount, amount_cny, amount_usd, n FROM cells
       UNION ALL
       SELECT company_id, amount_kind, NULL, NULL, sum(amount_cny), sum(amount_usd), sum(n)
         FROM cells GROUP BY company_id, amount_kind""",
    """CREATE TEMP TABLE floor_region_investment ON COMMIT DROP AS
       WITH leaf AS (
           SELECT region_id, amount_kind, currency, year, sum(amount) AS amount,
                  sum(amount_cny) AS amount_cny, count(*) AS n
             FROM {converted}
            GROUP BY region_id, amount_kind, currency, year)
       SELECT a.ancestor_id, l.amount_kind, l.currency, l.year, sum(l.amount) AS amount,
              sum(l.amount_cny) AS amount_cny, sum(l.n) AS n
         FROM leaf l JOIN floor_region_ancestors a ON a.region_id = l.region_id
        GROUP BY GROUPING SETS ((a.ancestor_id, l.amount_kind, l.currency, l.year),
                                (a.ancestor_id, l.amount_kind, l.year))""",
    """CREATE TEMP TABLE floor_portal_investment ON COMMIT DROP AS
       SELECT amount_kind, sum(amount_cny) AS amount_cny, count(*) AS n
         FROM {converted}
        GROUP BY amount_kind""",
    """CREATE TEMP TABLE floor_company_products ON COMMIT DROP AS
       WITH stages AS (
           SELECT DISTINCT ON (m.product_id) m.product_id, m.kind
             FROM projects_regulatorymilestone m
            WHERE m.kind IN ('clinical_trial_approval', 'registration_filing',
                             'market_authorization', 'commercial_launch')
            ORDER BY m.product_id,
                     array_position(ARRAY['clinical_trial_approval', 'registration_filing',
                                          'market_authorization', 'commercial_launch']::varchar[],
                                    m.kind) DESC, m.date DESC)
       SELECT p.company_id, coalesce(s.kind, 'no_milestone') AS stage, count(*) AS n
         FROM projects_product p LEFT JOIN stages s ON s.product_id = p.id
        GROUP BY p.company_id, coalesce(s.kind, 'no_milestone')""",
    """CREATE TEMP TABLE floor_milestone_cells ON COMMIT DROP AS
       SELECT p.company_id, c.registered_region_id AS region_id, m.kind,
              extract(year FROM m.date)::int AS year, count(*) AS n
         FROM projects_regulatorymilestone m
         JOIN projects_product p ON p.id = m.product_id
         JOIN companies_company c ON c.id = p.company_id
        GROUP BY p.company_id, c.registered_region_id, m.kind, year""",
    """CREATE TEMP TABLE floor_region_milestones ON COMMIT DROP AS
       SELECT a.ancestor_id, l.kind, l.year, sum(l.n) AS n
         FROM floor_milestone_cells l
         JOIN floor_region_ancestors a ON a.region_id = l.region_id
        GROUP BY a.ancestor_id, l.kind, l.year""",
    """CREATE TEMP TABLE floor_region_companies ON COMMIT DROP AS
       WITH leaf AS (
           SELECT c.registered_region_id AS region_id, count(*) AS companies,
                  count(*) FILTER (WHERE EXISTS (
                      SELECT 1 FROM companies_ownershipperiod o
                       WHERE o.company_id = c.id AND o.ownership_type = 'foreign_invested'
                         AND (o.effective_from IS NULL OR o.effective_from <= current_date)
                         AND (o.effective_to IS NULL OR o.effective_to >= current_date)))
                      AS foreign_invested
             FROM companies_company c WHERE c.kind = 'company'
            GROUP BY c.registered_region_id)
       SELECT a.ancestor_id, sum(l.companies) AS companies,
              sum(l.foreign_invested) AS foreign_invested
         FROM leaf l JOIN floor_region_ancestors a ON a.region_id = l.region_id
        GROUP BY a.ancestor_id""",
    """CREATE TEMP TABLE floor_region_facilities ON COMMIT DROP AS
       WITH leaf AS (
           SELECT region_id, status, kind, count(*) AS n FROM companies_facility
            GROUP BY region_id, status, kind)
       SELECT a.ancestor_id, l.status, l.kind, sum(l.n) AS n
         FROM leaf l JOIN floor_region_ancestors a ON a.region_id = l.region_id
        GROUP BY GROUPING SETS ((a.ancestor_id, l.status), (a.ancestor_id, l.kind))""",
    """CREATE TEMP TABLE floor_portal ON COMMIT DROP AS
       SELECT 'companies' AS name, NULL AS status, count(*) AS n
         FROM companies_company WHERE kind = 'company'
       UNION ALL
       SELECT 'facilities', status, count(*) FROM companies_facility GROUP BY status
       UNION ALL
       SELECT 'projects', NULL, count(*) FROM projects_investmentproject""",
]
FLOOR_SQL = [statement.replace("{converted}", FLOOR_CONVERTED) for statement in _FLOOR_TEMPLATES]


def _time_floor() -> float:
    started = time.perf_counter()
    from django.conf import settings

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.METRICS_WORK_MEM])
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


INCREMENTAL_SAMPLES = 3


def _incremental(services) -> dict:
    """Change 1% of the projects (audited, like curator edits) and recompute what is stale;
    three times, each over a different 1%, the median reported (one sample swings with
    whatever else the machine does in that second)."""
    from django.utils import timezone

    runs, writes, changed = [], [], []
    for sample in range(INCREMENTAL_SAMPLES):
        since = timezone.now()
        time.sleep(0.01)
        # The write itself is timed too: the investment triggers do part of the work in it.
        write_started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE projects_investmentproject SET amount = amount + 1, "
                "version = version + 1 WHERE id %% %s = %s AND amount IS NOT NULL",
                [100, sample],
            )
            changed.append(cursor.rowcount)
        writes.append(time.perf_counter() - write_started)
        started = time.perf_counter()
        subjects = services.recompute_stale(since)
        runs.append(time.perf_counter() - started)
    return {
        "incremental_s": statistics.median(runs),
        "incremental_runs": runs,
        "incremental_rows_changed": int(statistics.median(changed)),
        "incremental_write_s": statistics.median(writes),
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
