"""The benchmark harness: floor app rows, wrk parsing and the PASS/MISS report."""

import json

import pytest
from django.db import connection

from bench import floor_app, report
from bench.demo_data import Scale, generate
from bench.run import parse_wrk

WRK_OUTPUT = """Running 4s test @ http://127.0.0.1:18100/api/v1/companies/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.52ms    2.10ms  40.00ms   90.00%
  Latency Distribution
     50%    9.80ms
     75%   11.00ms
     90%   13.00ms
     99%    1.20s
  3040 requests in 4.00s, 12.00MB read
  Non-2xx or 3xx responses: 40
Requests/sec:    760.00
Transfer/sec:      3.00MB
"""


def http(rps, p99, p50=5.0):
    return {"available": True, "by_connections": {"8": {"rps": rps, "p50_ms": p50, "p99_ms": p99}}}


def sample_results():
    return {
        "machine": {"cores": 2, "memory_gb": 23.5, "python": "3.12.1", "django": "6.1.3"},
        "config": {"connections": [8], "companies": 100000, "rounds": 3},
        "http": {
            "floor-companies": http(1000, 20),
            "api-companies": http(800, 30),
            "datasette-companies": http(100, 50),
            "floor-facilities": http(1000, 20),
            "api-facilities": http(300, 60),
            "datasette-facilities": http(100, 50),
            "api-projects": {
                "available": False,
                "reason": "HTTP 404 (endpoint does not exist yet)",
            },
            "floor-projects": http(1000, 20),
            "html-list": http(200, 90),
        },
        "queries": {
            "api-companies-list": {"available": True, "small": 3, "large": 3},
            "api-facilities-list": {"available": True, "small": 3, "large": 103},
        },
        "recompute": {
            "available": True,
            "initial_s": 9.0,
            "floor_s": 2.0,
            "full_s": 2.2,
            "incremental_s": 0.5,
            "incremental_runs": [0.45, 0.5, 0.61],
            "incremental_rows_changed": 8514,
            "incremental_write_s": 1.25,
        },
        "wall_seconds": 700,
        "freshness": {"available": True, "p50_s": 0.4, "p99_s": 0.9, "samples": 20},
    }


def check(checks, name):
    return next(c for c in checks if c.name == name)


def test_parse_wrk_reads_throughput_latency_and_errors():
    figures = parse_wrk(WRK_OUTPUT)

    assert figures == {
        "rps": 760.0,
        "p50_ms": 9.8,
        "p99_ms": 1200.0,
        "requests": 3040,
        "errors": 40,
    }


def test_report_marks_each_target_pass_miss_or_not_available():
    checks = report.evaluate(sample_results())

    companies = "API companies list, 8 connections"
    assert check(checks, f"{companies}: throughput vs floor").status == "PASS"
    assert check(checks, f"{companies}: throughput vs floor").note == "aim met"
    assert check(checks, f"{companies}: p99 latency vs floor").status == "PASS"
    assert check(checks, f"{companies}: throughput vs Datasette").status == "PASS"
    facilities = "API facilities list, 8 connections"
    assert check(checks, f"{facilities}: throughput vs floor").status == "MISS"
    assert check(checks, f"{facilities}: p99 latency vs floor").status == "MISS"
    assert check(checks, f"{facilities}: throughput vs Datasette").status == "MISS"
    projects = check(checks, "API projects list, 8 connections: throughput vs floor")
    assert projects.status == "NOT AVAILABLE"
    assert "does not exist yet" in projects.note
    html = check(checks, "HTML list page, 8 connections: throughput vs floor")
    assert (html.status, html.ratio) == ("MISS", 0.2)
    n_plus_one = check(checks, "SQL queries, api-facilities-list: 10 vs 10,000 rows")
    assert n_plus_one.status == "MISS"
    assert "N+1" in n_plus_one.note
    assert check(checks, "Full metric recompute (metrics stored) vs SQL floor").status == "PASS"
    first = check(checks, "First metric population (empty metric tables) vs SQL floor")
    assert first.status == "INFO" and first.ratio == 4.5  # reported, not judged
    assert check(checks, "Whole benchmark run").status == "MISS"  # 700 s > 10 minutes
    incremental = check(checks, "Incremental recompute (1% rows) vs full floor")
    assert incremental.status == "MISS"
    assert "8,514-row update itself took 1.25 s (median)" in incremental.note
    assert incremental.figure == "0.50 s (median of 0.45, 0.50, 0.61 s)"
    freshness = check(checks, "Edit to visible metric (through a Celery worker), p99")
    assert freshness.status == "PASS"


def test_markdown_table_shows_ratios_and_results(tmp_path):
    json_path, md_path = report.write(sample_results(), tmp_path)

    markdown = md_path.read_text()
    assert "| API companies list, 8 connections: throughput vs floor | 800 req/s |" in markdown
    assert "| 0.80× | ≥ 0.5× (aim 0.7×) | PASS | aim met |" in markdown
    assert "| 0.30× | ≥ 0.5× (aim 0.7×) | MISS |" in markdown
    assert "NOT AVAILABLE | api-projects: HTTP 404" in markdown
    assert "2 cores, 23.5 GB RAM" in markdown
    saved = json.loads(json_path.read_text())
    assert {c["status"] for c in saved["checks"]} == {"PASS", "MISS", "NOT AVAILABLE", "INFO"}


@pytest.mark.django_db
def test_floor_returns_the_rows_of_the_api_first_page(client):
    from portal.services import api_token_issue
    from tests.factories import UserFactory

    generate(Scale(companies=60, facilities_per_company=2, projects_per_company=2), progress=False)
    _token, raw = api_token_issue(user=UserFactory(), name="bench-test")
    raw_connection = connection.connection  # sees this test's uncommitted rows
    for resource in ("companies", "facilities", "projects"):
        floor = json.loads(floor_app.rows_json(resource, {}, 25, conn=raw_connection))
        response = client.get(
            f"/api/v1/{resource}/?page_size=25", HTTP_AUTHORIZATION=f"Bearer {raw}"
        )
        if response.status_code == 404:
            pytest.skip(f"/api/v1/{resource}/ does not exist yet")
        assert response.status_code == 200
        api_slugs = [row["slug"] for row in response.json()["results"]]
        assert [row["slug"] for row in floor["results"]] == api_slugs
        assert len(api_slugs) == 25


def test_floor_app_routes_unknown_paths_to_404():
    statuses = []
    body = floor_app.application(
        {"PATH_INFO": "/nothing", "QUERY_STRING": ""},
        lambda status, headers: statuses.append(status),
    )

    assert statuses == ["404 Not Found"]
    assert b"not found" in b"".join(body)
