"""/healthz: 200 when database, Redis and a worker answer; 503 naming what is down, fast."""

import shutil
import subprocess
import time
from unittest import mock

import pytest
import redis
from django.test import override_settings

from portal import views
from tests.fixtures import die_with_parent, free_port


@pytest.fixture
def throwaway_redis(tmp_path):
    """A private redis-server on a free port (no worker listens to it)."""
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed (scripts/ensure-system-packages.sh installs it)")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        preexec_fn=die_with_parent(),
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("throwaway redis-server did not start")
            time.sleep(0.05)
    yield process, url
    process.kill()
    process.wait()


@pytest.fixture(autouse=True)
def _warm_up(client):
    """Load the URLconf and middleware first: the timing asserts are about the view itself."""
    with mock.patch.dict(views.PROBES, {name: (lambda: "ok") for name in views.PROBES}):
        client.get("/healthz")


def _get_healthz(client):
    started = time.monotonic()
    response = client.get("/healthz")
    return response, time.monotonic() - started


def test_healthz_names_the_missing_worker(client, db, throwaway_redis):
    _, url = throwaway_redis
    with override_settings(REDIS_URL=url, CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url):
        response, elapsed = _get_healthz(client)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["down"] == ["worker"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == "ok"
    assert elapsed < 2


def test_healthz_answers_fast_when_redis_dies(client, db, throwaway_redis):
    process, url = throwaway_redis
    with override_settings(REDIS_URL=url, CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url):
        process.kill()
        process.wait()
        response, elapsed = _get_healthz(client)

    assert response.status_code == 503
    body = response.json()
    assert "redis" in body["down"]
    assert body["checks"]["redis"].startswith("down")
    assert "worker" in body["down"]
    assert elapsed < 2


def test_healthz_answers_fast_when_redis_hangs(client, db, throwaway_redis):
    # SIGSTOP: the port accepts TCP connections but nothing ever answers.
    process, url = throwaway_redis
    with override_settings(REDIS_URL=url, CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url):
        process.send_signal(subprocess.signal.SIGSTOP)
        try:
            response, elapsed = _get_healthz(client)
        finally:
            process.send_signal(subprocess.signal.SIGCONT)

    assert response.status_code == 503
    assert "redis" in response.json()["down"]
    assert elapsed < 2


def test_a_hung_probe_is_reported_within_the_deadline(client, db, monkeypatch):
    monkeypatch.setattr(views, "DEADLINE_SECONDS", 0.3)
    monkeypatch.setitem(views.PROBES, "database", lambda: time.sleep(1.5) or "ok")
    monkeypatch.setitem(views.PROBES, "redis", lambda: "ok")
    monkeypatch.setitem(views.PROBES, "worker", lambda: "ok")

    response, elapsed = _get_healthz(client)

    assert response.status_code == 503
    assert response.json()["down"] == ["database"]
    assert "no answer" in response.json()["checks"]["database"]
    assert elapsed < 1


def test_healthz_is_never_cached(client, db, monkeypatch):
    for name in views.PROBES:
        monkeypatch.setitem(views.PROBES, name, lambda: "ok")

    response = client.get("/healthz")

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
