"""The import direction between apps is one-way: portal ← companies ← projects ← policies."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["portal", "companies", "projects", "policies"]
# The root URLconf and project wiring compose the apps; they are not part of the shared core.
COMPOSITION_MODULES = {"portal/urls.py", "portal/api/urls.py", "portal/wsgi.py", "portal/asgi.py"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def python_files(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/migrations/" in relative or "/tests/" in relative or relative in COMPOSITION_MODULES:
            continue
        yield relative, path


@pytest.mark.parametrize("package", LAYERS)
def test_apps_import_only_their_own_layer_or_below(package):
    forbidden = set(LAYERS[LAYERS.index(package) + 1 :])
    violations = [
        f"{relative} imports {sorted(imported_packages(path) & forbidden)}"
        for relative, path in python_files(package)
        if imported_packages(path) & forbidden
    ]
    assert violations == []


def test_the_check_sees_a_violation(tmp_path):
    """Guard the guard: an upward import, plain or from-style, is reported."""
    sample = tmp_path / "probe.py"
    sample.write_text("from policies import models\nimport projects.services\n")
    assert imported_packages(sample) >= {"policies", "projects"}
