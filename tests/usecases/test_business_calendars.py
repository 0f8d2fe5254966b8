"""Business calendars on a real Postgres: series buckets and statuses in the organisation's
zone or a KPI's own across the daylight-saving changes of 2026 in Berlin, weeks from Sunday,
a fiscal year from April, Postgres' buckets held to the pure rules, and a calendar change
that applies from its date on.

Every KPI sums its points, so each bucket below is the sum of the points whose local day,
week, month or quarter it is, worked out by hand from the instants sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pydantic
import pytest
import yaml

from service import db as dbmod
from service.config import Settings
from service.kpi import periods
from service.kpi.periods import DEFAULT, Calendar, Period, Rules
from service.models.enums import Cadence, Grain
from service.models.observations import SeriesPoint
from service.store import calendars as calendar_store
from service.store import kpis as kpi_store
from service.store import series as series_store
from service.store import services
from service.usecases import calendars, evaluation
from service.usecases.catalog_file import CatalogFile, apply_catalog
from tests.conftest import app_client
from tests.graphql.helpers import gql_data
from tests.usecases.rest_series import Headers, make_kpi, observe, series, utc

UTC = dt.UTC
#: Mid-November 2026: October is the last closed month.
NOW = dt.datetime(2026, 11, 15, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def utc_after() -> Iterator[None]:
    """The process's calendar goes back to the default after each test."""
    yield
    calendars.use_settings(Settings())


async def make_checkout(api: httpx.AsyncClient, admin: Headers) -> None:
    r = await api.post(
        "/v1/services", json={"slug": "checkout", "name": "Checkout", "tier": 1}, headers=admin
    )
    assert r.status_code == 201, r.text


#: Points around both changes of 2026 in Berlin (CET +01:00, CEST +02:00 from 29 March 02:00
#: local to 25 October 03:00 local), with their local times.
DST_POINTS = [
    (utc(2026, 3, 28, 22, 30), 1.0),  # 28 March 23:30 CET
    (utc(2026, 3, 28, 23, 0), 2.0),  # 29 March 00:00 CET
    (utc(2026, 3, 29, 21, 30), 4.0),  # 29 March 23:30 CEST
    (utc(2026, 3, 29, 22, 0), 8.0),  # 30 March 00:00 CEST
    (utc(2026, 10, 24, 22, 0), 16.0),  # 25 October 00:00 CEST
    (utc(2026, 10, 25, 22, 30), 32.0),  # 25 October 23:30 CET
    (utc(2026, 10, 25, 23, 0), 64.0),  # 26 October 00:00 CET
]


async def test_a_kpi_in_its_own_zone_buckets_local_days_across_both_changes(
    con: dbmod.Connection, settings: Settings, admin: Headers, reader: Headers
) -> None:
    async with app_client(con, settings, lambda: NOW) as api:
        await make_checkout(api, admin)
        await make_kpi(api, admin, "orders_berlin", time_zone="Europe/Berlin")
        await make_kpi(api, admin, "orders_utc")
        for key in ("orders_berlin", "orders_utc"):
            await observe(api, admin, key, DST_POINTS, service="checkout")
        r = await api.get("/v1/kpis/orders_berlin", headers=reader)
        assert r.json()["time_zone"] == "Europe/Berlin"

        # Local days: 28 March (CET, from 27 March 23:00Z) holds 1; 29 March, the 23-hour
        # day from 28 March 23:00Z to 29 March 22:00Z, holds 2 + 4 = 6; 30 March holds 8.
        # 25 October, the 25-hour day from 24 October 22:00Z to 25 October 23:00Z, holds
        # 16 + 32 = 48; 26 October (from 25 October 23:00Z) holds 64.
        berlin_days = [
            ("2026-03-27T23:00:00Z", 1.0, 1), ("2026-03-28T23:00:00Z", 6.0, 2),
            ("2026-03-29T22:00:00Z", 8.0, 1), ("2026-10-24T22:00:00Z", 48.0, 2),
            ("2026-10-25T23:00:00Z", 64.0, 1),
        ]  # fmt: skip
        # The fleet's series reads the hour rows, the service's the points: the same figures.
        assert await series(api, reader, "orders_berlin", grain="day") == berlin_days
        assert (
            await series(api, reader, "orders_berlin", grain="day", service="checkout")
            == berlin_days
        )
        # The same points by UTC day: 28 March 1 + 2 = 3, 29 March 4 + 8 = 12, 24 October 16,
        # 25 October 32 + 64 = 96.
        assert await series(api, reader, "orders_utc", grain="day") == [
            ("2026-03-28T00:00:00Z", 3.0, 2), ("2026-03-29T00:00:00Z", 12.0, 2),
            ("2026-10-24T00:00:00Z", 16.0, 1), ("2026-10-25T00:00:00Z", 96.0, 2),
        ]  # fmt: skip
        # Local months: March from 28 February 23:00Z holds 1 + 2 + 4 + 8 = 15, October from
        # 30 September 22:00Z holds 16 + 32 + 64 = 112 (26 October is still October).
        assert await series(api, reader, "orders_berlin", grain="month") == [
            ("2026-02-28T23:00:00Z", 15.0, 4), ("2026-09-30T22:00:00Z", 112.0, 3),
        ]  # fmt: skip
        # A window of the local 29 March alone: [28 March 23:00Z, 29 March 22:00Z).
        one_day = await series(
            api, reader, "orders_berlin", grain="day", **{
                "from": "2026-03-28T23:00:00Z", "to": "2026-03-29T22:00:00Z"}
        )  # fmt: skip
        assert one_day == [("2026-03-28T23:00:00Z", 6.0, 2)]


async def test_the_organisation_calendar_sets_weeks_and_fiscal_quarters(
    con: dbmod.Connection, db_schema: str, admin: Headers, reader: Headers
) -> None:
    settings = Settings(
        db_schema=db_schema, time_zone="Europe/Berlin", week_start="sunday",
        fiscal_year_start_month=4,
    )  # fmt: skip
    async with app_client(con, settings, lambda: NOW) as api:
        await make_kpi(api, admin, "orders")
        await observe(api, admin, "orders", [
            (utc(2026, 3, 28, 22, 30), 1.0),  # Sat 28 March 23:30 CET
            (utc(2026, 3, 28, 23, 0), 2.0),  # Sun 29 March 00:00 CET
            (utc(2026, 3, 31, 21, 59), 4.0),  # Tue 31 March 23:59 CEST
            (utc(2026, 3, 31, 22, 0), 8.0),  # Wed 1 April 00:00 CEST
        ])  # fmt: skip
        # Weeks from Sunday: Sun 22 March 00:00 CET (21 March 23:00Z) holds 1; Sun 29 March
        # 00:00 CET (28 March 23:00Z) holds 2 + 4 + 8 = 14.
        assert await series(api, reader, "orders", grain="week") == [
            ("2026-03-21T23:00:00Z", 1.0, 1), ("2026-03-28T23:00:00Z", 14.0, 3),
        ]  # fmt: skip
        # Fiscal quarters from April: January-March from 1 January 00:00 CET (31 December
        # 2025 23:00Z) holds 1 + 2 + 4 = 7; April-June from 31 March 22:00Z holds 8. The fiscal
        # year from April 2025 (31 March 2025 22:00Z) holds 7, the one from April 2026 8.
        assert await series(api, reader, "orders", grain="quarter") == [
            ("2025-12-31T23:00:00Z", 7.0, 3), ("2026-03-31T22:00:00Z", 8.0, 1),
        ]  # fmt: skip
        assert await series(api, reader, "orders", grain="year") == [
            ("2025-03-31T22:00:00Z", 7.0, 3), ("2026-03-31T22:00:00Z", 8.0, 1),
        ]  # fmt: skip


async def test_statuses_are_stored_for_local_periods(
    con: dbmod.Connection, settings: Settings, admin: Headers, reader: Headers
) -> None:
    async with app_client(con, settings, lambda: NOW) as api:
        await make_kpi(api, admin, "orders", cadence="monthly", time_zone="Europe/Berlin")
        await observe(api, admin, "orders", DST_POINTS)
        r = await api.post("/v1/targets", headers=admin, json={
            "kpi": "orders", "value": 100, "effective_from": "2026-01-01"})  # fmt: skip
        assert r.status_code == 201, r.text
    kpi = await kpi_store.get_kpi(con, key="orders")
    stored = await evaluation.evaluate_kpi(con, kpi, now=NOW, replace=False)
    # The last closed month on 15 November is the local October: 30 September 22:00Z to
    # 31 October 23:00Z, 16 + 32 + 64 = 112 >= 100 met; September before it holds nothing.
    [october] = stored
    assert (october.period_start, october.period_end) == (
        utc(2026, 9, 30, 22),
        utc(2026, 10, 31, 23),
    )
    assert (october.value, october.status.value, october.previous_value) == (112.0, "met", None)
    # March in Berlin: 1 + 2 + 4 + 8 = 15 < 100 breached (its 23-hour day included).
    local = calendars.of_kpi(kpi)
    [march] = await evaluation.evaluate_kpi(
        con, kpi, period=periods.period_of(Cadence.MONTHLY, utc(2026, 3, 15), local), now=NOW,
        replace=False,
    )  # fmt: skip
    assert (march.period_start, march.period_end) == (utc(2026, 2, 28, 23), utc(2026, 3, 31, 22))
    assert (march.value, march.status.value) == (15.0, "breached")
    # The status read back is the stored one, with the same bounds.
    async with app_client(con, Settings(db_schema=settings.db_schema), lambda: NOW) as api:
        r = await api.get("/v1/kpis/orders/status", headers=reader,
                          params={"period": "2026-03-15T00:00:00Z"})  # fmt: skip
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["period_start"], body["period_end"], body["value"]) == (
            "2026-02-28T23:00:00Z",
            "2026-03-31T22:00:00Z",
            15.0,
        )
        assert body["evaluated_at"] is not None


async def test_an_unknown_zone_is_a_problem_naming_the_field(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    body = {
        "key": "orders", "name": "Orders", "unit": "count", "direction": "higher_is_better",
        "aggregation": "sum", "time_zone": "Mars/Olympus",
    }  # fmt: skip
    r = await client.post("/v1/kpis", json=body, headers=admin)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["time_zone"]


def test_an_unknown_organisation_zone_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="IANA"):
        Settings(time_zone="Europe/Atlantis")


#: Calendars Postgres and service/kpi/periods.py must bucket alike.
CALENDARS = [
    Calendar.of("Europe/Berlin", week_start=6, fiscal_start_month=4),
    Calendar.of("America/New_York", week_start=2, fiscal_start_month=10),
    Calendar.of("Asia/Kolkata"),
    Calendar.of("Australia/Lord_Howe"),  # +10:30 / +11:00: a half-hour change
    DEFAULT.changed(Rules("Europe/Berlin", 6, 4), utc(2026, 3, 14, 23)),
]


@pytest.mark.parametrize("cal", CALENDARS, ids=lambda c: c.current.zone)
@pytest.mark.parametrize("grain", list(Grain))
async def test_postgres_buckets_as_the_pure_rules_do(
    con: dbmod.Connection, admin: Headers, settings: Settings, cal: Calendar, grain: Grain
) -> None:
    # A point every 7 h 13 min from October 2025 to December 2026 crosses every change of
    # the zones above at a different minute each time.
    instants = [utc(2025, 10, 1) + i * dt.timedelta(minutes=433) for i in range(1_450)]
    async with app_client(con, settings, lambda: NOW) as api:
        await make_checkout(api, admin)
        await make_kpi(api, admin, "ticks", aggregation="count")
        await observe(api, admin, "ticks", [(t, 1.0) for t in instants], service="checkout")
    kpi = await kpi_store.get_kpi(con, key="ticks")
    expected: dict[dt.datetime, int] = {}
    for t in instants:
        start = periods.truncate(grain, t, cal)
        expected[start] = expected.get(start, 0) + 1
    [checkout] = await services.list_services(con, slugs=["checkout"])
    for ids in (None, [checkout.id]):
        points = await series_store.observed(
            con, kpi=kpi, service_ids=ids, grain=grain, start=None, end=None, cal=cal
        )
        assert {p.bucket: p.count for p in points} == expected
    # A window of whole hours: the fleet's buckets placed by their listed starts.
    start, end = utc(2025, 11, 1, 5), utc(2026, 11, 1, 7)
    inside: dict[dt.datetime, int] = {}
    for t in instants:
        if start <= t < end:
            label = periods.truncate(grain, t, cal)
            inside[label] = inside.get(label, 0) + 1
    for ids in (None, [checkout.id]):
        points = await series_store.observed(
            con, kpi=kpi, service_ids=ids, grain=grain, start=start, end=end, cal=cal
        )
        assert {p.bucket: p.count for p in points} == inside


async def test_a_calendar_change_applies_from_its_date_on(
    con: dbmod.Connection, db_schema: str, settings: Settings, admin: Headers
) -> None:
    async with app_client(con, settings, lambda: NOW) as api:
        await make_kpi(api, admin, "orders", cadence="monthly")
        await observe(api, admin, "orders", [
            (utc(2026, 2, 10), 1.0), (utc(2026, 3, 10), 2.0), (utc(2026, 3, 14, 23), 4.0),
            (utc(2026, 3, 31, 22, 30), 8.0),
        ])  # fmt: skip
    kpi = await kpi_store.get_kpi(con, key="orders")
    # February is evaluated and stored under the default calendar (UTC).
    march_1 = utc(2026, 3, 1)
    [february] = await evaluation.evaluate_kpi(
        con, kpi, period=Period(utc(2026, 2, 1), march_1), now=NOW, replace=False
    )
    assert (february.period_start, february.period_end, february.value) == (
        utc(2026, 2, 1),
        march_1,
        1.0,
    )
    # Berlin from 15 March 2026 on: recorded once, from 15 March 00:00 CET = 14 March 23:00Z.
    berlin = Settings(db_schema=db_schema, time_zone="Europe/Berlin",
                      calendar_from=dt.date(2026, 3, 15))  # fmt: skip
    since = utc(2026, 3, 14, 23)
    cal = await calendars.record(con, berlin, NOW)
    assert cal == DEFAULT.changed(Rules("Europe/Berlin"), since)
    assert await calendars.record(con, berlin, NOW) == cal
    assert [e.since for e in await calendar_store.business_calendar_eras(con)] == [since]
    assert calendars.of_kpi(kpi) == cal
    # March is cut at the change: the UTC part [1 March, 14 March 23:00Z) holds 2 and the
    # Berlin part [14 March 23:00Z, 31 March 22:00Z) holds 4; 8 (1 April 00:30 CEST) is April.
    assert await series_store.observed(
        con, kpi=kpi, service_ids=None, grain=Grain.MONTH, start=None, end=None, cal=cal
    ) == [
        _point(utc(2026, 2, 1), 1.0), _point(march_1, 2.0), _point(since, 4.0),
        _point(utc(2026, 3, 31, 22), 8.0),
    ]  # fmt: skip
    # February's stored status keeps its UTC bounds; the months after it follow the change.
    stored = await evaluation.evaluate_kpi(
        con, kpi, period=periods.period_of(Cadence.MONTHLY, utc(2026, 3, 20), cal), now=NOW,
        replace=False,
    )  # fmt: skip
    assert [(s.period_start, s.period_end, s.value, s.previous_value) for s in stored] == [
        (since, utc(2026, 3, 31, 22), 4.0, 2.0)
    ]
    rows = await con.fetch(
        "select period_start, period_end from kpi_status where kpi_id = $1 order by 1", kpi.id
    )
    assert [(r["period_start"], r["period_end"]) for r in rows] == [
        (utc(2026, 2, 1), march_1), (since, utc(2026, 3, 31, 22)),
    ]  # fmt: skip


def _point(bucket: dt.datetime, value: float) -> SeriesPoint:
    return SeriesPoint(bucket=bucket, value=value, count=1)


async def test_a_catalog_file_and_graphql_carry_the_zone(
    con: dbmod.Connection, settings: Settings, admin: Headers, reader: Headers
) -> None:
    catalog = CatalogFile.model_validate(yaml.safe_load("""
kpis:
  - key: orders
    name: Orders
    unit: count
    direction: higher_is_better
    aggregation: sum
    time_zone: Europe/Berlin
"""))  # fmt: skip
    await apply_catalog(con, catalog, dry_run=False)
    assert (await kpi_store.get_kpi(con, key="orders")).time_zone == "Europe/Berlin"
    # Applied again unchanged: nothing to do. A zone that is no IANA name is refused, named.
    again = await apply_catalog(con, catalog, dry_run=False)
    assert again.changes == []
    entry = {**catalog.kpis[0].model_dump(), "time_zone": "Central European"}
    with pytest.raises(pydantic.ValidationError) as refused:
        CatalogFile.model_validate({"kpis": [entry]})
    assert [e["loc"] for e in refused.value.errors()] == [("kpis", 0, "time_zone")]
    async with app_client(con, settings, lambda: NOW) as api:
        await observe(api, admin, "orders", DST_POINTS[:4])
        data = await gql_data(api, reader, """
            { kpi(key: "orders") { timeZone series(grain: DAY, from: "2026-03-28T00:00:00Z",
                                                   to: "2026-03-31T00:00:00Z") {
                bucket value count } } }""")  # fmt: skip
    # The window [28 March 00:00Z, 31 March 00:00Z) cuts the local 28 March (from 27 March
    # 23:00Z) and 30 March (to 30 March 22:00Z) but holds every point: 1, 2 + 4, 8.
    assert data["kpi"]["timeZone"] == "Europe/Berlin"
    assert [(p["bucket"], p["value"], p["count"]) for p in data["kpi"]["series"]] == [
        ("2026-03-27T23:00:00Z", 1.0, 1), ("2026-03-28T23:00:00Z", 6.0, 2),
        ("2026-03-29T22:00:00Z", 8.0, 1),
    ]  # fmt: skip


async def test_the_hour_rollup_follows_new_and_changed_points(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    async with app_client(con, settings, lambda: NOW) as api:
        await make_checkout(api, admin)
        await make_kpi(api, admin, "orders")
        await observe(api, admin, "orders", [
            (utc(2026, 3, 29, 0, 10), 1.0), (utc(2026, 3, 29, 0, 50), 2.0),
            (utc(2026, 3, 29, 1, 0), 4.0),
        ])  # fmt: skip
        await observe(api, admin, "orders", [(utc(2026, 3, 29, 0, 20), 8.0)], service="checkout")
        # A changed value (2 becomes 32) takes its hour again from the points.
        await observe(api, admin, "orders", [(utc(2026, 3, 29, 0, 50), 32.0)])
    kpi = await kpi_store.get_kpi(con, key="orders")
    rows = await con.fetch(
        "select hour, points, total, low, high, last_ts, last_value from observation_hour"
        " where kpi_id = $1 order by hour",
        kpi.id,
    )  # fmt: skip
    # 00:00Z: 1, 8, 32 -> 3 points, 41, low 1, high 32, last at 00:50 (32); 01:00Z: 4 alone.
    assert [tuple(r) for r in rows] == [
        (utc(2026, 3, 29, 0), 3, 41.0, 1.0, 32.0, utc(2026, 3, 29, 0, 50), 32.0),
        (utc(2026, 3, 29, 1), 1, 4.0, 4.0, 4.0, utc(2026, 3, 29, 1), 4.0),
    ]
