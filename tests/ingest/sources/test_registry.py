"""The SOURCES registry against every list of source kinds kept elsewhere: the packages, the
database's reference table, the models' enum, the Python client's literal and the README."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from kpi_client.models.base import SourceKind as ClientSourceKind

import service.ingest.sources as sources_package
from service import db as dbmod
from service.cli.common import REPO_ROOT
from service.ingest.sources import KINDS, SECRET_HEADERS, SOURCES, loggable_headers
from service.ingest.sources.generated import (
    PACKAGES,
    generated_files,
    package_names,
    packages_module,
    replace_block,
)
from service.models.sources import SourceKind


def test_every_package_under_sources_is_registered() -> None:
    root = Path(sources_package.__file__).parent
    packages = {p.parent.name for p in root.glob("*/__init__.py")}
    assert packages == set(SOURCES)
    for kind, source in SOURCES.items():
        assert source.kind == kind == source.adapter.KIND


async def test_the_database_knows_the_registered_kinds(con: dbmod.Connection) -> None:
    stored = await con.fetch("select kind from source_kind")
    assert {r["kind"] for r in stored} == set(KINDS)


def test_the_models_enum_lists_the_registered_kinds_in_order() -> None:
    assert [k.value for k in SourceKind] == list(KINDS)


def test_the_clients_literal_lists_the_registered_kinds_in_order() -> None:
    assert typing.get_args(ClientSourceKind) == KINDS


def test_the_written_blocks_are_as_the_registry_writes_them() -> None:
    files = generated_files(REPO_ROOT)
    assert {p.relative_to(REPO_ROOT).as_posix() for p in files} >= {
        "README.md",
        "service/models/sources.py",
    }
    for path, text in files.items():
        assert path.read_text() == text, f"{path} is stale: run `kpi export`"


def test_every_sources_secret_headers_stay_out_of_the_log() -> None:
    for source in SOURCES.values():
        assert source.secret_headers <= SECRET_HEADERS
        headers = dict.fromkeys(source.secret_headers, "secret") | {"x-request-id": "r1"}
        assert loggable_headers(headers) == {"x-request-id": "r1"}


def test_a_block_without_its_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="one block"):
        replace_block("no markers here", "# begin", "# end", ["x"])
    assert replace_block("a\n  # begin\nold\n  # end\nb", "# begin", "# end", ["new"]) == (
        "a\n  # begin\nnew\n  # end\nb"
    )


def test_a_new_package_is_listed_last_and_a_removed_one_dropped(tmp_path: Path) -> None:
    # The registry's list is written from the folders: the documented order of those already
    # listed is kept, a new folder goes last (new ones in name order), a gone one is dropped.
    listed = tmp_path / PACKAGES
    listed.parent.mkdir(parents=True)
    listed.write_text((REPO_ROOT / PACKAGES).read_text())
    for name in ("github", "gitlab", "pagerduty", "opsgenie", "alertmanager", "zeta", "argocd"):
        (listed.parent / name).mkdir()
        (listed.parent / name / "__init__.py").write_text("")
    names = package_names(tmp_path)  # jira's folder is gone
    assert names == ["github", "gitlab", "pagerduty", "opsgenie", "alertmanager", "argocd", "zeta"]
    module = packages_module(names)
    assert "    argocd.SOURCE,\n    zeta.SOURCE,\n)" in module
    assert "from service.ingest.sources import alertmanager, argocd, github, gitlab," in module
    # Twelve packages no longer fit on one import line: wrapped as `ruff format` leaves it.
    twelve = packages_module([*names, "cdevents", "incidentio", "jira", "jsm", "servicenow"])
    assert "from service.ingest.sources import (\n    alertmanager,\n    argocd,\n" in twelve


async def test_migrate_adds_a_kind_the_registry_gained(con: dbmod.Connection) -> None:
    # A database migrated before a source package was added lacks its kind; the repeatable
    # script that `kpi export` writes from SOURCES adds it on the next migrate.
    schema = "registry_kinds"
    await con.execute(f"drop schema if exists {schema} cascade")
    try:
        await dbmod.migrate(con, schema)
        await con.execute(f"delete from {schema}.source_kind where kind = 'jira'")
        assert await dbmod.migrate(con, schema) == []  # no numbered migration is pending
        stored = await con.fetch(f"select kind from {schema}.source_kind")
        assert {r["kind"] for r in stored} == set(KINDS)
    finally:
        await con.execute(f"drop schema if exists {schema} cascade")
