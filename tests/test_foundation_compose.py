"""docker-compose.yml and Dockerfile (no Docker engine here: parse and check them)."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
REQUIRED_APP_ENV = (
    "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS",
)  # fmt: skip
ENV_CALL = re.compile(
    r"\benv(?:\.(?:bool|list|db|int|float|str|path|url|json|dict|tuple))?\(\s*"
    r"[\"']([A-Z][A-Z0-9_]*)[\"']([^)]*)\)"
)


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def settings_env_vars() -> dict[str, bool]:
    """Every variable portal/settings/*.py reads, mapped to whether every read has a default."""
    found: dict[str, bool] = {}
    for path in sorted((ROOT / "portal" / "settings").glob("*.py")):
        for name, rest in ENV_CALL.findall(path.read_text()):
            found[name] = found.get(name, True) and "default=" in rest
    return found


def test_settings_scan_finds_the_basics():
    found = settings_env_vars()

    for name in ("SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"):
        assert name in found


def test_all_services_present(compose):
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(compose["services"])


def test_postgres_is_16_or_newer_with_a_named_volume(compose):
    postgres = compose["services"]["postgres"]
    major = int(re.match(r"postgres:(\d+)", postgres["image"]).group(1))

    assert major >= 16
    assert any(v.startswith("postgres-data:") for v in postgres["volumes"])
    assert "postgres-data" in compose["volumes"]


def test_every_service_has_a_health_check(compose):
    for name in ("postgres", "redis", *APP_SERVICES):
        healthcheck = compose["services"][name].get("healthcheck")
        assert healthcheck and healthcheck.get("test"), f"{name} has no health check"


def test_named_volumes_are_declared_and_used(compose):
    declared = set(compose["volumes"])
    used = {
        volume.split(":", 1)[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/"))
    }

    assert {"postgres-data", "redis-data"} <= declared
    assert used == declared


def test_commands(compose):
    services = compose["services"]
    web = " ".join(services["web"]["command"])
    assert web.startswith("gunicorn portal.wsgi")
    assert "8000" in web
    assert services["worker"]["command"][:4] == ["celery", "-A", "portal", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "portal", "beat"]
    assert "healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_app_services_wait_for_healthy_dependencies_and_migrations(compose):
    for name in APP_SERVICES:
        depends = compose["services"][name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_app_services_share_the_environment_the_settings_read(compose):
    needed = settings_env_vars()
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "portal.settings.production"
        for variable in REQUIRED_APP_ENV:
            assert variable in environment, f"{name} lacks {variable}"
        for variable, has_default in needed.items():
            assert has_default or variable in environment, (
                f"{variable} is read without a default but {name} does not set it"
            )
        # Production refuses to start without a key: compose must demand one, not invent one.
        assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert "@postgres:5432/" in environment["DATABASE_URL"]
        assert environment["REDIS_URL"].startswith("redis://redis:6379")


def test_dockerfile():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert re.search(r"^FROM python:3\.12-slim", dockerfile, re.MULTILINE)
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)
    assert "collectstatic --noinput" in dockerfile
    assert "SECRET_KEY=" in dockerfile.split("collectstatic")[0].rsplit("RUN", 1)[1]
    assert re.search(r'^CMD \["gunicorn", "portal.wsgi', dockerfile, re.MULTILINE)
    assert "requirements.txt" in dockerfile


def test_dockerignore_keeps_local_state_out():
    ignored = (ROOT / ".dockerignore").read_text().split()

    for entry in (".git", ".venv", ".local", ".env", "staticfiles"):
        assert entry in ignored
