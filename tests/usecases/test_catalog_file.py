"""KPIs as code: apply is idempotent, a dry run changes nothing, errors name the entry."""

from __future__ import annotations

import collections
import os
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from service import db as dbmod
from service.demo import starter_catalog
from service.store import kpis, services, teams
from service.usecases.catalog_file import CatalogFile, apply_catalog

STARTER = Path(__file__).resolve().parents[2] / "service" / "data" / "starter-catalog.yaml"

# Counted by hand from service/data/starter-catalog.yaml.
STARTER_CREATES = {
    "team": 4,
    "service": 6,
    "outcome": 4,
    "kpi": 13,
    "target": 17,  # availability 4 tiers, MTTR global + tier 1, one each for the other 11
    "kpi-outcome": 17,
    "kpi-service": 26,  # availability 6, MTTR 5, CFR 3, deploys 3, patch 6, backup 3
}


async def test_starter_catalog_applies_then_reapplies_as_no_change(con: dbmod.Connection) -> None:
    first = await apply_catalog(con, starter_catalog(), dry_run=False)
    kinds = collections.Counter(c.kind for c in first.changes)
    assert dict(kinds) == STARTER_CREATES
    assert {c.action for c in first.changes} == {"create"}
    assert first.unchanged == 0

    second = await apply_catalog(con, starter_catalog(), dry_run=False)
    assert second.changes == []
    assert second.unchanged == sum(STARTER_CREATES.values())

    unit_cost = await kpis.get_kpi(con, key="it_unit_cost")
    assert (unit_cost.numerator, unit_cost.denominator) == ("it_spend", "active_users")
    checkout = await services.get_service(con, slug="checkout")
    assert checkout.depends_on == ["identity", "payments-api"]
    assert checkout.revenue_per_hour == 52000.0


async def test_dry_run_reports_the_diff_and_changes_nothing(con: dbmod.Connection) -> None:
    await apply_catalog(con, starter_catalog(), dry_run=False)
    data = yaml.safe_load(STARTER.read_text())
    data["services"][4]["tier"] = 1  # erp: tier 2 -> 1
    data["kpis"][0]["escalation_path"][1]["address"] = "coo@example.com"
    edited = CatalogFile.model_validate(data)

    preview = await apply_catalog(con, edited, dry_run=True)
    assert [(c.action, c.kind, c.key, c.fields) for c in preview.changes] == [
        ("update", "service", "erp", {"tier": (2, 1)}),
        (
            "update",
            "kpi",
            "service_availability",
            {
                "escalation_path": (
                    [
                        {"who": "Service owner on call", "channel": "webhook",
                         "address": "https://hooks.example.com/kpi/availability",
                         "after_breached_periods": 1, "after_unacknowledged_minutes": 60},
                        {"who": "CTO", "channel": "email", "address": "cto@example.com",
                         "after_breached_periods": 2, "after_unacknowledged_minutes": None},
                    ],
                    [
                        {"who": "Service owner on call", "channel": "webhook",
                         "address": "https://hooks.example.com/kpi/availability",
                         "after_breached_periods": 1, "after_unacknowledged_minutes": 60},
                        {"who": "CTO", "channel": "email", "address": "coo@example.com",
                         "after_breached_periods": 2, "after_unacknowledged_minutes": None},
                    ],
                )
            },
        ),
    ]  # fmt: skip
    assert (await services.get_service(con, slug="erp")).tier == 2

    applied = await apply_catalog(con, edited, dry_run=False)
    assert [c.key for c in applied.changes] == ["erp", "service_availability"]
    assert (await services.get_service(con, slug="erp")).tier == 1


async def test_dry_run_on_an_empty_catalog_creates_nothing(con: dbmod.Connection) -> None:
    preview = await apply_catalog(con, starter_catalog(), dry_run=True)
    assert len(preview.changes) == sum(STARTER_CREATES.values())
    assert await kpis.list_kpis(con) == []
    assert await teams.list_teams(con) == []


async def test_ratio_kpis_may_come_before_the_kpis_they_divide(con: dbmod.Connection) -> None:
    catalog = CatalogFile.model_validate(
        {
            "kpis": [
                {"key": "cost_per_order", "name": "Cost per order", "unit": "EUR",
                 "direction": "lower_is_better", "aggregation": "sum", "kind": "ratio",
                 "numerator": "cost", "denominator": "orders"},
                {"key": "cost", "name": "Cost", "unit": "EUR", "direction": "lower_is_better",
                 "aggregation": "sum"},
                {"key": "orders", "name": "Orders", "unit": "orders",
                 "direction": "higher_is_better", "aggregation": "sum"},
            ]
        }
    )  # fmt: skip
    report = await apply_catalog(con, catalog, dry_run=False)
    assert [c.key for c in report.changes] == ["cost", "orders", "cost_per_order"]


async def test_an_error_names_the_entry_in_the_file_and_nothing_is_applied(
    client: httpx.AsyncClient, admin: dict[str, str], con: dbmod.Connection
) -> None:
    body = {
        "teams": [{"slug": "ops", "name": "Ops"}],
        "services": [
            {"slug": "web", "name": "Web", "tier": 1, "team": "ops"},
            {"slug": "api", "name": "API", "tier": 2, "team": "nobody"},
        ],
    }
    r = await client.post("/v1/catalog/apply", json=body, headers=admin)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"] == [
        {"pointer": "#/services/1/team", "field": "services.1.team",
         "detail": "unknown team 'nobody'"}
    ]  # fmt: skip
    assert await teams.list_teams(con) == []


@pytest.mark.parametrize(
    ("target", "field"),
    [
        ({"value": 1, "effective_from": "2026-01-02", "effective_to": "2026-01-01"},
         "effective_to"),
        ({"value": 1, "effective_from": "2026-01-01", "service": "web", "tier": 1}, "tier"),
    ],
)  # fmt: skip
async def test_a_target_the_api_would_refuse_is_refused_in_a_file_too(
    client: httpx.AsyncClient, admin: dict[str, str], con: dbmod.Connection,
    target: dict[str, object], field: str,
) -> None:  # fmt: skip
    body = {"kpis": [{"key": "k", "name": "K", "unit": "%", "direction": "higher_is_better",
                      "aggregation": "avg", "targets": [target]}]}  # fmt: skip
    r = await client.post("/v1/catalog/apply", json=body, headers=admin)
    assert r.status_code == 422, r.text  # was a 500
    assert [e["field"] for e in r.json()["errors"]] == [f"kpis.0.targets.0.{field}"]
    assert await kpis.list_kpis(con) == []


async def test_apply_endpoint_dry_run_then_apply(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {"teams": [{"slug": "ops", "name": "Ops"}]}
    preview = await client.post("/v1/catalog/apply?dry_run=true", json=body, headers=admin)
    assert preview.status_code == 200
    assert preview.json() == {
        "dry_run": True,
        "changes": [{"action": "create", "kind": "team", "key": "ops", "fields": {}}],
        "unchanged": 0,
    }
    assert (await client.get("/v1/teams", headers=admin)).json() == []
    done = await client.post("/v1/catalog/apply", json=body, headers=admin)
    assert done.json()["changes"][0]["key"] == "ops"
    again = await client.post("/v1/catalog/apply", json=body, headers=admin)
    assert again.json() == {"dry_run": False, "changes": [], "unchanged": 1}


def _kpi(database_url: str, schema: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KPI_DATABASE_URL": database_url, "KPI_DB_SCHEMA": schema}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


async def test_cli_apply_twice_and_token_create(database_url: str) -> None:
    schema = f"kpi_cli_{secrets.token_hex(4)}"
    try:
        dry = _kpi(database_url, schema, "apply", "-f", str(STARTER), "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert dry.stdout.splitlines()[-1] == "would change 87, unchanged 0"
        assert "would create service checkout" in dry.stdout

        first = _kpi(database_url, schema, "apply", "-f", str(STARTER))
        assert first.stdout.splitlines()[-1] == "changed 87, unchanged 0"
        second = _kpi(database_url, schema, "apply", "-f", str(STARTER))
        assert second.stdout.splitlines() == ["changed 0, unchanged 87"]

        made = _kpi(database_url, schema, "token", "create", "--name", "ci", "--scope", "ingest")
        assert made.returncode == 0, made.stderr
        token = made.stdout
        assert token.startswith("kpi_") and token.endswith("\n") and token.count("\n") == 1

        bad = _kpi(database_url, schema, "token", "create", "--name", "x", "--scope", "root")
        assert bad.returncode == 2
        assert "scopes are read, ingest, admin" in bad.stderr
    finally:
        con = await dbmod.connect(database_url)
        await con.execute(f'drop schema if exists "{schema}" cascade')
        await con.close()


async def test_sources_apply_idempotently_without_revealing_secrets(
    con: dbmod.Connection,
) -> None:
    await apply_catalog(con, starter_catalog(), dry_run=False)
    pd = {
        "name": "pagerduty", "kind": "pagerduty", "secret": "s3cret",
        "severity_map": {"P1": "sev1"},
        "service_rules": [{"match": {"ref": "Checkout API"}, "service": "checkout"}],
    }  # fmt: skip
    first = await apply_catalog(con, CatalogFile.model_validate({"sources": [pd]}), dry_run=False)
    assert [(c.action, c.kind, c.key) for c in first.changes] == [("create", "source", "pagerduty")]
    again = await apply_catalog(con, CatalogFile.model_validate({"sources": [pd]}), dry_run=False)
    assert (again.changes, again.unchanged) == ([], 1)

    rotated = {**pd, "secret": "n3w", "production_envs": ["prod"]}
    report = await apply_catalog(
        con, CatalogFile.model_validate({"sources": [rotated]}), dry_run=False
    )
    (change,) = report.changes
    assert change.fields == {
        "production_envs": (["production", "prod"], ["prod"]),
        "secret": ("(hidden)", "(changed)"),
    }
    assert "n3w" not in report.model_dump_json() and "s3cret" not in report.model_dump_json()
    assert await con.fetchval("select secret from source where name = 'pagerduty'") == "n3w"


def test_cli_reads_source_secrets_from_the_environment(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = f"kpi_cli_{secrets.token_hex(4)}"
    catalog = tmp_path / "sources.yaml"
    catalog.write_text(
        "sources:\n  - {name: gitlab, kind: gitlab, secret_env: KPI_TEST_GITLAB_TOKEN}\n"
    )
    missing = _kpi(database_url, schema, "apply", "-f", str(catalog))
    assert missing.returncode == 2
    assert "sources.0.secret_env: KPI_TEST_GITLAB_TOKEN is not set" in missing.stderr
    monkeypatch.setenv("KPI_TEST_GITLAB_TOKEN", "tok-123")
    try:
        done = _kpi(database_url, schema, "apply", "-f", str(catalog))
        assert done.stdout.splitlines() == ["create source gitlab", "changed 1, unchanged 0"]
        assert "tok-123" not in done.stdout + done.stderr
    finally:
        import asyncio

        async def drop() -> None:
            con = await dbmod.connect(database_url)
            await con.execute(f'drop schema if exists "{schema}" cascade')
            await con.close()

        asyncio.run(drop())


SHORT_MTTR = """
kpis:
  - key: incident_mttr
    name: Mean time to restore (sev1-sev2)
    unit: minutes
    direction: lower_is_better
    kind: builtin
    metric: time_to_restore
"""


async def test_fields_left_out_are_kept_and_an_explicit_null_clears(
    con: dbmod.Connection,
) -> None:
    """A short KPI entry updates what it gives and keeps the rest (owners, escalation path,
    filter, tags); `business_owner: null` clears that owner, and only it."""
    await apply_catalog(con, starter_catalog(), dry_run=False)
    before = await kpis.get_kpi(con, key="incident_mttr")
    short = CatalogFile.model_validate(yaml.safe_load(SHORT_MTTR))
    preview = await apply_catalog(con, short, dry_run=True)
    assert preview.changes == []
    assert preview.unchanged == 1

    renamed = yaml.safe_load(SHORT_MTTR)
    renamed["kpis"][0] |= {"name": "Time to restore (sev1-sev2)", "business_owner": None}
    report = await apply_catalog(con, CatalogFile.model_validate(renamed), dry_run=False)
    [change] = report.changes
    assert (change.action, change.kind, change.key) == ("update", "kpi", "incident_mttr")
    assert change.fields == {
        "name": ("Mean time to restore (sev1-sev2)", "Time to restore (sev1-sev2)"),
        "business_owner": ("coo@example.com", None),
    }
    after = await kpis.get_kpi(con, key="incident_mttr")
    assert after.business_owner is None
    assert after.technology_owner == before.technology_owner
    assert after.escalation_path == before.escalation_path
    assert after.filter == before.filter is not None
    assert after.tags == before.tags


async def test_a_service_left_without_its_dependencies_keeps_them(con: dbmod.Connection) -> None:
    await apply_catalog(con, starter_catalog(), dry_run=False)
    short = {"services": [{"slug": "checkout", "name": "Online checkout", "tier": 1}]}
    report = await apply_catalog(con, CatalogFile.model_validate(short), dry_run=False)
    assert report.changes == []
    checkout = await services.get_service(con, slug="checkout")
    assert checkout.depends_on == ["identity", "payments-api"]
    assert checkout.team == "digital"
    cleared = {"services": [{"slug": "checkout", "name": "Online checkout", "tier": 1,
                             "depends_on": []}]}  # fmt: skip
    report = await apply_catalog(con, CatalogFile.model_validate(cleared), dry_run=False)
    assert [c.fields for c in report.changes] == [
        {"depends_on": (["identity", "payments-api"], [])}
    ]


async def test_the_readme_apply_error_is_what_the_command_prints(
    database_url: str, tmp_path: Path
) -> None:
    """The README's example error, and its exit code, are the command's own."""
    readme = (STARTER.parent.parent.parent / "README.md").read_text()
    schema = f"kpi_cli_{secrets.token_hex(4)}"
    bad = tmp_path / "catalog.yaml"
    bad.write_text(yaml.safe_dump({
        "teams": [{"slug": "platform", "name": "Platform"}],
        "services": [{"slug": "a", "name": "A", "tier": 1, "team": "platform"},
                     {"slug": "b", "name": "B", "tier": 2, "team": "nobody"}],
    }))  # fmt: skip
    try:
        done = _kpi(database_url, schema, "apply", "-f", str(bad))
        assert done.returncode == 1
        printed = done.stderr.strip()
        assert printed == (
            "error: services.1: team: unknown team 'nobody'\n"
            "  services.1.team: unknown team 'nobody'"
        )
        assert printed in readme
        assert "exits with 1" in readme
    finally:
        con = await dbmod.connect(database_url, schema)
        await con.execute(f'drop schema if exists "{schema}" cascade')
        await con.close()


async def test_service_attributes_apply_once_and_changes_show_in_the_diff(
    con: dbmod.Connection,
) -> None:
    await apply_catalog(con, starter_catalog(), dry_run=False)
    checkout = await services.get_service(con, slug="payments-api")
    assert checkout.attributes == {"vendor": "PayCo"}  # as the starter catalog says
    data = yaml.safe_load(STARTER.read_text())
    data["services"][1]["attributes"] = {"vendor": "PayCo", "region": "eu"}
    changed = await apply_catalog(con, CatalogFile.model_validate(data), dry_run=False)
    assert [(c.action, c.key, c.fields) for c in changed.changes] == [
        ("update", "payments-api",
         {"attributes": ({"vendor": "PayCo"}, {"vendor": "PayCo", "region": "eu"})}),
    ]  # fmt: skip
    # Given as null, the attributes are cleared; a service without the key keeps its own.
    data["services"][1]["attributes"] = None
    del data["services"][2]["attributes"]
    cleared = await apply_catalog(con, CatalogFile.model_validate(data), dry_run=False)
    assert [(c.key, c.fields) for c in cleared.changes] == [
        ("payments-api", {"attributes": ({"vendor": "PayCo", "region": "eu"}, {})}),
    ]
    assert (await services.get_service(con, slug="checkout")).attributes == {"vendor": "in-house"}
