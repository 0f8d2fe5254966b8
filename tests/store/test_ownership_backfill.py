"""Migration 0030 gives every service that already had a team an ownership row from its
creation, so its past is reported against that team."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pytest

from service import db as dbmod
from tests.conftest import DIRECT


async def test_services_with_a_team_own_it_since_they_were_created(
    direct_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_load = dbmod.load_migrations
    for m in (dbmod.SQL_DIR / "migrations").glob("00*.sql"):
        if int(m.name[:4]) < 30:
            shutil.copy(m, tmp_path / m.name)
    monkeypatch.setattr(dbmod, "load_migrations", lambda: real_load(tmp_path))
    schema = f"kpi_migrate_{secrets.token_hex(4)}"
    # A schema of its own: straight to Postgres, also in a run through a pooler.
    con = await dbmod.connect(direct_database_url, schema, settings=DIRECT)
    try:
        await dbmod.migrate(con, schema)
        # The catalog as it stood before 0030: one service with a team, one without.
        team_id = await con.fetchval(
            "insert into team (slug, name) values ('shop-team', 'Shop') returning id"
        )
        await con.execute(
            "insert into business_service (slug, name, tier, team_id, created_at) values"
            " ('shop', 'Shop', 2, $1, '2025-06-01T00:00:00Z'), ('docs', 'Docs', 4, null, now())",
            team_id,
        )
        monkeypatch.setattr(dbmod, "load_migrations", real_load)
        assert "0030_service_ownership" in await dbmod.migrate(con, schema)
        rows = await con.fetch(
            "select s.slug, t.slug as team, o.valid_from::text, o.valid_to"
            " from service_ownership o join business_service s on s.id = o.service_id"
            " join team t on t.id = o.team_id"
        )
        assert [dict(r) for r in rows] == [
            {"slug": "shop", "team": "shop-team", "valid_from": "2025-06-01 00:00:00+00",
             "valid_to": None}
        ]  # fmt: skip
    finally:
        await con.execute(f'drop schema if exists "{schema}" cascade')
        await con.close()
