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
from service.ingest.sources.generated import generated_files, replace_block
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
