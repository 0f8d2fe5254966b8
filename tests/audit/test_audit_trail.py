"""The audit trail below the API: `record_change` for other features, who is acting, entries
in the transaction of their change, append-only at the database, and `kpi apply` recording
its file."""

from __future__ import annotations

import getpass
import hashlib
import secrets
from pathlib import Path

import asyncpg
import pytest
import yaml

from service import db as dbmod
from service.models.audit import Actor, ApplyFile, AuditAction, AuditVia
from service.models.catalog import TeamIn
from service.usecases import audit
from service.usecases.catalog import TEAMS
from service.usecases.catalog_file import CatalogFile, apply_catalog
from tests.usecases.test_catalog_file import _kpi
from tests.usecases.test_openslo import OCCURRENCES, apply_text

ALICE = Actor("alice", token_id=None)


async def test_record_change_writes_one_entry_and_none_for_an_update_changing_nothing(
    con: dbmod.Connection,
) -> None:
    window = {"service": "checkout", "start": "2026-11-02T22:00:00Z", "minutes": 30}
    made = await audit.record_change(con, ALICE, AuditVia.CLI, "maintenance-window", "17",
                                     AuditAction.CREATE, None, window)  # fmt: skip
    same = await audit.record_change(con, ALICE, AuditVia.CLI, "maintenance-window", "17",
                                     AuditAction.UPDATE, window, dict(window))  # fmt: skip
    assert (made, same) == (True, False)
    (entry,) = await audit.list_entries(con, kind="maintenance-window")
    assert (entry.actor_name, entry.actor_token_id, entry.via, entry.action) == (
        "alice",
        None,
        AuditVia.CLI,
        AuditAction.CREATE,
    )
    assert (entry.entity_key, entry.before, entry.after) == ("17", None, window)


async def test_a_change_with_no_one_acting_is_the_services_own(con: dbmod.Connection) -> None:
    await TEAMS.create(con, TeamIn(slug="ops", name="Ops"))
    with audit.acting(ALICE, AuditVia.CLI):
        await TEAMS.replace(con, "ops", TeamIn(slug="ops", name="Operations"))
    updated, created = await audit.list_entries(con, kind="team", key="ops")
    assert (created.actor_name, created.via) == ("system", AuditVia.SYSTEM)
    assert (updated.actor_name, updated.via) == ("alice", AuditVia.CLI)
    # Leaving the block restores who was acting before.
    assert audit.current().via is AuditVia.SYSTEM


class Refused(Exception):
    """Raised to fail a transaction after its writes."""


async def test_a_change_in_a_transaction_that_fails_leaves_no_entry(con: dbmod.Connection) -> None:
    with pytest.raises(Refused):
        async with con.transaction():
            await TEAMS.create(con, TeamIn(slug="ops", name="Ops"))
            # Written, in the transaction ...
            assert [e.entity_key for e in await audit.list_entries(con, kind="team")] == ["ops"]
            raise Refused
    # ... and gone with it.
    assert await audit.list_entries(con, kind="team") == []
    assert await TEAMS.list(con, ["ops"]) == []


async def test_entries_cannot_be_updated_deleted_or_truncated(con: dbmod.Connection) -> None:
    await audit.record_change(con, ALICE, AuditVia.CLI, "team", "ops", AuditAction.CREATE,
                              None, {"slug": "ops"})  # fmt: skip
    for statement in (
        "update audit_entry set actor_name = 'mallory'",
        "delete from audit_entry",
        "truncate audit_entry",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            async with con.transaction():
                await con.execute(statement)
    (entry,) = await audit.list_entries(con, kind="team")
    assert entry.actor_name == "alice"


async def test_an_entry_whose_sides_contradict_its_action_is_refused(
    con: dbmod.Connection,
) -> None:
    with pytest.raises(asyncpg.CheckViolationError, match="audit_entry_sides"):
        await audit.record_change(con, ALICE, AuditVia.CLI, "team", "ops", AuditAction.DELETE,
                                  None, {"slug": "ops"})  # fmt: skip


CATALOG = {
    "teams": [{"slug": "payments", "name": "Payments"}],
    "services": [
        {"slug": "identity", "name": "Identity", "tier": 2},
        {"slug": "checkout", "name": "Checkout", "tier": 1, "team": "payments",
         "depends_on": ["identity"]},
    ],
    "outcomes": [{"slug": "protect-revenue", "name": "Protect revenue"}],
    "kpis": [{"key": "orders", "name": "Orders", "unit": "count",
              "direction": "higher_is_better", "aggregation": "sum",
              "targets": [{"value": 100, "effective_from": "2026-01-01"}],
              "outcomes": [{"outcome": "protect-revenue", "weight": 1}],
              "services": ["checkout"]}],
}  # fmt: skip


async def test_an_apply_records_each_change_with_its_file(con: dbmod.Connection) -> None:
    text = yaml.safe_dump(CATALOG).encode()
    applied = ApplyFile("catalog.yaml", hashlib.sha256(text).hexdigest())
    with audit.acting(ALICE, AuditVia.APPLY, applied):
        await apply_catalog(con, CatalogFile.model_validate(CATALOG), dry_run=True)
        assert await audit.list_entries(con, actor="alice") == []  # a dry run: nothing
        await apply_catalog(con, CatalogFile.model_validate(CATALOG), dry_run=False)
        found = await audit.list_entries(con, actor="alice")
        # Applied again: nothing changes, nothing is recorded.
        await apply_catalog(con, CatalogFile.model_validate(CATALOG), dry_run=False)
    assert await audit.list_entries(con, actor="alice") == found
    changes = [(e.entity_kind, e.entity_key, e.action.value) for e in reversed(found)]
    target_id = next(e.entity_key for e in found if e.entity_kind == "target")
    assert changes == [
        ("team", "payments", "create"),
        # New services are created without dependencies first, then given them.
        ("service", "identity", "create"),
        ("service", "checkout", "create"),
        ("service", "checkout", "update"),
        ("outcome", "protect-revenue", "create"),
        ("kpi", "orders", "create"),
        ("target", target_id, "create"),
        ("kpi-outcome", "orders/protect-revenue", "create"),
        ("kpi-service", "orders/checkout", "create"),
    ]
    for e in found:
        assert (e.via, e.file_name, e.file_sha256) == (AuditVia.APPLY, "catalog.yaml",
                                                       applied.sha256)  # fmt: skip
    depends = next(e for e in found if e.action is AuditAction.UPDATE)
    assert isinstance(depends.before, dict) and isinstance(depends.after, dict)
    assert (depends.before["depends_on"], depends.after["depends_on"]) == ([], ["identity"])


async def test_kpi_apply_and_token_commands_record_their_actor_and_file(
    database_url: str, tmp_path: Path
) -> None:
    schema = f"kpi_audit_{secrets.token_hex(4)}"
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump({"teams": [{"slug": "payments", "name": "Payments"}]}))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        done = _kpi(database_url, schema, "apply", "-f", str(path), "--actor", "alice")
        assert done.returncode == 0, done.stderr
        made = _kpi(database_url, schema, "token", "create", "--name", "ci", "--scope", "ingest")
        assert made.returncode == 0, made.stderr
        con = await dbmod.connect(database_url, schema)
        try:
            (token,) = await audit.list_entries(con, kind="token")
            (team,) = await audit.list_entries(con, kind="team")
        finally:
            await con.close()
        assert (team.actor_name, team.via, team.file_name, team.file_sha256) == (
            "alice",
            AuditVia.APPLY,
            str(path),
            digest,
        )
        assert (token.actor_name, token.via, token.file_name) == (
            getpass.getuser(),
            AuditVia.CLI,
            None,
        )
    finally:
        con = await dbmod.connect(database_url)
        await con.execute(f'drop schema if exists "{schema}" cascade')
        await con.close()


async def test_openslo_documents_kept_by_an_apply_are_recorded(con: dbmod.Connection) -> None:
    await apply_text(con, OCCURRENCES.read_text())
    (kept,) = await audit.list_entries(con, kind="openslo-slo")
    assert (kept.entity_key, kept.action, kept.before) == ("search_slo", AuditAction.CREATE, None)
    assert isinstance(kept.after, dict)
    assert (kept.after["kind"], kept.after["spec"]["budgetingMethod"]) == ("SLO", "Occurrences")
    # The KPIs the SLO became are recorded as any KPI is.
    kpis = await audit.list_entries(con, kind="kpi")
    assert sorted(e.entity_key for e in kpis) == [
        "search_slo",
        "search_slo_good",
        "search_slo_total",
    ]
