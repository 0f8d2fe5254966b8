"""A real Prometheus (Debian's `prometheus` 2.42) holding 30 days of known request counters,
plus a live point scraped from an exporter the test serves: a ratio KPI's SLI, created through
the API, is evaluated by the background round into hourly good and total observations whose
figures are worked out by hand from the counters.

History: `http_requests_total{code="200"}` and `{code="500"}` (with the exporter's job and
instance labels, so the scraped point continues the same series) every 5 minutes from H - 30
days to H - 1 hour, H being the hour the test runs in; written as OpenMetrics and turned into
one TSDB block by `promtool tsdb create-blocks-from openmetrics` (its hidden
--max-block-duration keeps it to one block: the default, 2-hour blocks, makes 361 of them and
takes up to a minute). Each 5 minutes adds 99 to code 200 and 1 to code 500, so an hour adds
1,188 good and 1,200 in all; in the two incident hours [D + 3 h, D + 5 h) of the day D ten
days back it adds 60 and 40 (720 good of 1,200). The exporter serves, with the explicit
timestamp H (Prometheus honours it), both counters 600 above their values at H - 1 hour:
the live hour [H - 1 h, H) is 600 good of 1,200.

Exactness: the SLI asks `increase(...[1h])` at each bucket's end T. Prometheus 2.42's range
[T - 1 h, T] holds a sample at each end, so increase() extrapolates by (0 + 0) / interval and
is exactly v(T) - v(T - 1 h), with no rounding (integers well below 2**53).
"""

from __future__ import annotations

import datetime as dt
import http.server
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from service import background
from service import db as dbmod
from service.config import Settings
from tests.components.support import eventually, program, running
from tests.conftest import SingleConnectionDatabase, app_client
from tests.reliability.support import free_port

pytestmark = pytest.mark.components

H1 = dt.timedelta(hours=1)
STEP = dt.timedelta(minutes=5)
GOOD = 'sum(increase(http_requests_total{code!~"5.."}[$__bucket]))'
TOTAL = "sum(increase(http_requests_total[$__bucket]))"


@dataclass(frozen=True)
class History:
    """The counters' values at each 5-minute instant, and the instants that matter."""

    hour: dt.datetime  # H
    incident_day: dt.datetime  # D
    ok: dict[dt.datetime, int]
    errors: dict[dt.datetime, int]

    def in_incident(self, at: dt.datetime) -> bool:
        return self.incident_day + 3 * H1 <= at < self.incident_day + 5 * H1


def history(now: dt.datetime) -> History:
    hour = now.replace(minute=0, second=0, microsecond=0)
    day = hour.replace(hour=0) - dt.timedelta(days=10)
    found = History(hour, day, {}, {})
    ok = errors = 0
    at = hour - dt.timedelta(days=30)
    while at <= hour - H1:
        found.ok[at], found.errors[at] = ok, errors
        added_ok, added_errors = (60, 40) if found.in_incident(at) else (99, 1)
        ok, errors = ok + added_ok, errors + added_errors
        at += STEP
    return found


def openmetrics(h: History, labels: str) -> str:
    lines = ["# HELP http_requests_total Requests answered.", "# TYPE http_requests_total counter"]
    for code, values in (("200", h.ok), ("500", h.errors)):
        lines += [f'http_requests_total{{code="{code}",{labels}}} {v} {int(at.timestamp())}'
                  for at, v in values.items()]  # fmt: skip
    return "\n".join([*lines, "# EOF", ""])


class Exporter(http.server.ThreadingHTTPServer):
    """Serves /metrics: both counters 600 above their value at H - 1 hour, stamped H."""

    def __init__(self, port: int, h: History) -> None:
        last = h.hour - H1
        stamp = int(h.hour.timestamp() * 1000)
        self.body = (
            "# TYPE http_requests_total counter\n"
            f'http_requests_total{{code="200"}} {h.ok[last] + 600} {stamp}\n'
            f'http_requests_total{{code="500"}} {h.errors[last] + 600} {stamp}\n'
        ).encode()
        super().__init__(("127.0.0.1", port), ExporterHandler)


class ExporterHandler(http.server.BaseHTTPRequestHandler):
    server: Exporter

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass(frozen=True)
class Prometheus:
    url: str
    history: History


@pytest.fixture
def exporter_port() -> int:
    return free_port()


@pytest.fixture
def known() -> History:
    return history(dt.datetime.now(dt.UTC))


@pytest.fixture
def served(exporter_port: int, known: History) -> Iterator[None]:
    server = Exporter(exporter_port, known)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
async def prometheus(
    tmp_path: Path, exporter_port: int, known: History, served: None
) -> AsyncIterator[Prometheus]:
    prometheus_program = program("prometheus", package="prometheus")
    promtool = program("promtool", package="prometheus")
    target = f"127.0.0.1:{exporter_port}"
    source = tmp_path / "history.om"
    source.write_text(openmetrics(known, f'instance="{target}",job="app"'))
    data = tmp_path / "data"
    loaded = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=1000h",
         "-q", str(source), str(data)], capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [{"job_name": "app", "static_configs": [{"targets": [target]}]}],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port, log = free_port(), tmp_path / "prometheus.log"
    # Retention well past the history's 30 days (the default, 15 days, would drop it).
    args = [prometheus_program, f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--config.file={tmp_path / 'prometheus.yml'}",
            "--storage.tsdb.retention.time=60d"]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with running(args, log) as process:
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:

            async def live_point_scraped() -> bool:
                assert process.poll() is None, f"Prometheus exited:\n{log.read_text()}"
                try:
                    resp = await client.get("/api/v1/query", params={
                        "query": 'http_requests_total{code="500"}',
                        "time": int(known.hour.timestamp())})  # fmt: skip
                except httpx.TransportError:
                    return False
                found = resp.json()["data"]["result"] if resp.status_code == 200 else []
                expected = str(known.errors[known.hour - H1] + 600)
                return bool(found) and found[0]["value"][1] == expected

            async def log_text() -> str:
                return log.read_text()

            await eventually(live_point_scraped, within=30, what="the exporter's point",
                             explain=log_text)  # fmt: skip
        yield Prometheus(url, known)


async def make_kpis(client: httpx.AsyncClient, admin: dict[str, str], key: str,
                    total_query: str) -> None:  # fmt: skip
    for side in ("good", "requests"):
        resp = await client.post("/v1/kpis", json={
            "key": f"{key}_{side}", "name": f"{key} {side}", "unit": "requests",
            "direction": "higher_is_better", "aggregation": "sum"}, headers=admin)  # fmt: skip
        assert resp.status_code == 201, resp.text
    resp = await client.post("/v1/kpis", json={
        "key": key, "name": key, "unit": "share", "direction": "higher_is_better",
        "kind": "ratio", "numerator": f"{key}_good", "denominator": f"{key}_requests",
        "prometheus": {"data_source": "prom", "good_query": GOOD, "total_query": total_query},
    }, headers=admin)  # fmt: skip
    assert resp.status_code == 201, resp.text


async def stored(con: dbmod.Connection, key: str) -> dict[dt.datetime, float]:
    rows = await con.fetch("select o.ts, o.value from observation o join kpi k on k.id = o.kpi_id"
                           " where k.key = $1", key)  # fmt: skip
    return {r["ts"]: r["value"] for r in rows}


async def test_thirty_days_and_the_live_hour_become_hourly_good_and_total_points(
    con: dbmod.Connection, settings: Settings, admin: dict[str, str], prometheus: Prometheus
) -> None:
    h = prometheus.history
    settings = settings.model_copy(update={"outbound_allow": ["127.0.0.1"],
                                           "prometheus_backfill_days": 30})  # fmt: skip
    async with app_client(con, settings) as client:
        resp = await client.post("/v1/data-sources", json={"name": "prom", "url": prometheus.url},
                                 headers=admin)  # fmt: skip
        assert resp.status_code == 201, resp.text
        await make_kpis(client, admin, "checkout", TOTAL)
        # A second SLI whose total query does not parse: Prometheus' 400 is its problem.
        await make_kpis(client, admin, "broken", TOTAL.removesuffix(")"))

        # The round two minutes past H (the buckets are due 60 s after their end): the new
        # SLI backfills the 720 hours from H - 30 days to H, in one query_range per query.
        now = h.hour + 2 * dt.timedelta(minutes=1)
        async with httpx.AsyncClient() as http:
            await background.tick(SingleConnectionDatabase(con), settings, http, now)  # type: ignore[arg-type]
            await background.tick(SingleConnectionDatabase(con), settings, http, now)  # type: ignore[arg-type]

        good, total = await stored(con, "checkout_good"), await stored(con, "checkout_requests")
        first = h.hour - dt.timedelta(days=30)
        hours = [first + i * H1 for i in range(720)]
        assert sorted(good) == sorted(total) == hours  # each hour once, after two rounds
        incident = {h.incident_day + 3 * H1, h.incident_day + 4 * H1}
        for at in hours:
            # 12 steps of 5 minutes an hour: 12 x 99 = 1,188 good and 12 x 100 = 1,200 in
            # all; incident hours 12 x 60 = 720 good; the live hour 600 of 1,200.
            expected = 600 if at == h.hour - H1 else 720 if at in incident else 1188
            assert (at, good[at], total[at]) == (at, expected, 1200)
        # All 720 hours: 717 x 1,188 + 2 x 720 + 600 = 853,836 good of 720 x 1,200 = 864,000.
        assert (sum(good.values()), sum(total.values())) == (853_836, 864_000)

        day = h.incident_day
        series = await client.get("/v1/kpis/checkout/series", headers=admin, params={
            "grain": "day", "from": (day - dt.timedelta(days=1)).isoformat(),
            "to": (day + dt.timedelta(days=1)).isoformat()})  # fmt: skip
        assert series.status_code == 200, series.text
        # The day before: 24 x 1,188 / (24 x 1,200) = 0.99. Day D: 22 x 1,188 + 2 x 720 =
        # 27,576 good of 28,800 = 0.9575.
        assert [p["value"] for p in series.json()["points"]] == [
            pytest.approx(0.99),
            pytest.approx(27_576 / 28_800),
        ]

        source = (await client.get("/v1/data-sources/prom", headers=admin)).json()
        states = {s["kpi"]: s for s in source["slis"]}
        assert states["checkout"]["points"] == 720
        assert states["checkout"]["last_problem"] is None
        assert states["checkout"]["next_bucket"].startswith(h.hour.isoformat()[:19])
        assert states["broken"]["points"] == 0
        assert (
            "total-events query: Prometheus answered 400: bad_data"
            in (states["broken"]["last_problem"])
        )
        # Round one: checkout's two queries and broken's good one answered, broken's total
        # failed; round two: checkout had nothing due, broken failed again.
        assert (source["queries_ok"], source["queries_failed"]) == (4, 2)
        assert await stored(con, "broken_good") == {}
