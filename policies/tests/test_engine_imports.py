"""The engine is plain Python: stdlib only, no Django, no eval/exec."""

import ast
import json
import subprocess
import sys
from pathlib import Path

ENGINE_DIR = Path(__file__).resolve().parents[1] / "engine"
REPO_ROOT = ENGINE_DIR.parents[1]
ENGINE_MODULES = sorted(path for path in ENGINE_DIR.glob("*.py"))


def _imported_top_level_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_engine_modules_exist():
    names = {path.stem for path in ENGINE_MODULES}
    assert {"__init__", "facts", "rules", "evaluate", "scenario"} <= names


def test_engine_imports_only_the_standard_library():
    allowed = set(sys.stdlib_module_names) | {"__future__"}
    for path in ENGINE_MODULES:
        imported = _imported_top_level_names(ast.parse(path.read_text(encoding="utf-8")))
        assert imported <= allowed, f"{path.name} imports {imported - allowed}"


def test_engine_never_calls_eval_or_exec():
    for path in ENGINE_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec", "compile", "__import__"}, path.name


def test_importing_the_engine_loads_no_django_module():
    # A fresh interpreter: this test process may well have Django loaded already.
    modules = ", ".join(f"'policies.engine.{path.stem}'" for path in ENGINE_MODULES)
    script = (
        "import importlib, json, sys\n"
        f"for name in [{modules}]:\n"
        "    importlib.import_module(name.removesuffix('.__init__'))\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'django')))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": ""},
    )
    assert json.loads(completed.stdout) == []
