"""Migration 0038 fills the per-service day roll-up from the points already stored, so series
of services keep their figures once those points expire."""

from __future__ import annotations

from tests.store.migrations_before import schema_before


async def test_points_stored_before_the_migration_are_rolled_up_per_service_and_day(
    direct_database_url: str,
) -> None:
    async with schema_before(direct_database_url, 38) as before:
        con = before.con
        # Points as they stood before 0038 (in the default partition: no month was made).
        await con.execute(
            "insert into observation (kpi_id, service_id, ts, value, dimensions) values"
            " (1, 7, '2031-02-10T09:00:00Z', 1.5, '{}'),"
            " (1, 7, '2031-02-10T15:00:00Z', 2.5, '{\"region\": \"eu\"}'),"
            " (1, 7, '2031-02-10T15:00:00Z', 4.0, '{\"region\": \"us\"}'),"
            " (1, 7, '2031-02-11T00:00:00Z', 5.0, '{}'),"
            " (1, 8, '2031-02-10T23:59:59Z', 0.25, '{}'),"
            " (1, null, '2031-02-10T12:00:00Z', 100.0, '{}')"
        )
        assert "0038_retention" in await before.migrate_rest()
        rows = await con.fetch(
            "select service_id, day::text, points, total, low, high, last_ts::text,"
            " last_dimensions::text, last_value from observation_service_day order by 1, 2"
        )
        assert [tuple(r) for r in rows] == [
            # Service 7 on 10 February: 1.5 + 2.5 + 4.0 = 8.0 over 3 points; its last point is
            # the one at 15:00 with the greater dimensions ({"region": "us"}), 4.0.
            (7, "2031-02-10 00:00:00+00", 3, 8.0, 1.5, 4.0, "2031-02-10 15:00:00+00",
             '{"region": "us"}', 4.0),
            # Midnight starts the next day.
            (7, "2031-02-11 00:00:00+00", 1, 5.0, 5.0, 5.0, "2031-02-11 00:00:00+00", "{}",
             5.0),
            (8, "2031-02-10 00:00:00+00", 1, 0.25, 0.25, 0.25, "2031-02-10 23:59:59+00", "{}",
             0.25),
            # The point without a service is in observation_day only.
        ]  # fmt: skip
        # From now on the triggers keep it: one more point adds to its day, a changed value
        # takes the day's figures again from the points (1.5 + 2.5 + 4.0 - 4.0 + 6.0 = 10.0).
        await con.execute(
            "insert into observation (kpi_id, service_id, ts, value) values"
            " (1, 8, '2031-02-10T01:00:00Z', 0.5)"
        )
        await con.execute("update observation set value = 6.0 where service_id = 7 and value = 4.0")
        rows = await con.fetch(
            "select service_id, points, total, high, last_value from observation_service_day"
            " where day = '2031-02-10T00:00:00Z' order by 1"
        )
        assert [tuple(r) for r in rows] == [(7, 3, 10.0, 6.0, 6.0), (8, 2, 0.75, 0.5, 0.25)]
