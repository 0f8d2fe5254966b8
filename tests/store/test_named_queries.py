"""Every named query has a Python wrapper of the same name in the store module of the same
name (sql/queries/teams.sql and service/store/teams.py), and every wrapper is used: one grep
finds both, and no statement lies unused."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from service.db import SQL_DIR, queries

ROOT = SQL_DIR.parent

#: SQL file (sql/queries/<area>.sql) -> the store module wrapping its statements.
COVERED = {
    area: f"service.store.{area}"
    for area in (
        "teams", "services", "outcomes", "kpis", "targets", "links", "locks", "costs", "doctor",
        "recompute", "tokens", "idempotency", "observations", "series", "metrics", "telemetry",
        "statuses", "escalations", "outbox", "reports", "deliveries", "portal", "sources", "ingest",
        "rejections", "persisted_queries", "clusters", "openslo", "budgets", "money", "audit",
        "initiatives", "backstage", "ownership", "burn_alerts", "team_scope", "calendars",
        "limits", "leases", "maintenance", "deploy_gate", "data_sources", "replicas",
    )
}  # fmt: skip


def _referenced_names() -> set[str]:
    """Every name the service and the benchmarks refer to (called, passed or imported)."""
    found: set[str] = set()
    for directory in ("service", "bench"):
        for path in (ROOT / directory).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Name):
                    found.add(node.id)
                elif isinstance(node, ast.Attribute):
                    found.add(node.attr)
                elif isinstance(node, ast.alias):
                    found.add(node.name)
    return found


REFERENCED = _referenced_names()


def test_every_sql_file_is_covered() -> None:
    files = {p.stem for p in (SQL_DIR / "queries").glob("*.sql")}
    assert files == COVERED.keys()


@pytest.mark.parametrize("area", sorted(COVERED))
def test_each_named_query_has_a_wrapper_of_its_name(area: str) -> None:
    module = importlib.import_module(COVERED[area])
    source = Path(inspect.getfile(module)).read_text()
    missing = []
    for name in queries(area):
        wrapper = getattr(module, name, None)
        if not (inspect.isfunction(wrapper) and wrapper.__module__ == module.__name__):
            missing.append(f"{name}: no function of that name in {module.__name__}")
        elif f'"{name}"' not in source:
            missing.append(f"{name}: {module.__name__} never names the statement")
    assert not missing


@pytest.mark.parametrize("area", sorted(COVERED))
def test_each_wrapper_is_used(area: str) -> None:
    unused = [name for name in queries(area) if name not in REFERENCED]
    assert not unused, f"statements of {area}.sql nothing calls: remove them"
