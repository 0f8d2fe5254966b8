"""What a test's code says about PostgreSQL, read from its source: the names and strings by
which test code reaches a database, looked for in the test function, the fixtures it uses and
the helpers of tests/ they call, followed from module to module (tests/conftest.py's
selection of the tests that touch no database is checked against it)."""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
import textwrap
import types
from pathlib import Path

import pytest

#: Names (variables, parameters, attributes) by which test code reaches a database: the
#: fixtures, a connection, the helpers that start a server or open a pool, the app's lifespan
#: (it connects to the configured database), and the environment (a child process inherits
#: KPI_DATABASE_URL from it).
DATABASE_NAMES = frozenset(
    {
        "con",
        "session_con",
        "database_url",
        "direct_database_url",
        "db_schema",
        "app_client",
        "EmbeddedPostgres",
        "OwnPostgres",
        "embedded_postgres",
        "connect",
        "create_pool",
        "migrate",
        "create_app",
        "lifespan_context",
        "environ",
    }
)
#: Strings that name a database or run the service (whose commands open one).
DATABASE_STRINGS = ("KPI_DATABASE_URL", "postgresql://", "postgres://", "pg_ctl", "service.cli")
#: The package whose code is followed: the tests' own helpers.
TEST_PACKAGE = "tests"


def _is_test_code(obj: object) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module == TEST_PACKAGE or module.startswith(TEST_PACKAGE + ".")


class _Reader:
    """Reads functions and classes of the test code, following the names they use."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.found: set[str] = set()

    def read(self, obj: object) -> None:
        obj = inspect.unwrap(obj) if callable(obj) else obj  # a fixture wraps its function
        if id(obj) in self.seen or not _is_test_code(obj):
            return
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            return
        self.seen.add(id(obj))
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
        except (OSError, TypeError, SyntaxError):
            self.found.add(f"<unreadable source of {obj!r}>")
            return
        namespace = vars(sys.modules[obj.__module__])
        for node in ast.walk(tree):
            self._note(node, namespace)

    def _note(self, node: ast.AST, namespace: dict[str, object]) -> None:
        if isinstance(node, ast.Name):
            self._word(node.id)
            self.read(namespace.get(node.id))
        elif isinstance(node, ast.Attribute):
            self._word(node.attr)
            if isinstance(node.value, ast.Name):
                base = namespace.get(node.value.id)
                if isinstance(base, types.ModuleType) and _is_module_of_tests(base):
                    self.read(getattr(base, node.attr, None))
        elif isinstance(node, ast.arg):
            self._word(node.arg)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            self.found.update(s for s in DATABASE_STRINGS if s in node.value)

    def _word(self, word: str) -> None:
        if word in DATABASE_NAMES:
            self.found.add(word)


def _is_module_of_tests(module: types.ModuleType) -> bool:
    return module.__name__ == TEST_PACKAGE or module.__name__.startswith(TEST_PACKAGE + ".")


def fixture_definitions(item: pytest.Function) -> list[object]:
    """The definitions of the fixtures the test uses that the test code defines: in its module,
    else in the conftest.py files of its folder and the folders above it, nearest first."""
    modules: list[types.ModuleType] = [item.module] if item.module else []
    root = Path(importlib.import_module(TEST_PACKAGE).__file__ or "").resolve().parent
    folder = item.path.resolve().parent
    while folder == root or root in folder.parents:
        if (folder / "conftest.py").exists():
            dotted = ".".join((TEST_PACKAGE, *folder.relative_to(root).parts, "conftest"))
            modules.append(importlib.import_module(dotted))
        folder = folder.parent
    found = []
    for name in item.fixturenames:
        for module in modules:
            if (definition := getattr(module, name, None)) is not None:
                found.append(definition)
                break
    return found


def database_mentions(function: object, fixtures: list[object] | None = None) -> set[str]:
    """The database names and strings in `function`, its `fixtures` and the test code they
    reach."""
    reader = _Reader()
    for obj in (function, *(fixtures or [])):
        reader.read(obj)
    return reader.found
