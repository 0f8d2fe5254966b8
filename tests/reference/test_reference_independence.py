"""The reference shares no code with the service, so it cannot share its bugs: no module of
tests/reference imports anything but the standard library, pytest and tests.reference itself,
and importing all of it loads no module of the service."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ALLOWED_THIRD_PARTY = {"pytest"}


def _modules() -> list[Path]:
    found = sorted(HERE.glob("*.py"))
    assert len(found) >= 5, found
    return found


def _imported(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import: write tests.reference.<module>"
            assert node.module is not None
            names.append(node.module)
    return names


def _allowed(name: str) -> bool:
    top = name.split(".")[0]
    return (
        name == "tests.reference"
        or name.startswith("tests.reference.")
        or top in ALLOWED_THIRD_PARTY
        or (top in sys.stdlib_module_names and top != "importlib")
    )


def test_the_reference_imports_nothing_of_the_service() -> None:
    refused = {}
    for path in _modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        bad = [name for name in _imported(tree) if not _allowed(name)]
        # Nor a dynamic import that would dodge the check above.
        bad += [
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("__import__", "exec", "eval")
        ]
        if bad:
            refused[path.name] = bad
    assert refused == {}


def test_the_check_refuses_what_it_should() -> None:
    """The control: the rule above refuses the imports it exists to refuse."""
    for name in ("service", "service.kpi.bands", "tests.conftest", "tests.kpi", "importlib",
                 "kpi_client", "hypothesis"):  # fmt: skip
        assert not _allowed(name), name
    for name in ("datetime", "tests.reference.figures", "pytest", "collections.abc"):
        assert _allowed(name), name


def test_importing_the_reference_loads_no_service_module() -> None:
    modules = ", ".join(f"tests.reference.{p.stem}" for p in _modules() if p.stem != "__init__")
    code = (
        f"import sys, {modules}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('service', 'kpi_client')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
