"""The celery_worker_process fixture starts a real worker wired to the test database and broker."""

from pathlib import Path

import pytest
from django.db import connection

from portal.celery import app

pytestmark = [pytest.mark.integration]


def test_worker_answers_ping(celery_worker_process):
    replies = app.control.ping(destination=[celery_worker_process.nodename], timeout=2)

    assert replies == [{celery_worker_process.nodename: {"ok": "pong"}}]


def test_worker_runs_a_task_through_broker_and_result_backend(celery_worker_process):
    # celery.accumulate is built into Celery: it returns its arguments.
    result = app.send_task("celery.accumulate", args=(1, 2, 3), queue="celery")

    assert tuple(result.get(timeout=20)) == (1, 2, 3)


def test_worker_uses_the_test_database(celery_worker_process, transactional_db):
    test_database = connection.settings_dict["NAME"]

    assert test_database.startswith("test_")
    assert celery_worker_process.database_url.rsplit("/", 1)[1] == test_database
    environ = Path(f"/proc/{celery_worker_process.process.pid}/environ").read_bytes()
    assert f"DATABASE_URL={celery_worker_process.database_url}".encode() in environ.split(b"\0")
    assert b"DJANGO_SETTINGS_MODULE=portal.settings.test" in environ.split(b"\0")


def test_healthz_is_ok_with_a_live_worker(celery_worker_process, transactional_db, client):
    response = client.get("/healthz")

    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {"database": "ok", "redis": "ok", "worker": "ok"}
