"""PostgreSQL stopped and started again under load, the portal process left running.

Readers request API and analyst pages through the WSGI stack in threads the whole time. While
the server is down every answer must be a clean 503 (a short JSON/HTML body, no traceback);
once it is back requests succeed again with the same process and the same connection pool;
/healthz names the database while it is down and reports it ok afterwards.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import close_old_connections, connections
from django.test import Client

from portal.services import api_token_issue
from tests import factories
from tests.reliability.conftest import record

pytestmark = [pytest.mark.reliability]

READERS = 3
PATHS = ("/api/v1/companies/?page_size=5", "/companies/", "/api/v1/regions/")
BOUND_SECONDS = 60
SUCCESSES_AFTER = 60


def _bounded_wait(condition, seconds: float = BOUND_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_requests_fail_cleanly_while_postgres_restarts_and_recover(transactional_db, own_services):
    for _ in range(5):
        factories.CompanyFactory()
    _, raw = api_token_issue(user=factories.UserFactory(username="pg-investor"), name="pg")
    phase = {"name": "before"}
    results: list[tuple[str, int, bool, str]] = []
    stop = threading.Event()

    def reader() -> None:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
        try:
            while not stop.is_set():
                for path in PATHS:
                    current = phase["name"]
                    response = client.get(path)
                    # What the WSGI handler does at the end of every request; the test client
                    # skips it on purpose (to keep test transactions open).
                    close_old_connections()
                    body = response.content.decode(errors="replace")
                    clean = "Traceback" not in body and 'File "' not in body
                    results.append((current, response.status_code, clean, path))
        finally:
            connections.close_all()

    def count(name, predicate=lambda status: True) -> int:
        return sum(1 for p, status, _, _ in list(results) if p == name and predicate(status))

    threads = [threading.Thread(target=reader) for _ in range(READERS)]
    for thread in threads:
        thread.start()
    try:
        assert _bounded_wait(lambda: count("before", lambda s: s == 200) >= 30)
        phase["name"] = "stopping"  # requests in flight now may still be answered
        own_services.stop_postgres(mode="fast")
        phase["name"] = "down"
        assert _bounded_wait(lambda: count("down") >= 30)
        health_down = Client().get("/healthz")
        phase["name"] = "restarting"
        own_services.start_postgres()
        phase["name"] = "after"
        # Same process, same pool: it must hand out working connections again by itself.
        assert _bounded_wait(lambda: count("after", lambda s: s == 200) >= SUCCESSES_AFTER)
        health_up = Client().get("/healthz")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        connections.close_all()

    down = [(status, clean, path) for p, status, clean, path in results if p == "down"]
    after = [(status, clean, path) for p, status, clean, path in results if p == "after"]
    unclean = [r for r in down + after if not r[1] or r[0] not in (200, 503)]
    # Requests that started after the restart and still failed: dead pooled connections.
    failed_after = [r for r in after if r[0] != 200]
    tail = after[-SUCCESSES_AFTER // 2 :]
    figures = record(
        "pg_restart",
        restarts=1,
        requests=len(results),
        during_outage=len(down),
        clean_503=sum(1 for status, clean, _ in down if status == 503 and clean),
        unclean=len(unclean),
        failed_after_restart=len(failed_after),
        healthz_down=health_down.status_code,
        healthz_down_body=health_down.json(),
        healthz_up=health_up.json(),
    )
    assert down, figures
    # Answers that need the database are clean 503s; a page served from the cache may still
    # be a 200 (that is the point of the cache), never a 500.
    assert any(status == 503 for status, _, _ in down), down[:5]
    assert all(clean and status in (200, 503) for status, clean, _ in down), down[:5]
    assert not unclean, unclean[:5]
    # The pool tests each connection it hands out (CONN_HEALTH_CHECKS), so no request that
    # starts after the restart gets one of the dead connections.
    assert failed_after == [], figures
    assert all(status == 200 for status, _, _ in tail), figures
    assert health_down.status_code == 503
    assert "database" in health_down.json()["down"]
    assert health_up.json()["checks"]["database"] == "ok", figures
