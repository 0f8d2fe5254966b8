"""Migration 0030 gives every service that already had a team an ownership row from its
creation, so its past is reported against that team."""

from __future__ import annotations

from tests.store.migrations_before import schema_before


async def test_services_with_a_team_own_it_since_they_were_created(
    direct_database_url: str,
) -> None:
    async with schema_before(direct_database_url, 30) as before:
        con = before.con
        # The catalog as it stood before 0030: one service with a team, one without.
        team_id = await con.fetchval(
            "insert into team (slug, name) values ('shop-team', 'Shop') returning id"
        )
        await con.execute(
            "insert into business_service (slug, name, tier, team_id, created_at) values"
            " ('shop', 'Shop', 2, $1, '2025-06-01T00:00:00Z'), ('docs', 'Docs', 4, null, now())",
            team_id,
        )
        assert "0030_service_ownership" in await before.migrate_rest()
        rows = await con.fetch(
            "select s.slug, t.slug as team, o.valid_from::text, o.valid_to"
            " from service_ownership o join business_service s on s.id = o.service_id"
            " join team t on t.id = o.team_id"
        )
        assert [dict(r) for r in rows] == [
            {"slug": "shop", "team": "shop-team", "valid_from": "2025-06-01 00:00:00+00",
             "valid_to": None}
        ]  # fmt: skip
