"""Test fixtures: a real Postgres (KPI_DATABASE_URL, else embedded), a fresh schema per run,
and a transaction per test that is rolled back, shared by the app under test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from service import db as dbmod
from service.app import create_app
from service.clock import Clock, utc_now
from service.config import Settings
from service.embedded import EmbeddedPostgres
from service.models.enums import Scope
from service.usecases import tokens

#: Tests of real third-party components carry this marker; KPI_TEST_COMPONENTS=0 deselects them
#: (.ci/run runs them in one of its two PostgreSQL passes only).
COMPONENTS_MARKER = "components"

#: A test reaches PostgreSQL when its fixture closure holds one of these (every fixture built on
#: them, such as `client` or `admin`, brings them along), or when it carries DATABASE_MARKER: it
#: starts a server, or the service, by itself. KPI_TEST_DATABASE_ONLY=1 deselects every other
#: test: .ci/run's pass on the second server would run them exactly as the first pass did.
#: tests/test_database_selection.py fails on a test that mentions a database yet is left out.
DATABASE_FIXTURES = frozenset(
    {"database_url", "direct_database_url", "db_schema", "session_con", "con"}
)
DATABASE_MARKER = "database"

#: Every item collected, before any deselection (read by tests/test_database_selection.py).
COLLECTED_ITEMS = pytest.StashKey[list[pytest.Item]]()
#: What the selection left out and why, for the line printed after collection.
LEFT_OUT = pytest.StashKey[dict[str, int]]()


def touches_database(item: pytest.Item) -> bool:
    """Whether the test reaches PostgreSQL; an item that is not a plain test function counts
    as one that does."""
    if item.get_closest_marker(DATABASE_MARKER) or not isinstance(item, pytest.Function):
        return True
    return not DATABASE_FIXTURES.isdisjoint(item.fixturenames)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    config.stash[COLLECTED_ITEMS] = list(items)
    reasons: dict[str, list[pytest.Item]] = {}
    if os.environ.get("KPI_TEST_COMPONENTS", "1") == "0":
        reasons["components (KPI_TEST_COMPONENTS=0)"] = [
            item for item in items if item.get_closest_marker(COMPONENTS_MARKER)
        ]
    if os.environ.get("KPI_TEST_DATABASE_ONLY", "0") == "1":
        components = {id(item) for group in reasons.values() for item in group}
        reasons["touching no PostgreSQL (KPI_TEST_DATABASE_ONLY=1)"] = [
            item for item in items if id(item) not in components and not touches_database(item)
        ]
    left_out = {id(item) for group in reasons.values() for item in group}
    if left_out:
        config.hook.pytest_deselected(items=[item for item in items if id(item) in left_out])
        items[:] = [item for item in items if id(item) not in left_out]
    config.stash[LEFT_OUT] = {reason: len(group) for reason, group in reasons.items() if group}


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    return [
        f"deselected {count}: {reason}" for reason, count in config.stash.get(LEFT_OUT, {}).items()
    ]


class SingleConnectionDatabase:
    """Lends the test's one connection (inside its transaction) to the app, one user at a time."""

    def __init__(self, con: dbmod.Connection) -> None:
        self.con = con
        self.lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[dbmod.Connection]:
        async with self.lock:
            yield self.con


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    given = os.environ.get("KPI_DATABASE_URL")
    if given:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="kpi-test-pg-") as tmp:
        with EmbeddedPostgres(Path(tmp), delete_on_exit=True) as url:
            yield url


@pytest.fixture(scope="session")
def direct_database_url(database_url: str) -> str:
    """The database of tests that make schemas of their own: straight to Postgres, also in a
    run through a transaction-mode pooler, whose sessions search their role's schema only
    (tests/components/through_pgbouncer.py names it in KPI_TEST_DIRECT_DATABASE_URL). Connect
    to it with DIRECT settings."""
    return os.environ.get("KPI_TEST_DIRECT_DATABASE_URL") or database_url


#: Connection settings for direct_database_url: no pooler between.
DIRECT = Settings(db_transaction_pooling=False)


@pytest.fixture(scope="session")
async def db_schema(database_url: str) -> AsyncIterator[str]:
    # A run through a transaction-mode pooler names the schema its role searches (see
    # tests/components/through_pgbouncer.py): the pooler lets no search path through.
    name = os.environ.get("KPI_TEST_DB_SCHEMA") or f"kpi_test_{os.getpid()}_{secrets.token_hex(3)}"
    con = await dbmod.connect(database_url, name)
    try:
        await dbmod.migrate(con, name)
        yield name
    finally:
        await con.execute(f'drop schema if exists "{name}" cascade')
        await con.close()


@pytest.fixture(scope="session")
async def session_con(database_url: str, db_schema: str) -> AsyncIterator[dbmod.Connection]:
    con = await dbmod.connect(database_url, db_schema)
    yield con
    await con.close()


@pytest.fixture
async def con(session_con: dbmod.Connection) -> AsyncIterator[dbmod.Connection]:
    tr = session_con.transaction()
    await tr.start()
    try:
        yield session_con
    finally:
        await tr.rollback()


@pytest.fixture
def settings(db_schema: str) -> Settings:
    # The webhook fixtures are deliveries their tools published years ago: sent now, their
    # signed times would be refused as replays. Tests of that check set their own tolerance
    # (tests/ingest/test_replay_guard.py).
    return Settings(db_schema=db_schema, webhook_event_time_tolerance_seconds=0)


@contextlib.asynccontextmanager
async def app_client(
    con: dbmod.Connection, settings: Settings, clock: Clock = utc_now
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app sharing the test's connection; `clock` is the app's time."""
    app = create_app(settings, db=SingleConnectionDatabase(con), clock=clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kpi.test") as client:
        yield client


@pytest.fixture
async def client(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(con, settings) as client:
        yield client


async def _token_headers(con: dbmod.Connection, *scopes: Scope) -> dict[str, str]:
    token = await tokens.create_token(con, name="-".join(scopes), scopes=list(scopes))
    return {"Authorization": f"Bearer {token.token}"}


@pytest.fixture
async def admin(con: dbmod.Connection) -> dict[str, str]:
    return await _token_headers(con, Scope.ADMIN)


@pytest.fixture
async def reader(con: dbmod.Connection) -> dict[str, str]:
    return await _token_headers(con, Scope.READ)


@pytest.fixture
async def ingester(con: dbmod.Connection) -> dict[str, str]:
    return await _token_headers(con, Scope.INGEST)
