"""SLIs from Prometheus without a Prometheus: data sources over REST, a ratio KPI's SLI, and the
evaluation round against a stand-in server (httpx.MockTransport) that answers range queries in
the shape the real one does (tests/fixtures/prometheus/), from a table of values per query and
instant. The real server is driven by tests/components/test_prometheus_sli.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import orjson
import pytest

from service import db as dbmod
from service import outbound
from service.config import Settings
from service.errors import ValidationFailed
from service.usecases import catalog_file, slis
from tests.conftest import SingleConnectionDatabase, app_client
from tests.graphql.helpers import gql_data

Headers = dict[str, str]
H = dt.timedelta(hours=1)
#: The round's time: 10:01 today, so the last due bucket is [09:00, 10:00) (60 s delay).
NOW = dt.datetime(2026, 12, 6, 10, 1, tzinfo=dt.UTC)
YESTERDAY_10 = dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC)
GOOD = 'sum(increase(http_requests_total{code!~"5.."}[$__bucket]))'
TOTAL = "sum(increase(http_requests_total[$__bucket]))"
URL = "http://127.0.0.1:9090"


@dataclass
class FakePrometheus:
    """Answers POST /api/v1/query_range from `values` (query as sent -> {bucket end: value}),
    recording each request's form; `failing` makes it answer that status and body instead."""

    values: dict[str, dict[dt.datetime, float]] = field(default_factory=dict)
    asked: list[dict[str, str]] = field(default_factory=list)
    failing: tuple[int, bytes] | None = None
    headers: list[httpx.Headers] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/query_range"
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.asked.append(form)
        self.headers.append(request.headers)
        if self.failing is not None:
            return httpx.Response(self.failing[0], content=self.failing[1])
        start, end, step = int(form["start"]), int(form["end"]), int(form["step"])
        table = self.values.get(form["query"], {})
        samples = []
        for at in range(start, end + 1, step):
            instant = dt.datetime.fromtimestamp(at, dt.UTC)
            if instant in table:
                samples.append([at, f"{table[instant]:g}"])
        result = [{"metric": {}, "values": samples}] if samples else []
        body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
        return httpx.Response(200, content=orjson.dumps(body))


def hourly(first_end: dt.datetime, count: int, value: float) -> dict[dt.datetime, float]:
    return {first_end + i * H: value for i in range(count)}


@pytest.fixture
def sli_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"outbound_allow": ["127.0.0.1"],
                                       "prometheus_backfill_days": 1})  # fmt: skip


@pytest.fixture
def prometheus() -> FakePrometheus:
    # The 24 hours from yesterday 10:00 to today 10:00: 990 good of 1,000 requests each hour,
    # but for yesterday's [12:00, 13:00) with 500 good (its end, 13:00, is the key).
    good = hourly(YESTERDAY_10 + H, 24, 990)
    good[YESTERDAY_10 + 3 * H] = 500
    return FakePrometheus(values={
        GOOD.replace("$__bucket", "1h"): good,
        TOTAL.replace("$__bucket", "1h"): hourly(YESTERDAY_10 + H, 24, 1000),
    })  # fmt: skip


@pytest.fixture
async def http(prometheus: FakePrometheus) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(prometheus)) as client:
        yield client


async def make_source(client: httpx.AsyncClient, admin: Headers, **extra: Any) -> httpx.Response:
    body = {"name": "prom", "url": URL, "auth": "bearer", "secret": "s3cret-token", **extra}
    return await client.post("/v1/data-sources", json=body, headers=admin)


async def make_kpis(client: httpx.AsyncClient, admin: Headers, **sli: Any) -> httpx.Response:
    for key in ("checkout_good", "checkout_requests"):
        resp = await client.post("/v1/kpis", json={
            "key": key, "name": key, "unit": "requests", "direction": "higher_is_better",
            "aggregation": "sum",
        }, headers=admin)  # fmt: skip
        assert resp.status_code == 201, resp.text
    return await client.post("/v1/kpis", json={
        "key": "checkout_success", "name": "Checkout success", "unit": "share",
        "direction": "higher_is_better", "kind": "ratio", "numerator": "checkout_good",
        "denominator": "checkout_requests",
        "prometheus": {"data_source": "prom", "good_query": GOOD, "total_query": TOTAL, **sli},
    }, headers=admin)  # fmt: skip


async def run_round(
    con: dbmod.Connection, http: httpx.AsyncClient, settings: Settings, now: dt.datetime,
    allow: list[str] | None = None,
) -> slis.SliReport:  # fmt: skip
    return await slis.evaluate_due(
        SingleConnectionDatabase(con), http, now=now, settings=settings,  # type: ignore[arg-type]
        allow=outbound.AllowList.parse(settings.outbound_allow if allow is None else allow),
    )  # fmt: skip


async def stored(con: dbmod.Connection, key: str) -> dict[dt.datetime, float]:
    rows = await con.fetch(
        "select o.ts, o.value from observation o join kpi k on k.id = o.kpi_id"
        " where k.key = $1 order by o.ts", key,
    )  # fmt: skip
    return {r["ts"]: r["value"] for r in rows}


async def test_a_data_source_keeps_its_secret_and_calls_only_allowed_hosts(
    con: dbmod.Connection, settings: Settings, sli_settings: Settings, admin: Headers
) -> None:
    async with app_client(con, settings) as client:
        resp = await make_source(client, admin)
        assert resp.status_code == 422, resp.text
        assert resp.json()["errors"][0]["pointer"] == "#/url"
        assert "KPI_OUTBOUND_ALLOW" in resp.json()["errors"][0]["detail"]
    async with app_client(con, sli_settings) as client:
        resp = await make_source(client, admin)
        assert resp.status_code == 201, resp.text
        assert resp.json()["has_secret"] is True
        assert "s3cret" not in resp.text
        assert await con.fetchval("select secret from data_source") == "s3cret-token"
        replaced = await client.put("/v1/data-sources/prom", json={
            "name": "prom", "url": URL + "/", "auth": "bearer"}, headers=admin)  # fmt: skip
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["url"] == URL  # the trailing slash dropped
        assert await con.fetchval("select secret from data_source") == "s3cret-token"
        listed = await client.get("/v1/data-sources", headers=admin)
        assert [d["name"] for d in listed.json()] == ["prom"]
        assert "s3cret" not in listed.text
        deleted = await client.delete("/v1/data-sources/prom", headers=admin)
        assert deleted.status_code == 204, deleted.text
        # Each change is in the audit trail, the secret never: only whether a write set one.
        audit = await client.get("/v1/audit", params={"kind": "data-source"}, headers=admin)
        assert "s3cret" not in audit.text
        # The replace changed nothing (the same URL once its slash is dropped, the secret
        # kept): it has no entry.
        gone, made = audit.json()
        assert [e["action"] for e in (gone, made)] == ["delete", "create"]
        assert (made["before"], made["after"]["url"], made["after"]["secret_changed"]) == (
            None, URL, True
        )  # fmt: skip
        assert (gone["before"]["has_secret"], gone["after"]) == (True, None)


@pytest.mark.parametrize(
    ("body", "pointer", "detail"),
    [
        ({"auth": "basic"}, "#/username", "required for basic auth"),
        ({"auth": "none"}, "#/secret", "not used without auth"),
        ({"secret": None}, "#/secret", "required for bearer auth"),
        ({"url": "ftp://127.0.0.1/"}, "#/url", "must be an http:// or https:// URL"),
        ({"url": "http://user:pw@127.0.0.1/"}, "#/url", "must not carry credentials"),
    ],
)
async def test_bad_data_sources_are_refused_naming_the_field(
    con: dbmod.Connection, sli_settings: Settings, admin: Headers, body: dict[str, Any],
    pointer: str, detail: str,
) -> None:  # fmt: skip
    async with app_client(con, sli_settings) as client:
        resp = await make_source(client, admin, **body)
    assert resp.status_code == 422, resp.text
    error = resp.json()["errors"][0]
    assert error["pointer"] == pointer
    assert detail in error["detail"]


async def test_a_kpis_sli_names_a_source_and_two_summing_kpis(
    con: dbmod.Connection, sli_settings: Settings, admin: Headers
) -> None:
    async with app_client(con, sli_settings) as client:
        resp = await make_kpis(client, admin)
        assert resp.status_code == 422, resp.text
        assert resp.json()["errors"][0]["pointer"] == "#/prometheus/data_source"
        assert (await make_source(client, admin)).status_code == 201
        created = await client.post("/v1/kpis", json={
            "key": "checkout_success", "name": "Checkout success", "unit": "share",
            "direction": "higher_is_better", "kind": "ratio", "numerator": "checkout_good",
            "denominator": "checkout_requests",
            "prometheus": {"data_source": "prom", "good_query": GOOD, "total_query": TOTAL},
        }, headers=admin)  # fmt: skip
        assert created.status_code == 201, created.text
        got = await client.get("/v1/kpis/checkout_success", headers=admin)
        assert got.json()["prometheus"] == {
            "data_source": "prom", "good_query": GOOD, "total_query": TOTAL, "bucket": "1h",
            "service": None,
        }  # fmt: skip
        observed = await client.post("/v1/kpis", json={
            "key": "latency", "name": "Latency", "unit": "ms", "direction": "lower_is_better",
            "aggregation": "avg",
            "prometheus": {"data_source": "prom", "good_query": GOOD, "total_query": TOTAL},
        }, headers=admin)  # fmt: skip
        assert observed.status_code == 422
        assert observed.json()["errors"][0]["pointer"] == "#/prometheus"
        averaged = await client.post("/v1/kpis", json={
            "key": "other_success", "name": "Other", "unit": "share",
            "direction": "higher_is_better", "kind": "ratio", "numerator": "latency_avg",
            "denominator": "checkout_requests",
            "prometheus": {"data_source": "prom", "good_query": GOOD, "total_query": TOTAL},
        }, headers=admin)  # fmt: skip
        assert averaged.status_code == 422  # unknown numerator
        shared = await client.post("/v1/kpis", json={
            "key": "other_success", "name": "Other", "unit": "share",
            "direction": "higher_is_better", "kind": "ratio", "numerator": "checkout_good",
            "denominator": "checkout_requests",
            "prometheus": {"data_source": "prom", "good_query": GOOD, "total_query": TOTAL},
        }, headers=admin)  # fmt: skip
        assert shared.status_code == 422
        assert "already writes into" in shared.json()["errors"][0]["detail"]
        in_use = await client.delete("/v1/data-sources/prom", headers=admin)
        assert in_use.status_code == 409


async def test_the_first_round_backfills_every_bucket_and_the_next_only_the_new_one(
    con: dbmod.Connection, sli_settings: Settings, admin: Headers, http: httpx.AsyncClient,
    prometheus: FakePrometheus,
) -> None:  # fmt: skip
    async with app_client(con, sli_settings) as client:
        assert (await make_source(client, admin)).status_code == 201
        assert (await make_kpis(client, admin)).status_code == 201
        report = await run_round(con, http, sli_settings, NOW)
        # Backfill of one day: buckets from yesterday 10:00 to today 09:00, 24 of them, in
        # one query each for good and total, asked at the buckets' ends (11:00 ... 10:00).
        assert (report.points, report.gaps, report.failed) == (24, 0, 0)
        first_end, last_end = YESTERDAY_10 + H, YESTERDAY_10 + 24 * H
        assert [(a["start"], a["end"], a["step"]) for a in prometheus.asked] == [
            (str(int(first_end.timestamp())), str(int(last_end.timestamp())), "3600")
        ] * 2
        assert prometheus.asked[0]["query"] == GOOD.replace("$__bucket", "1h")
        assert prometheus.headers[0]["authorization"] == "Bearer s3cret-token"
        good, total = await stored(con, "checkout_good"), await stored(con, "checkout_requests")
        assert len(good) == len(total) == 24
        assert good[YESTERDAY_10] == 990 and good[YESTERDAY_10 + 2 * H] == 500
        assert set(total.values()) == {1000}
        # The ratio by day: yesterday holds 14 buckets (10:00 to 24:00), 13 x 990 + 500 =
        # 13,370 good of 14,000: 0.955; today 10 buckets (00:00 to 10:00), 9,900 of 10,000.
        series = await client.get(
            "/v1/kpis/checkout_success/series",
            headers=admin,
            params={"grain": "day", "from": "2026-12-05T00:00:00Z", "to": "2026-12-07T00:00:00Z"},
        )
        assert series.status_code == 200, series.text
        assert [(p["bucket"][:10], p["value"]) for p in series.json()["points"]] == [
            ("2026-12-05", pytest.approx(13_370 / 14_000)),
            ("2026-12-06", 0.99),
        ]

        # An hour later only [10:00, 11:00) is new: asked at its end, 11:00.
        prometheus.asked.clear()
        eleven = dt.datetime(2026, 12, 6, 11, 0, tzinfo=dt.UTC)
        prometheus.values[GOOD.replace("$__bucket", "1h")][eleven] = 900
        prometheus.values[TOTAL.replace("$__bucket", "1h")][eleven] = 1000
        report = await run_round(con, http, sli_settings, NOW + H)
        assert report.points == 1
        assert [(a["start"], a["end"]) for a in prometheus.asked] == [
            (str(int(eleven.timestamp())), str(int(eleven.timestamp())))
        ] * 2
        assert (await stored(con, "checkout_good"))[eleven - H] == 900
        sources = (await client.get("/v1/data-sources/prom", headers=admin)).json()
        assert (sources["queries_ok"], sources["queries_failed"]) == (4, 0)
        assert sources["slis"][0]["points"] == 25
        assert sources["slis"][0]["next_bucket"].startswith("2026-12-06T11:00:00")


async def test_a_changed_query_evaluates_the_window_again_replacing_points(
    con: dbmod.Connection, sli_settings: Settings, admin: Headers, http: httpx.AsyncClient,
    prometheus: FakePrometheus,
) -> None:  # fmt: skip
    async with app_client(con, sli_settings) as client:
        assert (await make_source(client, admin)).status_code == 201
        assert (await make_kpis(client, admin)).status_code == 201
        await run_round(con, http, sli_settings, NOW)
        again = await run_round(con, http, sli_settings, NOW)
        assert again.points == 0  # nothing new is due
        changed = GOOD.replace('"5.."', '"5..|429"')
        prometheus.values[changed.replace("$__bucket", "1h")] = hourly(YESTERDAY_10 + H, 24, 980)
        resp = await client.put("/v1/kpis/checkout_success", json={
            "key": "checkout_success", "name": "Checkout success", "unit": "share",
            "direction": "higher_is_better", "kind": "ratio", "numerator": "checkout_good",
            "denominator": "checkout_requests",
            "prometheus": {"data_source": "prom", "good_query": changed, "total_query": TOTAL},
        }, headers=admin)  # fmt: skip
        assert resp.status_code == 200, resp.text
        report = await run_round(con, http, sli_settings, NOW)
        assert report.points == 24
        good = await stored(con, "checkout_good")
        assert len(good) == 24 and set(good.values()) == {980}  # replaced, not duplicated
        revisions = await con.fetchval("select count(*) from observation_revision")
        assert revisions == 24  # each replaced value kept as a revision


@pytest.mark.parametrize(
    ("failing", "expected"),
    [
        ((503, b'{"status":"error","errorType":"unavailable","error":"TSDB not ready"}'),
         "good-events query: Prometheus answered 503: unavailable: TSDB not ready"),
        ((401, b"Unauthorized"),
         "good-events query: Prometheus answered 401: check auth and secret"),
        ((200, b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},'
               b'"values":[[1796547600,"1"]]},{"metric":{},"values":[]}]}}'),
         "good-events query: the query gives 2 series; it must give one (aggregate with "
         "sum(...))"),
    ],
)  # fmt: skip
async def test_a_failed_query_is_recorded_nothing_is_stored_and_the_next_round_retries(
    con: dbmod.Connection, sli_settings: Settings, admin: Headers, http: httpx.AsyncClient,
    prometheus: FakePrometheus, failing: tuple[int, bytes], expected: str,
) -> None:  # fmt: skip
    async with app_client(con, sli_settings) as client:
        assert (await make_source(client, admin)).status_code == 201
        assert (await make_kpis(client, admin)).status_code == 201
        prometheus.failing = failing
        report = await run_round(con, http, sli_settings, NOW)
        assert (report.points, report.failed) == (0, 1)
        assert await stored(con, "checkout_good") == {}
        source = (await client.get("/v1/data-sources/prom", headers=admin)).json()
        assert source["last_error"] == expected
        assert (source["queries_ok"], source["queries_failed"]) == (0, 1)
        assert source["slis"][0]["last_problem"] == expected
        assert source["slis"][0]["next_bucket"] is None
        metrics = await client.get("/metrics", headers=admin)
        assert 'kpi_data_source_queries_total{data_source="prom",outcome="failed"} 1.0' in (
            metrics.text
        )
        prometheus.failing = None
        report = await run_round(con, http, sli_settings, NOW + dt.timedelta(minutes=1))
        assert report.points == 24
        source = (await client.get("/v1/data-sources/prom", headers=admin)).json()
        assert source["slis"][0]["last_problem"] is None
        assert source["last_error"] == expected  # kept, with its time, after a success


async def test_a_host_the_allow_list_no_longer_names_is_refused_at_call_time(
    con: dbmod.Connection, sli_settings: Settings, admin: Headers, http: httpx.AsyncClient,
    prometheus: FakePrometheus,
) -> None:  # fmt: skip
    async with app_client(con, sli_settings) as client:
        assert (await make_source(client, admin)).status_code == 201
        assert (await make_kpis(client, admin)).status_code == 201
    report = await run_round(con, http, sli_settings, NOW, allow=[])
    assert report.failed == 1
    assert prometheus.asked == []  # never sent
    error = await con.fetchval("select last_error from data_source")
    assert error == f"good-events query: not sent: {outbound.NOT_ALLOWED}"


async def test_graphql_shows_the_sli_and_to_admins_the_data_sources(
    con: dbmod.Connection, sli_settings: Settings, admin: Headers, reader: Headers,
    http: httpx.AsyncClient,
) -> None:  # fmt: skip
    async with app_client(con, sli_settings) as client:
        assert (await make_source(client, admin)).status_code == 201
        assert (await make_kpis(client, admin, service=None, bucket="1h")).status_code == 201
        await run_round(con, http, sli_settings, NOW)
        query = """{ kpi(key: "checkout_success") { prometheus { dataSource goodQuery bucket } }
                     dataSources { nodes { name auth hasSecret queriesOk
                                           slis { kpi points gaps lastProblem } } } }"""
        data = await gql_data(client, admin, query)
        assert data["kpi"]["prometheus"] == {"dataSource": "prom", "goodQuery": GOOD,
                                             "bucket": "H1"}  # fmt: skip
        assert data["dataSources"]["nodes"] == [{
            "name": "prom", "auth": "BEARER", "hasSecret": True, "queriesOk": 2,
            "slis": [{"kpi": "checkout_success", "points": 24, "gaps": 0, "lastProblem": None}],
        }]  # fmt: skip
        only_names = {"query": "{ dataSources { nodes { name } } }"}
        refused = await client.post("/graphql", json=only_names, headers=reader)
        assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


CATALOG = {
    "data_sources": [{"name": "prom", "url": URL, "auth": "basic", "username": "grafana",
                      "secret": "pw-1"}],
    "kpis": [
        {"key": "checkout_success", "name": "Checkout success", "unit": "share",
         "direction": "higher_is_better", "kind": "ratio", "numerator": "checkout_good",
         "denominator": "checkout_requests",
         "prometheus": {"data_source": "prom", "good_query": GOOD, "total_query": TOTAL,
                        "bucket": "5m"}},
        {"key": "checkout_good", "name": "Good", "unit": "requests",
         "direction": "higher_is_better", "aggregation": "sum"},
        {"key": "checkout_requests", "name": "Requests", "unit": "requests",
         "direction": "higher_is_better", "aggregation": "sum"},
    ],
}  # fmt: skip


async def test_a_catalog_file_applies_data_sources_before_the_kpis_that_use_them(
    con: dbmod.Connection,
) -> None:
    allow = outbound.AllowList.parse(["127.0.0.1"])
    first = await catalog_file.apply_catalog(
        con, catalog_file.CatalogFile.model_validate(CATALOG), dry_run=False, allow=allow
    )
    assert [(c.action, c.kind, c.key) for c in first.changes] == [
        ("create", "data-source", "prom"), ("create", "kpi", "checkout_good"),
        ("create", "kpi", "checkout_requests"), ("create", "kpi", "checkout_success"),
    ]  # fmt: skip
    again = await catalog_file.apply_catalog(
        con, catalog_file.CatalogFile.model_validate(CATALOG), dry_run=False, allow=allow
    )
    assert (again.changes, again.unchanged) == ([], 4)
    changed = {**CATALOG, "data_sources": [{**CATALOG["data_sources"][0], "secret": "pw-2"}]}
    third = await catalog_file.apply_catalog(
        con, catalog_file.CatalogFile.model_validate(changed), dry_run=False, allow=allow
    )
    assert [(c.key, c.fields) for c in third.changes] == [
        ("prom", {"secret": ("(hidden)", "(changed)")})
    ]
    assert await con.fetchval("select secret from data_source") == "pw-2"
    refused = catalog_file.CatalogFile.model_validate(CATALOG)
    with pytest.raises(ValidationFailed) as caught:
        await catalog_file.apply_catalog(con, refused, dry_run=True)  # no allow-list given
    assert caught.value.errors[0].pointer == "#/data_sources/0/url"
