"""A real Alertmanager (Debian's prometheus-alertmanager) notifies the service running as a
real HTTP server: an alert that fires, resolves and fires again after a gap is two incidents,
each with exactly the startsAt and endsAt Alertmanager sent.

The test starts both itself: the service (uvicorn on a free port, lifespan and pool included)
on a schema of its own, with an `alertmanager` source whose bearer token Alertmanager's
webhook receiver sends; Alertmanager on a free port, clustering off, with a config file the
test writes (group_wait and group_interval 1 s, repeat_interval 24 h, so nothing is re-sent
by itself). Alerts go in through Alertmanager's API (POST /api/v2/alerts) with explicit
startsAt and, to resolve, endsAt in the past, as Prometheus sends them.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.models.enums import Scope
from service.usecases.tokens import create_token
from tests.components.support import eventually, program, running
from tests.reliability.support import drop_schema, free_port, serving

pytestmark = pytest.mark.components

SERVICE = "checkout"
SOURCE = "alertmanager"
#: Longest wait for a notification to go through Alertmanager (1 s group wait) to the service.
NOTIFIED_WITHIN = 30.0
#: Longest the service may take to show a delivery's effect once it has logged it.
APPLIED_WITHIN = 5.0
ZERO = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of an alert that has not ended


def iso(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def utc(text: str) -> str:
    """An instant the service gave, written as `iso` writes it (so equal instants compare
    equal whatever the notation)."""
    return iso(dt.datetime.fromisoformat(text).astimezone(dt.UTC))


Episode = tuple[str, str | None, str]  # started, resolved (RFC 3339, UTC), status


@dataclass
class Kpi:
    base: str
    client: httpx.AsyncClient
    secret: str

    async def incidents(self) -> list[Episode]:
        resp = await self.client.get("/v1/incidents", params={"service": SERVICE})
        assert resp.status_code == 200, resp.text
        found = [
            (utc(i["started_at"]), utc(i["resolved_at"]) if i["resolved_at"] else None,
             i["status"])
            for i in resp.json()
        ]  # fmt: skip
        return sorted(found)

    async def deliveries(self) -> list[dict[str, Any]]:
        resp = await self.client.get("/v1/deliveries", params={"source": SOURCE})
        assert resp.status_code == 200, resp.text
        return sorted(resp.json(), key=lambda d: d["id"])

    async def alerts_sent(self) -> list[tuple[str, str, str]]:
        """(status, startsAt, endsAt) of every alert in every notification, in order."""
        out = []
        for delivery in await self.deliveries():
            resp = await self.client.get(f"/v1/deliveries/{delivery['id']}")
            body = orjson.loads(resp.json()["body"])
            out += [(a["status"], a["startsAt"], a["endsAt"]) for a in body["alerts"]]
        return out

    async def explain(self) -> str:
        return f"incidents: {await self.incidents()}\ndeliveries: {await self.deliveries()}"


@pytest.fixture
async def kpi(database_url: str) -> AsyncIterator[Kpi]:
    """The service behind uvicorn on a schema of its own, with the service and the source."""
    schema = f"kpi_am_{os.getpid()}_{secrets.token_hex(3)}"
    con = await dbmod.connect(database_url, schema)
    try:
        await dbmod.migrate(con, schema)
        admin = await create_token(con, name="alertmanager-test", scopes=[Scope.ADMIN])
    finally:
        await con.close()
    settings = Settings(database_url=database_url, db_schema=schema, background=False,
                        rate_limit_per_second=0)  # fmt: skip
    secret = secrets.token_urlsafe(24)
    try:
        async with (
            serving(create_app(settings)) as base,
            httpx.AsyncClient(
                base_url=base, headers={"Authorization": f"Bearer {admin.token}"}, timeout=10
            ) as client,
        ):
            resp = await client.post("/v1/services", json={"slug": SERVICE, "name": "Checkout",
                                                           "tier": 1})  # fmt: skip
            assert resp.status_code == 201, resp.text
            resp = await client.post("/v1/sources", json={"name": SOURCE, "kind": "alertmanager",
                                                          "secret": secret})  # fmt: skip
            assert resp.status_code == 201, resp.text
            yield Kpi(base, client, secret)
    finally:
        await drop_schema(database_url, schema)


@dataclass
class Alertmanager:
    client: httpx.AsyncClient
    log: Path

    async def post(self, alert: dict[str, Any]) -> None:
        resp = await self.client.post("/api/v2/alerts", json=[alert])
        assert resp.status_code == 200, resp.text


@pytest.fixture
def alertmanager_program() -> str:
    return program("prometheus-alertmanager", "alertmanager", package="prometheus-alertmanager")


@pytest.fixture
async def alertmanager(
    alertmanager_program: str, kpi: Kpi, tmp_path: Path
) -> AsyncIterator[Alertmanager]:
    """Looked for before the service starts: a missing program stops the test at once."""
    webhook = f"{kpi.base}/v1/webhooks/{SOURCE}"
    config = {
        "global": {"resolve_timeout": "1h"},
        "route": {"receiver": "kpi", "group_by": ["alertname", "service"],
                  "group_wait": "1s", "group_interval": "1s", "repeat_interval": "24h"},
        "receivers": [{"name": "kpi", "webhook_configs": [{
            "url": webhook, "send_resolved": True,
            "http_config": {"authorization": {"type": "Bearer", "credentials": kpi.secret}},
        }]}],
    }  # fmt: skip
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(config))
    port, log = free_port(), tmp_path / "alertmanager.log"
    args = [alertmanager_program, f"--config.file={tmp_path / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=", "--log.level=debug"]  # fmt: skip
    with running(args, log) as process:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:

            async def ready() -> bool:
                assert process.poll() is None, f"Alertmanager exited:\n{log.read_text()}"
                try:
                    return (await client.get("/-/ready")).status_code == 200
                except httpx.TransportError:
                    return False

            async def log_text() -> str:
                return log.read_text()

            await eventually(ready, within=30, what="Alertmanager to be ready", explain=log_text)
            yield Alertmanager(client, log)


async def test_fire_resolve_and_fire_again_are_two_incidents_with_alertmanager_s_times(
    kpi: Kpi, alertmanager: Alertmanager
) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    # First episode 2 h ago for 10 min; the same alert fires again 80 min after it ended.
    t1, t2 = now - dt.timedelta(hours=2), now - dt.timedelta(minutes=110)
    t3, t4 = now - dt.timedelta(minutes=30), now - dt.timedelta(minutes=10)
    labels = {"alertname": "CheckoutErrors", "service": SERVICE, "severity": "critical"}

    async def sent_and_applied(deliveries: int, expected: list[Episode]) -> None:
        """Alertmanager has notified `deliveries` times, and the service shows `expected`."""

        async def notified() -> bool:
            return len(await kpi.deliveries()) >= deliveries

        async def applied() -> bool:
            return await kpi.incidents() == expected

        what = f"notification {deliveries} from Alertmanager"
        await eventually(notified, within=NOTIFIED_WITHIN, what=what, explain=kpi.explain)
        what = f"the incidents {expected}"
        await eventually(applied, within=APPLIED_WITHIN, what=what, explain=kpi.explain)

    await alertmanager.post({"labels": labels, "startsAt": iso(t1)})
    await sent_and_applied(1, [(iso(t1), None, "open")])
    await alertmanager.post({"labels": labels, "startsAt": iso(t1), "endsAt": iso(t2)})
    await sent_and_applied(2, [(iso(t1), iso(t2), "resolved")])
    await alertmanager.post({"labels": labels, "startsAt": iso(t3)})
    # A new firing episode: a second incident from t3; the first stays down only t1-t2.
    await sent_and_applied(3, [(iso(t1), iso(t2), "resolved"), (iso(t3), None, "open")])
    await alertmanager.post({"labels": labels, "startsAt": iso(t3), "endsAt": iso(t4)})
    await sent_and_applied(4, [(iso(t1), iso(t2), "resolved"), (iso(t3), iso(t4), "resolved")])
    # The times are Alertmanager's own: what its four notifications carried.
    assert await kpi.alerts_sent() == [
        ("firing", iso(t1), ZERO),
        ("resolved", iso(t1), iso(t2)),
        ("firing", iso(t3), ZERO),
        ("resolved", iso(t3), iso(t4)),
    ]
