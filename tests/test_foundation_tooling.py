"""Developer tooling: Makefile targets, CI entry point, pre-commit hooks."""

import os
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_makefile_has_the_documented_targets():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):", makefile, re.MULTILINE))

    expected = {"run", "test", "venv", "services", "services-stop", "lint", "fmt", "migrate"}
    expected.add("check")
    assert expected <= targets


def test_make_dry_run_parses():
    result = subprocess.run(
        ["make", "-n", "run", "test", "lint"], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "scripts/run.py" in result.stdout
    assert "scripts/test.sh" in result.stdout


def test_scripts_are_executable_and_valid_bash():
    for path in [ROOT / ".ci" / "run", *sorted((ROOT / "scripts").glob("*.sh"))]:
        assert os.access(path, os.X_OK), f"{path} is not executable"
        result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, f"{path}: {result.stderr}"


def test_ci_runs_make_test_and_installs_what_it_needs():
    ci = (ROOT / ".ci" / "run").read_text()

    assert "make test" in ci
    assert "ensure-system-packages.sh" in ci


def test_pre_commit_config_has_ruff_and_django_hooks():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}

    assert {"ruff-check", "ruff-format", "django-check", "django-makemigrations"} <= set(hooks)
    assert "makemigrations --check --dry-run" in hooks["django-makemigrations"]["entry"]
    for hook in hooks.values():
        assert hook["entry"].startswith(".venv/bin/")


def test_readme_documents_every_environment_variable():
    from tests.test_foundation_compose import settings_env_vars

    readme = (ROOT / "README.md").read_text()

    missing = [name for name in settings_env_vars() if f"`{name}`" not in readme]
    assert not missing, f"add these to the configuration table in README.md: {missing}"
    assert readme.index("make run") < readme.index("## Configuration")
