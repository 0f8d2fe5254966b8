"""Migrations: forward-only, each applied once, even when two processes start together."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import pytest

from service import db as dbmod


def test_named_queries_split_on_name_comments() -> None:
    text = "-- name: first\nselect 1;\n\n-- name: second\nselect 2\nfrom t;\n"
    assert dbmod.parse_named_queries(text) == {"first": "select 1", "second": "select 2\nfrom t"}


def test_a_query_name_used_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="defined twice"):
        dbmod.parse_named_queries("-- name: a\nselect 1;\n-- name: a\nselect 2;")


def test_migration_files_are_numbered_without_gaps() -> None:
    migrations = dbmod.load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    on_disk = sorted(p.name for p in (dbmod.SQL_DIR / "migrations").glob("*.sql"))
    assert on_disk == [f"{m.version:04d}_{m.name}.sql" for m in migrations]


async def test_two_processes_migrating_at_once_apply_each_migration_once(
    database_url: str,
) -> None:
    schema = f"kpi_migrate_{secrets.token_hex(4)}"
    first = await dbmod.connect(database_url, schema)
    second = await dbmod.connect(database_url, schema)
    try:
        applied = await asyncio.gather(dbmod.migrate(first, schema), dbmod.migrate(second, schema))
        expected = [f"{m.version:04d}_{m.name}" for m in dbmod.load_migrations()]
        # Each migration is applied by one of them: the other waited on the step's lock, then
        # found it recorded and went on to the next.
        assert sorted(applied[0] + applied[1]) == expected
        assert not set(applied[0]) & set(applied[1])
        rows = await first.fetch(f'select version from "{schema}".schema_migration order by 1')
        assert [r["version"] for r in rows] == [m.version for m in dbmod.load_migrations()]
        assert await dbmod.migrate(first, schema) == []
    finally:
        await first.execute(f'drop schema if exists "{schema}" cascade')
        await first.close()
        await second.close()


async def test_a_failing_migration_leaves_no_trace_and_stops_the_rest(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "0001_good.sql").write_text("create table good (id int);")
    (tmp_path / "0002_bad.sql").write_text("create table half (id int); select 1/0;")
    (tmp_path / "0003_later.sql").write_text("create table later (id int);")
    real_load = dbmod.load_migrations
    monkeypatch.setattr(dbmod, "load_migrations", lambda: real_load(tmp_path))
    schema = f"kpi_migrate_{secrets.token_hex(4)}"
    con = await dbmod.connect(database_url, schema)
    try:
        with pytest.raises(Exception, match="division by zero"):
            await dbmod.migrate(con, schema)
        rows = await con.fetch(f'select version from "{schema}".schema_migration')
        assert [r["version"] for r in rows] == [1]
        tables = await con.fetch(
            "select table_name from information_schema.tables where table_schema = $1 order by 1",
            schema,
        )
        assert [t["table_name"] for t in tables] == ["good", "schema_migration"]
    finally:
        await con.execute(f'drop schema if exists "{schema}" cascade')
        await con.close()
