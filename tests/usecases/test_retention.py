"""Retention on a real Postgres, with hand-picked dates: expired observation partitions are
detached and dropped (checked in pg_catalog) while series of a day or more keep their figures
from the day roll-ups, hour-grain series of the expired months are empty, delivery payloads
are cleared while their dedupe keys keep working and unmapped deliveries keep theirs, closed
statuses stay, and only the leader's round does any of it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from service import background
from service import db as dbmod
from service.config import Settings
from service.models.retention import horizons
from service.store import leases
from service.usecases import calendars, evaluation, recompute, retention
from tests.conftest import SingleConnectionDatabase, app_client
from tests.ingest.fixtures import fixture_bytes
from tests.ingest.test_pipeline import (
    PD_TRIGGERED,
    PD_VECTOR,
    assert_unmapped,
    pagerduty_source,
    post_pagerduty,
    replace_source,
    rule,
)
from tests.usecases.rest_series import Headers, make_kpi, observe, series, utc

Json = dict[str, Any]
UTC = dt.UTC
#: Mid-August 2031. With four months kept, the horizon is 1 April 2031: February and March
#: go, April to August stay.
NOW = dt.datetime(2031, 8, 15, 12, tzinfo=UTC)
HORIZON = dt.datetime(2031, 4, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def utc_after() -> Iterator[None]:
    """The process's calendar goes back to the default after each test."""
    yield
    calendars.use_settings(Settings())


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The conftest's settings without a rate limit: a test reads hundreds of series within a
    second or two, more than a token's burst, and how fast depends on the machine."""
    return settings.model_copy(update={"rate_limit_per_second": 0})


def keeping(settings: Settings, months: int = 4, **more: Any) -> Settings:
    return settings.model_copy(update={"retain_observations_months": months, **more})


async def make_service(api: httpx.AsyncClient, admin: Headers, slug: str) -> None:
    body = {"slug": slug, "name": f"Service {slug}", "tier": 2}
    r = await api.post("/v1/services", json=body, headers=admin)
    assert r.status_code == 201, r.text


async def partitions(con: dbmod.Connection) -> set[str]:
    """The observation table's partitions, from pg_catalog."""
    rows = await con.fetch(
        "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid"
        " join pg_class p on p.oid = i.inhparent"
        " where p.relname = 'observation' and p.relnamespace = current_schema()::regnamespace"
    )
    return {r["relname"] for r in rows}


async def tables_named(con: dbmod.Connection, pattern: str) -> set[str]:
    rows = await con.fetch(
        "select relname from pg_class where relname like $1"
        " and relnamespace = current_schema()::regnamespace and relkind = 'r'", pattern,
    )  # fmt: skip
    return {r["relname"] for r in rows}


async def load_kpis(api: httpx.AsyncClient, admin: Headers) -> None:
    """One KPI per aggregation (and a ratio of two sums), on two services and without one,
    in February and March (to expire) and April (kept)."""
    for slug in ("checkout", "search"):
        await make_service(api, admin, slug)
    for key, agg in [("orders", "sum"), ("latency", "avg"), ("peak", "max"), ("floor", "min"),
                     ("backlog", "last"), ("spend", "sum"), ("alerts", "count")]:  # fmt: skip
        await make_kpi(api, admin, key, aggregation=agg, cadence="monthly")
    await make_kpi(api, admin, "cost_per_order", kind="ratio", aggregation=None,
                   numerator="spend", denominator="orders", cadence="monthly")  # fmt: skip
    checkout = [
        (utc(2031, 2, 10, 9), 1.5), (utc(2031, 2, 10, 15), 2.5), (utc(2031, 2, 11, 10), 5.0),
        (utc(2031, 3, 31, 10), 3.0),  # Monday 31 March: its week runs into April
        (utc(2031, 4, 2, 10), 4.0),
    ]  # fmt: skip
    search = [(utc(2031, 3, 5, 8), 11.0), (utc(2031, 4, 3, 8), 0.25)]
    for key in ("orders", "latency", "peak", "floor", "backlog", "alerts"):
        await observe(api, admin, key, checkout, "checkout")
        await observe(api, admin, key, search, "search")
        await observe(api, admin, key, [(utc(2031, 3, 5, 9), 100.0)])  # no service
    await observe(api, admin, "spend", [(utc(2031, 2, 10, 9), 27.0), (utc(2031, 3, 31, 9), 6.0),
                                        (utc(2031, 4, 2, 9), 2.0)], "checkout")  # fmt: skip


KEYS = ("orders", "latency", "peak", "floor", "backlog", "alerts", "cost_per_order")
GRAINS = ("day", "week", "month", "quarter", "year")
SCOPES: tuple[dict[str, str], ...] = ({}, {"service": "checkout"}, {"service": "search"})
WINDOWS: tuple[dict[str, str], ...] = (
    {},
    {"from": "2031-01-01T00:00:00Z", "to": "2031-09-01T00:00:00Z"},
    {"from": "2031-02-10T00:00:00Z", "to": "2031-04-03T00:00:00Z"},
)


async def every_series(api: httpx.AsyncClient, reader: Headers) -> dict[str, Any]:
    found = {}
    for key, grain, scope, window in itertools.product(KEYS, GRAINS, SCOPES, WINDOWS):
        params = {"grain": grain, **scope, **window}
        found[f"{key} {params}"] = await series(api, reader, key, **params)
    return found


async def test_expired_partitions_are_dropped_and_day_or_longer_series_keep_their_figures(
    con: dbmod.Connection, settings: Settings, admin: Headers, reader: Headers
) -> None:
    async with app_client(con, settings, lambda: NOW) as api:
        await load_kpis(api, admin)
        before = await every_series(api, reader)
        hours_before = await series(api, reader, "orders", grain="hour", service="checkout",
                                    **{"from": "2031-02-10T00:00:00Z"})  # fmt: skip
        # Every service's points of checkout: 1.5 + 2.5 + 5.0 + 3.0 + 4.0 = 16.0 (sum).
        assert before["orders {'grain': 'year', 'service': 'checkout'}"] == [
            ("2031-01-01T00:00:00Z", 16.0, 5)
        ]
        # February's mean over its three points, (1.5 + 2.5 + 5.0) / 3 = 3.0, not the mean of
        # its two days' means ((2.0 + 5.0) / 2 = 3.5): the roll-up keeps sums and counts.
        assert before["latency {'grain': 'month', 'service': 'checkout'}"][0] == (
            "2031-02-01T00:00:00Z",
            3.0,
            3,
        )
        # The week from Monday 31 March holds checkout's 3.0 (March) and 4.0 (April), and
        # search's 0.25 (April): 7.25 from three points.
        assert ("2031-03-31T00:00:00Z", 7.25, 3) in before["orders {'grain': 'week'}"]
        # February's cost per order: 27.0 / (1.5 + 2.5 + 5.0) = 3.0.
        assert before["cost_per_order {'grain': 'month', 'service': 'checkout'}"][0][:2] == (
            "2031-02-01T00:00:00Z",
            3.0,
        )
        assert await evaluation.evaluate_on_demand(
            con, kpi="orders", on=utc(2031, 2, 15), cadence=None, now=NOW
        )  # fmt: skip
        statuses = await con.fetchval("select count(*) from kpi_status")
        assert statuses == 1  # February's, for the KPI overall (it applies to no service)

    assert {"observation_2031_02", "observation_2031_03", "observation_2031_04"} <= (
        await partitions(con)
    )
    run = await retention.run_due(con, keeping(settings), NOW, holder="leader")
    assert run is not None
    assert run.observations_before == HORIZON
    # February: 6 KPIs x 3 checkout points + spend's 1 = 19; March: 6 KPIs x (1 checkout
    # + 1 search + 1 without a service) + spend's 1 = 19.
    assert run.partitions_dropped == 2
    assert run.points_dropped == 19 + 19
    left = await partitions(con)
    assert not {"observation_2031_02", "observation_2031_03"} & left
    assert "observation_2031_04" in left
    # Dropped, not only detached: no table of theirs is left.
    assert await tables_named(con, "observation_2031_0%") == {"observation_2031_04"}
    assert await con.fetchval("select count(*) from observation where ts < $1", HORIZON) == 0
    assert await con.fetchval("select count(*) from kpi_status") == statuses

    async with app_client(con, settings, lambda: NOW) as api:
        assert await every_series(api, reader) == before
        # Hour-grain series of expired months are gone: empty, April's hours still there.
        hours_after = await series(api, reader, "orders", grain="hour", service="checkout",
                                   **{"from": "2031-02-10T00:00:00Z"})  # fmt: skip
        assert hours_after == [p for p in hours_before if p[0] >= "2031-04-01"]
        assert hours_after == [("2031-04-02T10:00:00Z", 4.0, 1)]


async def test_a_calendar_of_utc_days_reads_the_roll_ups_of_expired_months(
    con: dbmod.Connection, settings: Settings, admin: Headers, reader: Headers
) -> None:
    # Weeks from Sunday, fiscal years from April: buckets of whole UTC days still.
    cal = settings.model_copy(update={"week_start": "sunday", "fiscal_year_start_month": 4})
    async with app_client(con, cal, lambda: NOW) as api:
        await load_kpis(api, admin)
        before = await every_series(api, reader)
        # Fiscal quarter from 1 January 2031 holds checkout's February and March orders:
        # 1.5 + 2.5 + 5.0 + 3.0 = 12.0.
        assert before["orders {'grain': 'quarter', 'service': 'checkout'}"][0] == (
            "2031-01-01T00:00:00Z",
            12.0,
            4,
        )
    await retention.run_due(con, keeping(cal), NOW, holder="leader")
    assert not {"observation_2031_02", "observation_2031_03"} & await partitions(con)
    async with app_client(con, cal, lambda: NOW) as api:
        assert await every_series(api, reader) == before


async def test_in_a_zoned_calendar_the_estate_keeps_its_figures_and_services_lose_theirs(
    con: dbmod.Connection, settings: Settings, admin: Headers, reader: Headers,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    berlin = settings.model_copy(update={"time_zone": "Europe/Berlin"})
    async with app_client(con, berlin, lambda: NOW) as api:
        await load_kpis(api, admin)
        estate = await series(api, reader, "orders", grain="month")
        service = await series(api, reader, "orders", grain="month", service="checkout")
        # Berlin's February starts 31 January 23:00 UTC; checkout's orders that month:
        # 1.5 + 2.5 + 5.0 = 9.0.
        assert service[0] == ("2031-01-31T23:00:00Z", 9.0, 3)
    with caplog.at_level("WARNING", logger="service.usecases.retention"):
        await retention.run_due(con, keeping(berlin), NOW, holder="leader")
    assert "not UTC days" in caplog.text
    async with app_client(con, berlin, lambda: NOW) as api:
        # The whole estate's local months come from the hour roll-ups: unchanged.
        assert await series(api, reader, "orders", grain="month") == estate
        # A service's come from its points: only April's are left.
        assert await series(api, reader, "orders", grain="month", service="checkout") == [
            ("2031-03-31T22:00:00Z", 4.0, 1)
        ]


async def test_recompute_keeps_statuses_of_periods_reaching_before_the_horizon(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    async with app_client(con, settings, lambda: NOW) as api:
        await make_kpi(api, admin, "orders", cadence="monthly")
        await observe(api, admin, "orders", [(utc(2031, 3, 10), 2.0), (utc(2031, 4, 10), 3.0),
                                             (utc(2031, 5, 10), 5.0)])  # fmt: skip
    for month in (3, 4, 5):
        await evaluation.evaluate_on_demand(
            con, kpi="orders", on=utc(2031, month, 15), cadence=None, now=NOW
        )  # fmt: skip
    await retention.run_due(con, keeping(settings), NOW, holder="leader")
    report = await recompute.recompute(con, NOW, keep_before=HORIZON)
    # March is before the horizon, April's trend compares it with March: both kept as they
    # were; May (and April before it) is evaluated again.
    assert report.statuses == 1
    assert report.notes == [
        "periods kept as stored (reaching back before the observations' retention horizon, "
        "2031-04-01T00:00:00Z): 2"
    ]
    rows = await con.fetch("select period_start, value, previous_value from kpi_status"
                           " order by period_start")  # fmt: skip
    assert [(r["period_start"].month, r["value"], r["previous_value"]) for r in rows] == [
        (3, 2.0, None),
        (4, 3.0, 2.0),
        (5, 5.0, 3.0),
    ]


async def test_a_kpi_or_service_whose_points_expired_still_has_a_history(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    async with app_client(con, settings, lambda: NOW) as api:
        await make_service(api, admin, "checkout")
        await make_kpi(api, admin, "orders")
        await observe(api, admin, "orders", [(utc(2031, 2, 10), 1.0)], "checkout")
        await retention.run_due(con, keeping(settings), NOW, holder="leader")
        assert await con.fetchval("select count(*) from observation where kpi_id in"
                                  " (select id from kpi where key = 'orders')") == 0  # fmt: skip
        # Its days are still reported: deleting either is refused as before.
        for path in ("/v1/kpis/orders", "/v1/services/checkout"):
            r = await api.delete(path, headers=admin)
            assert r.status_code == 409, r.text
            assert "has observations" in r.json()["detail"]


async def test_points_before_the_horizon_are_refused_naming_them(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    async with app_client(con, keeping(settings), lambda: NOW) as api:
        await make_kpi(api, admin, "orders")
        body = [{"kpi": "orders", "ts": "2031-04-01T00:00:00Z", "value": 1},
                {"kpi": "orders", "ts": "2031-03-31T23:59:59Z", "value": 2}]  # fmt: skip
        r = await api.post("/v1/observations", json=body, headers=admin)
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == ["1.ts"]
        assert "KPI_RETAIN_OBSERVATIONS_MONTHS" in r.text


async def test_only_the_lease_holder_runs_retention(
    con: dbmod.Connection, settings: Settings, admin: Headers, reader: Headers
) -> None:
    async with app_client(con, settings, lambda: NOW) as api:
        await make_kpi(api, admin, "orders")
        await observe(api, admin, "orders", [(utc(2031, 2, 10, 9), 1.0), (utc(2031, 4, 2), 1.0)])
    assert await leases.take_lease(con, evaluation.LEADER_LEASE, "a", 60)
    assert await retention.run_due(con, keeping(settings), NOW, holder="b") is None
    assert "observation_2031_02" in await partitions(con)
    assert await con.fetchval("select count(*) from retention_run") == 0
    run = await retention.run_due(con, keeping(settings), NOW, holder="a")
    assert run is not None and run.points_dropped == 1
    assert "observation_2031_02" not in await partitions(con)
    last, oldest = await retention.status(con)
    assert last == run
    assert oldest == HORIZON  # April's partition, the oldest kept
    async with app_client(con, settings, lambda: NOW) as api:
        scraped = (await api.get("/metrics", headers=reader)).text
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped) for sample in family.samples
    }  # fmt: skip
    assert {what: samples["kpi_retention_dropped_total", (("what", what),)]
            for what in ("partitions", "points", "payloads", "idempotent_answers")} == {
        "partitions": 1, "points": 1, "payloads": 0, "idempotent_answers": 0}  # fmt: skip
    assert samples["kpi_retention_last_round_timestamp_seconds", ()] == NOW.timestamp()
    # 1 April 2031 00:00 UTC, April's partition.
    assert samples["kpi_retention_oldest_partition_timestamp_seconds", ()] == 1_932_768_000
    assert await retention.summary(con, keeping(settings)) == (
        "retention: observations 4 month(s), delivery payloads for ever, idempotent answers"
        " 24 hour(s); oldest observation partition 2031-04; last round 2031-08-15T12:00:00Z:"
        " 1 partition(s) and 1 point(s) dropped, 0 payload(s) cleared, 0 idempotent answer(s)"
        " forgotten"
    )


async def test_the_background_round_runs_retention_only_while_it_leads(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    async with app_client(con, settings, lambda: NOW) as api:
        await make_kpi(api, admin, "orders")
        await observe(api, admin, "orders", [(utc(2031, 2, 10, 9), 1.0), (utc(2031, 4, 2), 1.0)])
    db = SingleConnectionDatabase(con)
    async with httpx.AsyncClient() as http:
        # Another process leads: this one's round drops nothing.
        assert await leases.take_lease(con, evaluation.LEADER_LEASE, "another-process", 60)
        await background.tick(db, keeping(settings), http, NOW)  # type: ignore[arg-type]
        assert "observation_2031_02" in await partitions(con)
        # It stops and gives the lease up: the next round of this one leads and drops.
        await leases.release_lease(con, evaluation.LEADER_LEASE, "another-process")
        await background.tick(db, keeping(settings), http, NOW)  # type: ignore[arg-type]
        assert "observation_2031_02" not in await partitions(con)
        assert "observation_2031_04" in await partitions(con)


async def test_a_roll_up_missing_points_is_built_again_before_its_partition_goes(
    con: dbmod.Connection, settings: Settings, admin: Headers, reader: Headers
) -> None:
    async with app_client(con, settings, lambda: NOW) as api:
        await make_service(api, admin, "checkout")
        await make_kpi(api, admin, "orders")
        await observe(api, admin, "orders", [(utc(2031, 2, 10, 9), 2.0),
                                             (utc(2031, 2, 11, 9), 3.0)], "checkout")  # fmt: skip
        # A roll-up row lost (a restore of part of the database, a hand-made fix ...).
        await con.execute("delete from observation_service_day where day = $1", utc(2031, 2, 11))
        await retention.run_due(con, keeping(settings), NOW, holder="leader")
        # 2.0 + 3.0 = 5.0: the day lost was taken again from the points before they went.
        assert await series(api, reader, "orders", grain="month", service="checkout") == [
            ("2031-02-01T00:00:00Z", 5.0, 2)
        ]


# Deliveries and idempotent answers --------------------------------------------------------------


async def test_payloads_expire_but_a_retry_is_still_a_duplicate_and_unmapped_ones_stay(
    con: dbmod.Connection, settings: Settings, admin: Headers, reader: Headers
) -> None:
    async with app_client(con, settings) as api:
        await pagerduty_source(api, admin, mapped=False)
        unmapped = assert_unmapped(await post_pagerduty(api, fixture_bytes(PD_VECTOR)))
        await replace_source(api, admin, "pd", "pagerduty",
                             service_rules=[rule("pig208", "api")])  # fmt: skip
        applied = await post_pagerduty(api, fixture_bytes(PD_TRIGGERED), **{
            "X-Webhook-Id": "wh-1"})  # fmt: skip
        assert applied.json()["status"] == "applied", applied.text
    # Received on 1 November 2031 at 10:00 (the unmapped one) and 11:00 (the applied one).
    await con.execute("update delivery set received_at = $2 where id = $1",
                      unmapped["delivery_id"], utc(2031, 11, 1, 10))  # fmt: skip
    await con.execute("update delivery set received_at = $2 where id = $1",
                      applied.json()["delivery_id"], utc(2031, 11, 1, 11))  # fmt: skip
    # 30 days later at noon: the horizon is 1 November 12:00, both are older.
    now = utc(2031, 12, 1, 12)
    thirty = settings.model_copy(update={"retain_deliveries_days": 30})
    assert horizons(now, thirty).deliveries == utc(2031, 11, 1, 12)
    assert horizons(now, settings).deliveries is None  # kept for ever by default
    run = await retention.run_due(con, thirty, now, holder="leader")
    assert run is not None and run.payloads_cleared == 1
    bodies = dict(await con.fetch("select status, body is not null from delivery"))
    assert bodies == {"unmapped": True, "applied": False}

    async with app_client(con, settings) as api:
        # PagerDuty retries the applied delivery (within its 48 hours of the clearing):
        # still a duplicate, by its key row.
        again = await post_pagerduty(api, fixture_bytes(PD_TRIGGERED), **{"X-Webhook-Id": "wh-1"})
        assert again.json()["status"] == "duplicate", again.text
        detail = (await api.get(f"/v1/deliveries/{applied.json()['delivery_id']}",
                                headers=admin)).json()  # fmt: skip
        assert (detail["body"], detail["headers"], detail["status"]) == (None, {}, "applied")
        # The unmapped one kept its payload: replayed once its service is mapped.
        await replace_source(api, admin, "pd", "pagerduty", service_rules=[
            rule("pig208", "api"), rule("API Service", "api")])  # fmt: skip
        replayed = await api.post(f"/v1/deliveries/{unmapped['delivery_id']}/replay",
                                  headers=admin)  # fmt: skip
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["status"] == "applied"


async def test_an_unmapped_delivery_is_discarded_by_an_admin_with_an_audit_entry(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    async with app_client(con, settings) as api:
        await pagerduty_source(api, admin, mapped=False)
        unmapped = assert_unmapped(await post_pagerduty(api, fixture_bytes(PD_VECTOR)))
        delivery_id = unmapped["delivery_id"]
        r = await api.delete(f"/v1/deliveries/{delivery_id}", headers=admin)
        assert r.status_code == 204, r.text
        detail = (await api.get(f"/v1/deliveries/{delivery_id}", headers=admin)).json()
        assert (detail["status"], detail["body"], detail["headers"]) == ("discarded", None, {})
        assert detail["detail"].startswith("discarded by admin; was: no business service")
        # Sent again: a duplicate of the discarded delivery, not a new unmapped one.
        again = await post_pagerduty(api, fixture_bytes(PD_VECTOR))
        assert (again.status_code, again.json()["status"]) == (200, "duplicate"), again.text
        # Only unmapped deliveries are discarded, and only once; an unknown one is a 404.
        twice = await api.delete(f"/v1/deliveries/{delivery_id}", headers=admin)
        assert twice.status_code == 409, twice.text
        assert (await api.delete("/v1/deliveries/999999999", headers=admin)).status_code == 404
        [entry] = (await api.get("/v1/audit", params={"kind": "delivery",
                                                        "key": str(delivery_id)},
                                 headers=admin)).json()  # fmt: skip
        assert (entry["action"], entry["actor_name"], entry["via"]) == ("update", "admin", "rest")
        assert (entry["before"]["status"], entry["after"]["status"]) == ("unmapped", "discarded")


async def test_idempotent_answers_older_than_their_hours_are_forgotten(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    token = await con.fetchval("select id from api_token limit 1")
    await con.execute(
        "insert into idempotent_request (token_id, key, fingerprint, created_at) values"
        " ($1, 'old', 'f', $2), ($1, 'new', 'f', $3)",
        token, utc(2031, 8, 14, 5, 59), utc(2031, 8, 14, 6, 1),
    )  # fmt: skip
    # 30 hours kept at 12:00 on 15 August: the horizon is 14 August 06:00.
    run = await retention.run_due(
        con, settings.model_copy(update={"retain_idempotency_hours": 30}), NOW, holder="leader"
    )
    assert run is not None and run.idempotency_purged == 1
    assert await con.fetchval("select array_agg(key) from idempotent_request") == ["new"]


# Settings ---------------------------------------------------------------------------------------


def test_settings_that_would_break_a_guarantee_are_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="at least 3 days"):
        Settings(retain_deliveries_days=2)
    assert Settings(retain_deliveries_days=0).retain_deliveries_days == 0
    assert Settings(retain_deliveries_days=3).retain_deliveries_days == 3
    # Ingest tokens may write 90 days back: 3 months (at least 84 days) keep too little.
    with pytest.raises(ValidationError, match="give at least 4 months"):
        Settings(retain_observations_months=3)
    assert Settings(retain_observations_months=4).retain_observations_months == 4
    assert Settings(retain_observations_months=3, observation_window_past_days=60)
    with pytest.raises(ValidationError, match="retain_idempotency_hours"):
        Settings(retain_idempotency_hours=0.5)
    # The defaults: observations and payloads for ever, idempotent answers a day.
    defaults = Settings()
    assert (defaults.retain_observations_months, defaults.retain_deliveries_days,
            defaults.retain_idempotency_hours) == (0, 0, 24)  # fmt: skip
    assert horizons(NOW, defaults).observations is None
