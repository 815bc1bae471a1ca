"""Production settings: secure by default, refuse to start without a secret key."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(code_or_args, **env_changes):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings.production"
    env.update(env_changes)
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else code_or_args
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif((ROOT / ".env").exists(), reason="a local .env may define SECRET_KEY")
def test_production_refuses_to_start_without_secret_key():
    result = _run("import portal.settings.production")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_an_empty_secret_key():
    result = _run("import portal.settings.production", SECRET_KEY="")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_production_debug_defaults_to_false():
    result = _run(
        "from django.conf import settings; print(settings.DEBUG)",
        SECRET_KEY=secrets.token_urlsafe(50),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_production_passes_deploy_checks_without_warnings():
    key = secrets.token_urlsafe(64)  # 86 random characters
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], SECRET_KEY=key)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_local_and_test_settings_import():
    for module in ("portal.settings.local", "portal.settings.test"):
        result = _run("import django; django.setup()", DJANGO_SETTINGS_MODULE=module)
        assert result.returncode == 0, result.stderr
