"""GET /metrics: exact counts after real requests through the app, route templates, the
backlogs read from the database, pool gauges, the door (tokens, the database down), and
several worker processes answering as one (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.models.enums import Scope
from service.usecases import notifications as outbox
from service.usecases import tokens
from tests.conftest import SingleConnectionDatabase, app_client
from tests.ingest.fixtures import fixture_bytes

Headers = dict[str, str]
#: (sample name, sorted labels) -> value
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

ROOT = Path(__file__).resolve().parents[2]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

ALERT_SOURCE = "alerts"
ALERT_SECRET = "am-bearer-token"
#: One firing alert (alertname Fire): one incident event.
FIRING = "alertmanager/firing/alertmanager-bot_firing_sh_body.json"
#: Two firing alerts of host andromeda, which no rule maps at first: unmapped.
ANDROMEDA = "alertmanager/firing/zulip_alert.json"


def parse(text: str) -> Samples:
    """Every sample of an exposition, parsed by prometheus_client's own parser (which also
    checks the text is well formed)."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            assert key not in samples, key
            samples[key] = sample.value
    return samples


async def scrape(client: httpx.AsyncClient, headers: Headers) -> Samples:
    resp = await client.get("/metrics", headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == CONTENT_TYPE
    return parse(resp.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 when absent (a counter not yet incremented)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


class Delta:
    def __init__(self, before: Samples, after: Samples) -> None:
        self.before, self.after = before, after

    def __call__(self, name: str, **labels: str) -> float:
        return value(self.after, name, **labels) - value(self.before, name, **labels)


async def token(con: dbmod.Connection, *scopes: Scope) -> Headers:
    made = await tokens.create_token(con, name="-".join(scopes), scopes=list(scopes))
    return {"Authorization": f"Bearer {made.token}"}


async def created(client: httpx.AsyncClient, path: str, body: Any, headers: Headers) -> Any:
    resp = await client.post(path, json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


def alert_headers(secret: str = ALERT_SECRET) -> Headers:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {secret}"}


async def deliver(
    client: httpx.AsyncClient, relative: str, secret: str = ALERT_SECRET
) -> httpx.Response:
    return await client.post(
        f"/v1/webhooks/{ALERT_SOURCE}",
        content=fixture_bytes(relative),
        headers=alert_headers(secret),
    )


def point(ts: str, value_: float, service: str = "checkout") -> dict[str, Any]:
    return {"kpi": "orders", "service": service, "ts": ts, "value": value_}


def ndjson(*points: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(p) + b"\n" for p in points)


# The door ---------------------------------------------------------------------------------------


async def test_metrics_needs_a_read_token(client: httpx.AsyncClient, con: dbmod.Connection) -> None:
    anonymous = await client.get("/metrics")
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.headers["content-type"] == "application/problem+json"
    unknown = await client.get("/metrics", headers={"Authorization": "Bearer kpi_nope"})
    assert unknown.status_code == 401, unknown.text
    refused = await client.get("/metrics", headers=await token(con, Scope.INGEST))
    assert refused.status_code == 403, refused.text
    assert refused.json()["required_scope"] == "read"
    for scopes in ((Scope.READ,), (Scope.ADMIN,)):
        samples = await scrape(client, await token(con, *scopes))
        assert value(samples, "kpi_database_up", database="primary") == 1
        assert value(samples, "kpi_info", version=_version()) == 1
    # The refusals above were counted like any request, under the route's template.
    samples = await scrape(client, await token(con, Scope.READ))
    assert value(samples, "kpi_http_requests_total", route="/metrics", method="GET",
                 status="401") == 2  # fmt: skip
    assert value(samples, "kpi_http_requests_total", route="/metrics", method="GET",
                 status="403") == 1  # fmt: skip
    assert value(samples, "kpi_http_requests_total", route="/metrics", method="GET",
                 status="200") == 2  # fmt: skip


def _version() -> str:
    from service import __version__

    return __version__


# What was ingested --------------------------------------------------------------------------------


async def test_counts_equal_what_was_committed(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    reader, ingester = await token(con, Scope.READ), await token(con, Scope.INGEST)
    ingester_ndjson = {**ingester, "Content-Type": "application/x-ndjson"}
    await created(client, "/v1/services", {"slug": "checkout", "name": "Checkout", "tier": 1},
                  admin)  # fmt: skip
    await created(client, "/v1/services", {"slug": "fire", "name": "Fire", "tier": 2}, admin)
    await created(client, "/v1/kpis", {"key": "orders", "name": "Orders", "unit": "count",
                  "direction": "higher_is_better", "aggregation": "sum"}, admin)  # fmt: skip
    await created(client, "/v1/sources", {
        "name": ALERT_SOURCE, "kind": "alertmanager", "secret": ALERT_SECRET,
        "service_rules": [{"match": {"alertname": "Fire"}, "service": "fire"}]}, admin)  # fmt: skip
    before = await scrape(client, reader)

    # Observations: a JSON batch of 5 new points ...
    batch = [point(f"2026-10-0{day}T00:00:00Z", day) for day in range(1, 6)]
    resp = await client.post("/v1/observations", json=batch, headers=ingester)
    assert resp.json() == {"points": 5, "inserted": 5, "updated": 0, "unchanged": 0}
    # ... an NDJSON stream: one point again, one with a new value, one new ...
    stream = ndjson(point("2026-10-01T00:00:00Z", 1), point("2026-10-02T00:00:00Z", 20),
                    point("2026-10-09T00:00:00Z", 9))  # fmt: skip
    resp = await client.post("/v1/observations", content=stream, headers=ingester_ndjson)
    assert resp.json() == {"points": 3, "inserted": 1, "updated": 1, "unchanged": 1}
    # ... and two refused (422) batches count no point: a bad point in JSON, and an NDJSON
    # stream whose last line is bad after good ones were already copied.
    bad = [point("2026-10-20T00:00:00Z", 1), point("2026-10-21T00:00:00", 2)]
    resp = await client.post("/v1/observations", json=bad, headers=ingester)
    assert resp.status_code == 422, resp.text
    stream = ndjson(point("2026-10-22T00:00:00Z", 1), point("2026-10-23T00:00:00Z", 1),
                    point("2026-10-24T00:00:00Z", 1, service="nowhere"))  # fmt: skip
    resp = await client.post("/v1/observations", content=stream, headers=ingester_ndjson)
    assert resp.status_code == 422, resp.text

    # Costs: two records, then the same two again.
    costs = [{"service": "checkout", "category": category, "period_start": "2026-10-01",
              "period_end": "2026-11-01", "amount": 100, "currency": "EUR"}
             for category in ("cloud", "licences")]  # fmt: skip
    for expected in ({"inserted": 2, "unchanged": 0}, {"inserted": 0, "unchanged": 2}):
        resp = await client.post("/v1/costs", json=costs, headers=ingester)
        assert resp.status_code == 200, resp.text
        assert {k: resp.json()[k] for k in expected} == expected

    # Webhook deliveries: applied, the same again (Alertmanager has no delivery id: applied
    # again, changing nothing), unmapped, wrong token, not JSON.
    assert (await deliver(client, FIRING)).status_code == 200
    again = await deliver(client, FIRING)
    assert (again.status_code, again.json()["status"]) == (200, "applied")
    assert (await deliver(client, ANDROMEDA)).status_code == 202
    assert (await deliver(client, FIRING, secret="wrong")).status_code == 401
    resp = await client.post(f"/v1/webhooks/{ALERT_SOURCE}", content=b"{not json",
                             headers=alert_headers())  # fmt: skip
    assert resp.status_code == 422, resp.text

    # The generic endpoints (source `api`): an incident (3 steps: fields, triggered,
    # resolved) and a change with two commit times; then one refused for an unknown service.
    incident = {"external_id": "INC-1", "service": "checkout", "severity": "sev2",
                "status": "resolved", "started_at": "2026-10-03T10:00:00Z",
                "resolved_at": "2026-10-03T11:00:00Z"}  # fmt: skip
    resp = await client.post("/v1/incidents", json=incident, headers=ingester)
    assert resp.status_code == 200, resp.text
    change = {"external_id": "CHG-1", "service": "checkout", "status": "success",
              "environment": "production", "finished_at": "2026-10-03T09:00:00Z",
              "commits": [{"sha": "a" * 40, "committed_at": "2026-10-02T09:00:00Z"},
                          {"sha": "b" * 40, "committed_at": "2026-10-02T10:00:00Z"}]}  # fmt: skip
    resp = await client.post("/v1/changes", json=change, headers=ingester)
    assert resp.status_code == 200, resp.text
    resp = await client.post("/v1/incidents", json={**incident, "service": "gone"},
                             headers=ingester)  # fmt: skip
    assert resp.status_code == 422, resp.text

    # Failing reads.
    assert (await client.get("/v1/kpis/nope", headers=reader)).status_code == 404
    assert (await client.get("/v1/incidents/999999", headers=reader)).status_code == 404
    assert (await client.get("/nowhere/at/all")).status_code == 404
    assert (await client.delete("/v1/costs", headers=admin)).status_code == 405

    after = await scrape(client, reader)
    delta = Delta(before, after)

    points = "kpi_observation_points_total"
    assert delta(points, format="json", result="inserted") == 5
    assert delta(points, format="json", result="updated") == 0
    assert delta(points, format="json", result="unchanged") == 0
    assert delta(points, format="ndjson", result="inserted") == 1
    assert delta(points, format="ndjson", result="updated") == 1
    assert delta(points, format="ndjson", result="unchanged") == 1
    assert sum(v for (n, _), v in after.items() if n == points) == 8

    assert delta("kpi_cost_records_total", result="inserted") == 2
    assert delta("kpi_cost_records_total", result="updated") == 0
    assert delta("kpi_cost_records_total", result="unchanged") == 2

    deliveries = "kpi_webhook_deliveries_total"
    alerts = {"source": ALERT_SOURCE, "kind": "alertmanager"}
    assert delta(deliveries, outcome="applied", **alerts) == 2
    for outcome in ("unmapped", "rejected", "invalid"):
        assert delta(deliveries, outcome=outcome, **alerts) == 1, outcome
    assert sum(v for (n, _), v in after.items() if n == deliveries) == 5

    events = "kpi_ingested_events_total"
    api = {"source": "api", "kind": "api"}
    assert delta(events, record="incident", **alerts) == 2
    assert delta(events, record="incident", **api) == 3
    assert delta(events, record="change", **api) == 1
    assert delta(events, record="commit", **api) == 2
    assert sum(v for (n, _), v in after.items() if n == events) == 8

    assert value(after, "kpi_unmapped_deliveries", **alerts) == 1
    assert value(after, "kpi_database_up", database="primary") == 1

    requests = "kpi_http_requests_total"
    expected_requests = {
        ("/v1/observations", "POST", "200"): 2,
        ("/v1/observations", "POST", "422"): 2,
        ("/v1/costs", "POST", "200"): 2,
        ("/v1/costs", "DELETE", "405"): 1,
        ("/v1/webhooks/{source}", "POST", "200"): 2,
        ("/v1/webhooks/{source}", "POST", "202"): 1,
        ("/v1/webhooks/{source}", "POST", "401"): 1,
        ("/v1/webhooks/{source}", "POST", "422"): 1,
        ("/v1/incidents", "POST", "200"): 1,
        ("/v1/incidents", "POST", "422"): 1,
        ("/v1/changes", "POST", "200"): 1,
        ("/v1/kpis/{key}", "GET", "404"): 1,
        ("/v1/incidents/{id}", "GET", "404"): 1,
        ("unmatched", "GET", "404"): 1,
        ("/metrics", "GET", "200"): 1,  # the scrape before
    }
    got = {
        (labels["route"], labels["method"], labels["status"]): delta(requests, **labels)
        for labels in (dict(key) for (n, key), _ in after.items() if n == requests)
    }
    assert {k: v for k, v in got.items() if v} == expected_requests

    # Latency: one observation per request, whatever its status, cumulative buckets.
    latency = "kpi_http_request_duration_seconds"
    observations = {"route": "/v1/observations", "method": "POST"}
    assert delta(f"{latency}_count", **observations) == 4
    assert delta(f"{latency}_bucket", le="+Inf", **observations) == 4
    buckets = sorted(
        (float(dict(key)["le"]), v)
        for (n, key), v in after.items()
        if n == f"{latency}_bucket" and dict(key)["route"] == "/v1/observations"
    )
    assert [le for le, _ in buckets] == [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf")]  # fmt: skip
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)
    assert value(after, f"{latency}_sum", **observations) > 0

    # Every route label is a template (or `unmatched`): no id or key of a request.
    routes = {dict(key)["route"] for (n, key), _ in after.items() if n == requests}
    assert routes == {route for route, _, _ in expected_requests} | {
        "/v1/services", "/v1/kpis", "/v1/sources"}  # fmt: skip

    # No pool behind the test's single connection: no pool gauges.
    assert not {n for n in names(after) if n.startswith("kpi_db_pool")}

    # Replaying the unmapped delivery once a rule maps it applies its two events.
    await created(client, "/v1/services", {"slug": "andromeda", "name": "A", "tier": 3}, admin)
    resp = await client.put(f"/v1/sources/{ALERT_SOURCE}", json={
        "name": ALERT_SOURCE, "kind": "alertmanager",
        "service_rules": [{"match": {"alertname": "Fire"}, "service": "fire"},
                          {"match": {"host": "andromeda"}, "service": "andromeda"}]},
        headers=admin)  # fmt: skip
    assert resp.status_code == 200, resp.text
    resp = await client.post("/v1/deliveries/replay", headers=admin)
    assert (resp.status_code, len(resp.json()["applied"])) == (200, 1), resp.text
    replayed = await scrape(client, reader)
    assert Delta(after, replayed)(events, record="incident", **alerts) == 2
    assert value(replayed, "kpi_unmapped_deliveries", **alerts) == 0
    assert Delta(after, replayed)(deliveries, outcome="applied", **alerts) == 0


async def test_a_keyed_retry_counts_once(client: httpx.AsyncClient, con: dbmod.Connection) -> None:
    """A request sent again with its Idempotency-Key gets the first answer and is counted
    once: the count waits for the stored answer's commit, the replay counts nothing."""
    reader, ingester = await token(con, Scope.READ), await token(con, Scope.INGEST)
    before = await scrape(client, reader)
    record = [{"category": "cloud", "period_start": "2026-10-01", "period_end": "2026-11-01",
               "amount": 5, "currency": "EUR"}]  # fmt: skip
    keyed = {**ingester, "Idempotency-Key": "costs-once"}
    first = await client.post("/v1/costs", json=record, headers=keyed)
    again = await client.post("/v1/costs", json=record, headers=keyed)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.headers.get("idempotent-replayed") == "true"
    delta = Delta(before, await scrape(client, reader))
    assert delta("kpi_cost_records_total", result="inserted") == 1
    assert delta("kpi_cost_records_total", result="unchanged") == 0


# Backlogs and the pool ----------------------------------------------------------------------------


async def test_outbox_backlog_is_read_when_scraped(
    client: httpx.AsyncClient, con: dbmod.Connection
) -> None:
    reader = await token(con, Scope.READ)
    before = await scrape(client, reader)
    ids = []
    for n in range(4):
        ids.append(await outbox.enqueue(
            con, escalation_id=None, position=None, url=f"https://hooks.example/{n}",
            event_type="test", occurred_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
            data={"n": n}))  # fmt: skip
    await con.execute("update outbox set state = 'failed' where id = $1", ids[0])
    await con.execute("update outbox set state = 'delivered' where id = $1", ids[1])
    after = await scrape(client, reader)
    delta = Delta(before, after)
    assert delta("kpi_outbox_notifications", state="pending") == 2
    assert delta("kpi_outbox_notifications", state="failed") == 1
    pending = await con.fetchval("select count(*) from outbox where state = 'pending'")
    assert value(after, "kpi_outbox_notifications", state="pending") == pending


async def test_pool_gauges(database_url: str, db_schema: str) -> None:
    """An app on a real pool (its token committed, so the pool's connections see it)."""
    admin_con = await dbmod.connect(database_url, db_schema)
    made = await tokens.create_token(admin_con, name="metrics-pool", scopes=[Scope.READ])
    pool = await dbmod.create_pool(database_url, db_schema, min_size=1, max_size=3)
    try:
        app = create_app(Settings(db_schema=db_schema), db=dbmod.PoolDatabase(pool))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://kpi.test") as client:
            samples = await scrape(client, {"Authorization": f"Bearer {made.token}"})
    finally:
        await pool.close()
        await admin_con.execute("delete from api_token where id = $1", made.id)
        await admin_con.close()
    size = value(samples, "kpi_db_pool_size")
    idle = value(samples, "kpi_db_pool_connections", state="idle")
    in_use = value(samples, "kpi_db_pool_connections", state="in_use")
    assert 1 <= size <= 3
    assert idle + in_use == size
    assert in_use == 0  # read before the scrape takes a connection for the backlogs
    assert value(samples, "kpi_db_pool_max_size") == 3
    assert value(samples, "kpi_db_pool_min_size") == 1
    assert value(samples, "kpi_database_up", database="primary") == 1
    # A process of its own: the process collector's metrics are there.
    assert "process_cpu_seconds_total" in names(samples) or sys.platform != "linux"


# The database down ------------------------------------------------------------------------------


class SwitchableDatabase(SingleConnectionDatabase):
    """The test's connection, or, once `down`, a database that cannot be reached."""

    down = False

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[dbmod.Connection]:
        if self.down:
            raise ConnectionRefusedError("connection refused")
        async with super().acquire() as con:
            yield con


async def test_metrics_answer_while_the_database_is_down(
    con: dbmod.Connection, settings: Settings
) -> None:
    db = SwitchableDatabase(con)
    app = create_app(settings, db=db)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    seen, unseen = await token(con, Scope.READ), await token(con, Scope.READ)
    revoked = await tokens.create_token(con, name="gone", scopes=[Scope.READ])
    revoked_headers = {"Authorization": f"Bearer {revoked.token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://kpi.test") as client:
        assert value(await scrape(client, seen), "kpi_database_up", database="primary") == 1
        assert (
            value(await scrape(client, revoked_headers), "kpi_database_up", database="primary") == 1
        )
        await tokens.revoke_token(con, token_id=revoked.id)
        assert (await client.get("/metrics", headers=revoked_headers)).status_code == 401

        db.down = True
        assert (await client.get("/v1/teams", headers=seen)).status_code == 503
        samples = await scrape(client, seen)
        assert value(samples, "kpi_database_up", database="primary") == 0
        assert not names(samples) & {"kpi_unmapped_deliveries", "kpi_outbox_notifications"}
        assert value(samples, "kpi_http_requests_total", route="/v1/teams", method="GET",
                     status="503") == 1  # fmt: skip
        # A token the database never accepted here, or refused, cannot be checked: 503.
        for headers in (unseen, revoked_headers):
            resp = await client.get("/metrics", headers=headers)
            assert resp.status_code == 503, resp.text
            assert resp.headers["retry-after"] == "5"
        assert (await client.get("/metrics")).status_code == 401

        db.down = False
        samples = await scrape(client, unseen)
        assert value(samples, "kpi_database_up", database="primary") == 1
        assert value(samples, "kpi_http_requests_total", route="/metrics", method="GET",
                     status="503") == 2  # fmt: skip


# Several workers ----------------------------------------------------------------------------------

_WORKER = """
import sys
from service.telemetry import Telemetry

t = Telemetry()
n = int(sys.argv[1])
for _ in range(n):
    t.observe_request("/v1/teams", "GET", 200, 0.003)
t.points.labels("json", "inserted").inc(10 * n)
"""

_SCRAPER = """
import sys
from service.telemetry import Telemetry

class Pool:
    def get_size(self): return 2
    def get_idle_size(self): return 1
    def get_min_size(self): return 1
    def get_max_size(self): return 4

t = Telemetry()
t.observe_pool(Pool())
sys.stdout.write(t.render().decode())
"""


def _run(script: str, directory: Path, *args: str) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_workers_answer_together_in_multiprocess_mode(tmp_path: Path) -> None:
    _run(_WORKER, tmp_path, "3")
    _run(_WORKER, tmp_path, "4")
    samples = parse(_run(_SCRAPER, tmp_path))
    teams = {"route": "/v1/teams", "method": "GET"}
    assert value(samples, "kpi_http_requests_total", status="200", **teams) == 7
    assert value(samples, "kpi_http_request_duration_seconds_count", **teams) == 7
    assert value(samples, "kpi_http_request_duration_seconds_bucket", le="0.005", **teams) == 7
    assert value(samples, "kpi_observation_points_total", format="json", result="inserted") == 70
    # The pool gauges are per live worker: the scraper's own, the others' gone with them.
    pools = {dict(key)["pid"] for (n, key), _ in samples.items() if n == "kpi_db_pool_size"}
    assert len(pools) == 1
    (pid,) = pools
    assert value(samples, "kpi_db_pool_size", pid=pid) == 2
    assert value(samples, "kpi_db_pool_connections", state="in_use", pid=pid) == 1
    assert value(samples, "kpi_db_pool_max_size", pid=pid) == 4
    # Process metrics would describe one worker: left out.
    assert not {n for n in names(samples) if n.startswith("process_")}
    assert "python_info" in names(samples)


async def test_app_client_counts_per_app(con: dbmod.Connection, settings: Settings) -> None:
    """Each app has its own registry: two apps in one process count apart."""
    reader = await token(con, Scope.READ)
    async with app_client(con, settings) as first, app_client(con, settings) as second:
        for _ in range(3):
            assert (await first.get("/healthz")).status_code == 200
        one, two = await scrape(first, reader), await scrape(second, reader)
    healthz = {"route": "/healthz", "method": "GET", "status": "200"}
    assert value(one, "kpi_http_requests_total", **healthz) == 3
    assert value(two, "kpi_http_requests_total", **healthz) == 0


def test_kpi_serve_gives_its_workers_a_shared_metrics_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.serve import shared_metrics_dir
    from service.telemetry import MULTIPROC_ENV

    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    with shared_metrics_dir():
        made = Path(os.environ[MULTIPROC_ENV])
        assert made.is_dir() and not any(made.iterdir())
    assert MULTIPROC_ENV not in os.environ and not made.exists()
    monkeypatch.setenv(MULTIPROC_ENV, "/somewhere/given")
    with shared_metrics_dir():
        assert os.environ[MULTIPROC_ENV] == "/somewhere/given"
    assert os.environ[MULTIPROC_ENV] == "/somewhere/given"
