"""Crash safety: `kpi serve --workers 2` is killed (SIGKILL, master and workers at once) while
clients stream observation batches, NDJSON streams and signed webhook deliveries at it. After
each restart the database must hold every request that was acknowledged (a 2xx), completely,
and no request half applied: a batch or stream has all of its points or none, a delivery is
logged and applied together or not at all.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from service import db as dbmod
from tests.reliability import support
from tests.reliability.support import Tokens

ROUNDS = 3
JSON_CLIENTS = 4
NDJSON_CLIENTS = 2
WEBHOOK_CLIENTS = 2
BATCH_POINTS = 500
#: Two COPY chunks of the endpoint (5,000 points each), sent in pieces so that a stream is
#: often still arriving when the server dies.
NDJSON_POINTS = 6_000
NDJSON_PIECE = 500
#: Kill once this long has passed and each kind has been acknowledged at least once.
KILL_AFTER = 1.5
KILL_AT_THE_LATEST = 6.0
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass
class Sent:
    kind: str  # "json", "ndjson" or "webhook"
    name: str  # the request's name (a dimension of its points), or the delivery id
    points: int
    started: float
    deployment: int | None = None
    ended: float | None = None
    status: int | None = None
    outcome: str | None = None  # a webhook's answer: applied, duplicate
    error: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Server:
    """`kpi serve --workers 2` in a process group of its own, so that one SIGKILL ends the
    master and its workers together."""

    def __init__(self, url: str, schema: str, log: Path) -> None:
        self.port = support.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {
            **os.environ, "KPI_DATABASE_URL": url, "KPI_DB_SCHEMA": schema,
            "KPI_BACKGROUND": "false", "KPI_RATE_LIMIT_PER_SECOND": "0",
            "KPI_LOG_LEVEL": "WARNING",
        }  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "service.cli", "serve", "--workers", "2",
                   "--port", str(self.port), "--no-progress"]  # fmt: skip
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip

    async def wait_ready(self, within: float = 60) -> float:
        began = time.monotonic()
        async with httpx.AsyncClient(base_url=self.base, timeout=5) as client:
            while True:
                assert self.process is not None
                if self.process.poll() is not None:
                    pytest.fail(f"the server exited ({self.process.returncode}):\n{self.tail()}")
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return time.monotonic() - began
                except httpx.TransportError:
                    pass
                if time.monotonic() - began > within:
                    pytest.fail(f"the server was not ready within {within} s:\n{self.tail()}")
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL to the whole process group: no shutdown, no flushing, no goodbye."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        self.process = None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@pytest.fixture
async def crash_schema(database_url: str) -> AsyncIterator[tuple[str, str]]:
    """A fresh schema (dropped afterwards), and the server's database URL, which names its
    connections so that they can be found in pg_stat_activity."""
    schema = f"kpi_crash_{os.getpid()}_{secrets.token_hex(3)}"
    marker = f"kpi-crash-{secrets.token_hex(4)}"
    separator = "&" if "?" in database_url else "?"
    try:
        yield schema, f"{database_url}{separator}application_name={marker}"
    finally:
        await support.drop_schema(database_url, schema)


async def _ndjson(name: str) -> AsyncIterator[bytes]:
    lines = support.ndjson_lines(name, NDJSON_POINTS)
    for start in range(0, len(lines), NDJSON_PIECE):
        yield b"".join(lines[start : start + NDJSON_PIECE])
        await asyncio.sleep(0.02)


class Round:
    """One round of clients against a running server, until told to stop."""

    def __init__(self, number: int, base: str, tokens: Tokens) -> None:
        self.number = number
        self.base = base
        self.tokens = tokens
        self.sent: list[Sent] = []
        self.stopping = asyncio.Event()

    async def _send(self, item: Sent, request: Awaitable[httpx.Response]) -> None:
        self.sent.append(item)
        try:
            resp = await request
        except httpx.HTTPError as exc:
            item.error = type(exc).__name__
        else:
            item.status = resp.status_code
            if item.kind == "webhook" and resp.status_code == 200:
                item.outcome = resp.json()["status"]
        item.ended = time.monotonic()

    async def _json_client(self, client: httpx.AsyncClient, number: int) -> None:
        sequence = 0
        while not self.stopping.is_set():
            name = f"r{self.number}-j{number}-{sequence}"
            sequence += 1
            request = client.post(
                "/v1/observations",
                content=support.json_batch(name, BATCH_POINTS),
                headers={**self.tokens.ingest, "Content-Type": "application/json"},
            )
            await self._send(Sent("json", name, BATCH_POINTS, time.monotonic()), request)

    async def _ndjson_client(self, client: httpx.AsyncClient, number: int) -> None:
        sequence = 0
        while not self.stopping.is_set():
            name = f"r{self.number}-n{number}-{sequence}"
            sequence += 1
            request = client.post(
                "/v1/observations",
                content=_ndjson(name),
                headers={**self.tokens.ingest, "Content-Type": "application/x-ndjson"},
            )
            await self._send(Sent("ndjson", name, NDJSON_POINTS, time.monotonic()), request)

    async def _webhook_client(self, client: httpx.AsyncClient, number: int) -> None:
        sequence = 0
        while not self.stopping.is_set():
            deployment = 10_000_000 * (self.number + 1) + 100_000 * number + sequence
            sequence += 1
            delivery = support.github_delivery(deployment)
            request = client.post(
                f"/v1/webhooks/{support.SOURCE}", content=delivery.body, headers=delivery.headers
            )
            item = Sent("webhook", delivery.delivery_id, 0, time.monotonic(), deployment)
            await self._send(item, request)

    def acknowledged(self, kind: str) -> int:
        return sum(s.acknowledged for s in self.sent if s.kind == kind)

    async def run_until_killed(
        self, server: Server, sessions: Callable[[], Awaitable[list[int]]]
    ) -> tuple[float, list[int]]:
        """Send until the server is killed; returns the instant of the kill and the server's
        database sessions just before it."""
        limits = httpx.Limits(max_connections=JSON_CLIENTS + NDJSON_CLIENTS + WEBHOOK_CLIENTS)
        async with httpx.AsyncClient(base_url=self.base, timeout=30, limits=limits) as client:
            clients = [
                *(self._json_client(client, n) for n in range(JSON_CLIENTS)),
                *(self._ndjson_client(client, n) for n in range(NDJSON_CLIENTS)),
                *(self._webhook_client(client, n) for n in range(WEBHOOK_CLIENTS)),
            ]
            tasks = [asyncio.create_task(c) for c in clients]
            began = time.monotonic()
            while True:
                await asyncio.sleep(0.05)
                elapsed = time.monotonic() - began
                everything_seen = all(
                    self.acknowledged(kind) for kind in ("json", "ndjson", "webhook")
                )
                if (elapsed >= KILL_AFTER and everything_seen) or elapsed >= KILL_AT_THE_LATEST:
                    break
                if any(t.done() for t in tasks):
                    break  # a client failed: its exception is raised below
            open_sessions = await sessions()
            self.stopping.set()
            killed_at = time.monotonic()
            server.kill()
            async with asyncio.timeout(60):
                await asyncio.gather(*tasks)
        return killed_at, open_sessions


async def _backends(con: dbmod.Connection, marker: str) -> list[int]:
    rows = await con.fetch("select pid from pg_stat_activity where application_name = $1", marker)
    return [r["pid"] for r in rows]


async def _wait_gone(con: dbmod.Connection, pids: list[int], within: float = 30) -> None:
    """Wait until the killed server's database sessions have ended: each of their
    transactions is then committed or rolled back for good."""
    began = time.monotonic()
    while pids:
        rows = await con.fetch("select pid from pg_stat_activity where pid = any($1)", pids)
        pids = [r["pid"] for r in rows]
        if pids and time.monotonic() - began > within:
            pytest.fail(f"sessions of the killed server still open after {within} s: {pids}")
        await asyncio.sleep(0.05)


def _check_round(
    sent: list[Sent], points: dict[str, dict[int, float]], deliveries: dict[str, Any],
    changes: set[str],
) -> dict[str, int]:  # fmt: skip
    """Every acknowledged request is there completely; none is there in part. Returns how
    many requests were acknowledged, and how many unacknowledged ones were applied anyway."""
    counts = {"acknowledged": 0, "applied_unacknowledged": 0}
    for s in sent:
        if s.kind in ("json", "ndjson"):
            stored = points.get(s.name, {})
            expected = {i: support.value_of(s.name, i) for i in range(s.points)}
            if s.acknowledged:
                assert s.status == 200, s
                assert stored == expected, (
                    f"{s.kind} request {s.name} was acknowledged but {len(stored)} of its "
                    f"{s.points} points are stored (or with other values)"
                )
            else:
                assert stored in ({}, expected), (
                    f"{s.kind} request {s.name} is half applied: {len(stored)} of {s.points}"
                )
                counts["applied_unacknowledged"] += bool(stored)
        else:
            change = f"deployment:{s.deployment}"
            logged = deliveries.get(s.name)
            if s.acknowledged:
                assert s.status == 200 and s.outcome == "applied", s
                assert logged == {"status": "applied", "change": change}, (s, logged)
            elif logged is None:
                assert change not in changes, f"change of unlogged delivery {s.name} stored"
            else:
                assert logged == {"status": "applied", "change": change}, (s, logged)
                counts["applied_unacknowledged"] += 1
        counts["acknowledged"] += s.acknowledged
    return counts


async def test_acknowledged_requests_survive_sigkill_of_the_server(
    database_url: str, crash_schema: tuple[str, str], tmp_path: Path
) -> None:
    schema, server_url = crash_schema
    marker = server_url.rsplit("application_name=", 1)[1]
    began = time.monotonic()
    tokens = await support.prepare_schema(database_url, schema)
    server = Server(server_url, schema, tmp_path / "server.log")
    con = await dbmod.connect(database_url, schema)
    report: list[str] = []
    totals = {"json": 0, "ndjson": 0, "webhook": 0, "in_flight": 0, "applied_unacknowledged": 0}
    try:
        server.start()
        ready = await server.wait_ready()
        report.append(f"first start ready in {ready:.1f} s")
        for number in range(ROUNDS):
            round_ = Round(number, server.base, tokens)
            killed_at, sessions = await round_.run_until_killed(
                server, lambda: _backends(con, marker)
            )
            assert sessions, "the server's database sessions were not found"
            # Until the kill every answer is a 2xx; after it, no answer at all.
            answered = [s for s in round_.sent if s.status is not None]
            assert all(s.status == 200 for s in answered), answered[:3]
            in_flight = [s for s in round_.sent if not s.acknowledged]
            assert all(s.error and s.started < killed_at for s in in_flight), in_flight[:3]
            assert in_flight, "nothing was in flight when the server was killed"
            kinds = Counter(s.kind for s in in_flight)

            await _wait_gone(con, sessions)
            server.start()
            ready = await server.wait_ready()
            counts = _check_round(
                round_.sent,
                await support.stored_points(con),
                await support.stored_deliveries(con),
                await support.stored_changes(con),
            )
            acknowledged = {k: round_.acknowledged(k) for k in ("json", "ndjson", "webhook")}
            for kind, n in acknowledged.items():
                totals[kind] += n
            totals["in_flight"] += len(in_flight)
            totals["applied_unacknowledged"] += counts["applied_unacknowledged"]
            report.append(
                f"round {number + 1}: sent {len(round_.sent)}, acknowledged {acknowledged}, "
                f"killed with {len(in_flight)} in flight {dict(kinds)} "
                f"({counts['applied_unacknowledged']} of them committed all the same), "
                f"its {len(sessions)} database sessions ended, ready again in {ready:.1f} s"
            )

        # The restarted server serves: one more batch is acknowledged and stored.
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
            resp = await client.post(
                "/v1/observations",
                content=support.json_batch("after-the-last-kill", BATCH_POINTS),
                headers={**tokens.ingest, "Content-Type": "application/json"},
            )
        assert resp.status_code == 200, resp.text
        assert resp.json()["inserted"] == BATCH_POINTS
    finally:
        server.kill()
        await con.close()

    assert totals["json"] >= ROUNDS and totals["webhook"] >= ROUNDS, totals
    assert totals["ndjson"] >= 1, totals
    print(
        f"\n{ROUNDS} kills survived in {time.monotonic() - began:.1f} s; "
        + "; ".join(report)
        + f"; totals {totals}"
    )


def test_the_round_check_catches_lost_and_half_applied_requests() -> None:
    """The check above is not vacuous: each way of breaking the promise fails it."""
    full = {i: support.value_of("a", i) for i in range(3)}
    acknowledged = Sent("json", "a", 3, 0.0, status=200)
    unacknowledged = Sent("ndjson", "a", 3, 0.0, error="ReadError")
    change = "deployment:7"
    hook = Sent("webhook", "d", 0, 0.0, deployment=7, status=200, outcome="applied")
    lost_hook = Sent("webhook", "d", 0, 0.0, deployment=7, error="RemoteProtocolError")
    applied = {"d": {"status": "applied", "change": change}}
    assert _check_round([acknowledged, hook], {"a": full}, applied, {change})["acknowledged"] == 2
    assert _check_round([unacknowledged, lost_hook], {}, {}, set())["acknowledged"] == 0
    assert _check_round([unacknowledged], {"a": full}, {}, set())["applied_unacknowledged"] == 1
    broken: list[tuple[Sent, dict[str, dict[int, float]], dict[str, Any], set[str]]] = [
        (acknowledged, {}, {}, set()),  # acknowledged, lost
        (acknowledged, {"a": {**full, 2: -1.0}}, {}, set()),  # acknowledged, another value
        (unacknowledged, {"a": {0: full[0]}}, {}, set()),  # half applied
        (hook, {}, {}, set()),  # acknowledged delivery, lost
        (hook, {}, {"d": {"status": "applied", "change": None}}, set()),  # logged, not applied
        (lost_hook, {}, {}, {change}),  # applied, not logged
        (lost_hook, {}, {"d": {"status": "applied", "change": None}}, set()),  # half applied
    ]
    for sent, points, deliveries, changes in broken:
        with pytest.raises(AssertionError):
            _check_round([sent], points, deliveries, changes)
