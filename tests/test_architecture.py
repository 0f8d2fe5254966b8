"""The layers of docs/ARCHITECTURE.md, enforced: no module of service/ imports from a layer
above its own, adapters and repositories stay apart, and only repositories run SQL."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICE = ROOT / "service"

#: From the bottom up: each layer's modules (a package stands for everything in it; the
#: longest name that matches wins). A module may import its own layer and those below.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "base",
        (
            "service.clock",
            "service.config",
            "service.logs",
            "service.errors",
            "service.duplicate_keys",
            "service.gc_pause",
            "service.db_url",
            "service.progress",
            "service.models.enums",
        ),
    ),
    ("rules", ("service.kpi",)),
    ("models", ("service.models",)),
    ("adapters", ("service.ingest",)),
    # Repositories and gateways: the I/O to Postgres and to URLs people configure.
    (
        "repositories",
        (
            "service.store",
            "service.db",
            "service.outbound",
            "service.notify",
            "service.datasources",
        ),
    ),
    # The rate limits are policy the use cases apply (kept in memory, per process).
    ("use cases", ("service.usecases", "service.ratelimit", "service.webhook_guard")),
    ("interfaces", ("service",)),
]
#: Side by side: neither may import the other (adapters turn payloads into models; only use
#: cases bring them to the repositories).
APART = {("adapters", "repositories"), ("repositories", "adapters")}
#: Connection methods that run SQL: called only in the repositories.
SQL_CALLS = {
    "fetch",
    "fetchrow",
    "fetchval",
    "execute",
    "executemany",
    "copy_records_to_table",
    "copy_to_table",
    "copy_from_query",
}


def layer_of(module: str) -> int:
    best, found = -1, len(LAYERS) - 1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and len(prefix) > best:
                best, found = len(prefix), index
    return found


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(SERVICE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every service module a tree imports (at any depth, lazily or not), by line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                # `from service import db` imports service.db; `from service.db import q`
                # imports service.db (q is not a module).
                name = f"{node.module}.{alias.name}"
                yield node.lineno, name if _is_module(name) else node.module


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    wrong = []
    for module, path in modules():
        mine = layer_of(module)
        for line, name in imported(ast.parse(path.read_text())):
            if not name.startswith("service.") or name == module:
                continue
            theirs = layer_of(name)
            pair = (LAYERS[mine][0], LAYERS[theirs][0])
            if theirs > mine or pair in APART:
                where = f"{path.relative_to(ROOT)}:{line}"
                wrong.append(f"{where} {module} ({pair[0]}) imports {name} ({pair[1]})")
    assert not wrong, "\n".join(wrong)


def test_only_repositories_run_sql() -> None:
    wrong = []
    for module, path in modules():
        if LAYERS[layer_of(module)][0] == "repositories":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_CALLS
            ):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} calls .{node.func.attr}()")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("service.clock", "base"),
        ("service.models.enums", "base"),
        ("service.models.catalog", "models"),
        ("service.kpi.targets", "rules"),
        ("service.ingest.sources.github.adapter", "adapters"),
        ("service.outbound", "repositories"),
        ("service.store.tokens", "repositories"),
        ("service.db", "repositories"),
        ("service.usecases.catalog", "use cases"),
        ("service.rest.catalog", "interfaces"),
        ("service.graphql.schema", "interfaces"),
        ("service.cli", "interfaces"),
    ],
)
def test_layer_table_places_modules_where_the_walkthrough_says(module: str, layer: str) -> None:
    assert LAYERS[layer_of(module)][0] == layer


def test_the_walkthrough_names_every_module_of_the_layer_table() -> None:
    """docs/ARCHITECTURE.md shows the same table: each module or package placed above is
    named there (as `service/x.py`, `x.py` among its siblings, or `service/x/`)."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    missing = []
    for _, prefixes in LAYERS:
        for prefix in prefixes:
            if prefix == "service":
                continue
            parts = prefix.split(".")
            names = {f"{'/'.join(parts)}.py", f"{'/'.join(parts)}/", f"`{parts[-1]}.py`",
                     f"`{'/'.join(parts[1:])}.py`", f"`{'/'.join(parts[1:])}/`"}  # fmt: skip
            if not any(name in text for name in names):
                missing.append(prefix)
    assert not missing, f"not in docs/ARCHITECTURE.md: {missing}"
