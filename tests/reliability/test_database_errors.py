"""What the app makes of a database it cannot reach: bounded connect, acquire and statement
times (KPI_DB_*_TIMEOUT_SECONDS), DatabaseUnavailable for every way connecting fails, and a 503
problem+json with Retry-After for the errors a retry can get past (500 for the others)."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from starlette.requests import Request

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.db import DatabaseUnavailable
from service.errors import PROBLEM_MEDIA_TYPE, handle_unexpected
from tests.reliability.support import free_port

E = asyncpg.exceptions


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel does) and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def _request() -> Request:
    return Request({"type": "http", "method": "GET", "path": "/v1/teams", "headers": [],
                    "query_string": b""})  # fmt: skip


async def _answer(exc: Exception) -> tuple[int, dict[str, str], dict[str, Any]]:
    response = await handle_unexpected(_request(), exc)
    return response.status_code, dict(response.headers), orjson.loads(bytes(response.body))


# Connecting -------------------------------------------------------------------------------------


async def test_a_refused_connection_is_database_unavailable_without_the_password() -> None:
    began = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as caught:
        await dbmod.connect(f"postgresql://kpi:s3cret-pw@127.0.0.1:{free_port()}/kpi")
    assert time.monotonic() - began < 5
    assert isinstance(caught.value, ConnectionError)
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)
    assert "ConnectionRefusedError" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)


async def test_a_missing_socket_file_is_database_unavailable(tmp_path: Path) -> None:
    """An embedded or local server reached through a Unix socket that is not there (yet)."""
    with pytest.raises(DatabaseUnavailable) as caught:
        await dbmod.connect(f"postgresql://postgres@/postgres?host={tmp_path}")
    assert isinstance(caught.value.__cause__, FileNotFoundError)


async def test_connect_gives_up_after_the_connect_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KPI_DB_CONNECT_TIMEOUT_SECONDS", "0.5")
    with silent_server() as port:
        for timeout in (None, 0.3):  # the setting, the argument
            began = time.monotonic()
            with pytest.raises(DatabaseUnavailable) as caught:
                await dbmod.connect(f"postgresql://postgres@127.0.0.1:{port}/x", timeout=timeout)
            assert time.monotonic() - began < 3
            assert isinstance(caught.value.__cause__, TimeoutError)


async def test_creating_the_pool_against_no_database_is_database_unavailable() -> None:
    with pytest.raises(DatabaseUnavailable):
        await dbmod.create_pool(f"postgresql://postgres@127.0.0.1:{free_port()}/x", "public", 1, 2)


async def test_the_app_does_not_start_without_its_database() -> None:
    """The lifespan migrates first: with no database it fails at once, saying why."""
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    app = create_app(Settings(database_url=url, db_schema="kpi_never", background=False))
    began = time.monotonic()
    with pytest.raises(DatabaseUnavailable, match="cannot connect to the database"):
        async with app.router.lifespan_context(app):
            pass
    assert time.monotonic() - began < 10


# The pool ---------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def pool_of(
    database_url: str, size: int, settings: Settings | None = None
) -> AsyncIterator[Any]:
    pool = await dbmod.create_pool(database_url, "public", 1, size, settings=settings)
    try:
        yield pool
    finally:
        await pool.close()


async def test_acquire_waits_at_most_the_acquire_timeout(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KPI_DB_ACQUIRE_TIMEOUT_SECONDS", "0.4")
    async with pool_of(database_url, 1) as pool:
        db = dbmod.PoolDatabase(pool)  # as the app builds it: the timeout from the setting
        assert db.acquire_timeout == 0.4
        async with db.acquire() as held:
            began = time.monotonic()
            with pytest.raises(DatabaseUnavailable, match=r"within 0\.4 s") as caught:
                async with db.acquire():
                    pass
            waited = time.monotonic() - began
            assert 0.3 < waited < 3
            assert await held.fetchval("select 1") == 1
        status, headers, body = await _answer(caught.value)
        assert status == 503 and headers["retry-after"] == "5", body
        async with db.acquire() as con:  # the pool is whole again
            assert await con.fetchval("select 2") == 2


async def test_a_statement_over_the_command_timeout_is_cut_off_with_a_503(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KPI_DB_COMMAND_TIMEOUT_SECONDS", "0.3")
    for settings in (None, Settings(db_command_timeout_seconds=0.3)):  # environment, argument
        async with pool_of(database_url, 2, settings) as pool:
            db = dbmod.PoolDatabase(pool, acquire_timeout=5)
            began = time.monotonic()
            with pytest.raises(TimeoutError) as caught:
                async with db.acquire() as con:
                    await con.fetchval("select pg_sleep(10)")
            assert time.monotonic() - began < 5
            status, headers, _ = await _answer(caught.value)
            assert status == 503 and "retry-after" in headers
            async with db.acquire() as con:
                assert await con.fetchval("select 1") == 1


async def test_no_command_timeout_when_set_to_zero(database_url: str) -> None:
    async with pool_of(database_url, 1, Settings(db_command_timeout_seconds=0)) as pool:
        async with dbmod.PoolDatabase(pool, acquire_timeout=5).acquire() as con:
            assert await con.fetchval("select pg_sleep(0.2)::text") == ""


class _ReleaseFails:
    """A pool whose connection cannot be reset on release (the database went away)."""

    async def acquire(self, timeout: float | None = None) -> str:
        return "connection"

    async def release(self, con: object) -> None:
        raise E.ConnectionDoesNotExistError("connection was closed in the middle of operation")


async def test_a_connection_lost_on_release_neither_fails_committed_work_nor_hides_errors() -> None:
    db = dbmod.PoolDatabase(_ReleaseFails(), acquire_timeout=1)
    async with db.acquire() as con:  # the work is done (committed): no error now
        assert con == "connection"
    with pytest.raises(ValueError, match="the request's own error"):
        async with db.acquire():
            raise ValueError("the request's own error")


async def test_a_client_state_error_on_a_lost_connection_is_database_unavailable(
    database_url: str,
) -> None:
    """The server going away mid-COPY leaves asyncpg's protocol mid-operation: the next call
    (the transaction's rollback) fails with "another operation is in progress" instead of the
    lost connection. On a connection the database has closed, that is unavailability (a 503 to
    retry); on a live one the same error is a bug and stays one."""
    state_error = "cannot perform operation: another operation is in progress"
    async with pool_of(database_url, 2) as pool:
        db = dbmod.PoolDatabase(pool, acquire_timeout=5)
        with pytest.raises(DatabaseUnavailable, match="connection was lost") as caught:
            async with db.acquire() as con:
                pid = con.get_server_pid()
                async with db.acquire() as other:
                    assert await other.fetchval("select pg_terminate_backend($1, 5000)", pid)
                with contextlib.suppress(E.ConnectionDoesNotExistError, ConnectionError):
                    await con.fetchval("select 1")  # asyncpg learns the connection is gone
                raise asyncpg.InterfaceError(state_error)
        assert isinstance(caught.value.__cause__, asyncpg.InterfaceError)
        status, headers, _ = await _answer(caught.value)
        assert status == 503 and "retry-after" in headers
        with pytest.raises(asyncpg.InterfaceError, match="another operation"):
            async with db.acquire() as con:
                raise asyncpg.InterfaceError(state_error)
        async with db.acquire() as con:  # the pool is whole again
            assert await con.fetchval("select 1") == 1


# Which errors are "retry later" ------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        DatabaseUnavailable("cannot connect to the database: ConnectionRefusedError"),
        ConnectionRefusedError(111, "Connect call failed"),
        TimeoutError(),
        E.CannotConnectNowError("the database system is shutting down"),
        E.AdminShutdownError("terminating connection due to administrator command"),
        E.CrashShutdownError("terminating connection because of crash of another server process"),
        E.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        E.ConnectionFailureError("connection failure"),
        E.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.InterfaceError(
            "cannot call Transaction.__aexit__(): the underlying connection is closed"
        ),
        asyncpg.InterfaceError("connection is closed"),
        E.InternalClientError("cannot switch to state 12; another operation (2) is in progress"),
    ],
    ids=lambda exc: type(exc).__name__,
)
async def test_database_unavailable_is_a_503_with_retry_after(exc: Exception) -> None:
    status, headers, body = await _answer(exc)
    assert status == 503
    assert headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert int(headers["retry-after"]) > 0
    assert body["type"].endswith("/unavailable") and body["status"] == 503


@pytest.mark.parametrize(
    "exc",
    [
        E.DeadlockDetectedError("deadlock detected"),
        E.SerializationError("could not serialize access due to concurrent update"),
    ],
    ids=lambda exc: type(exc).__name__,
)
async def test_a_transaction_the_database_rolled_back_is_a_503_to_retry(exc: Exception) -> None:
    status, headers, body = await _answer(exc)
    assert status == 503
    assert headers["retry-after"] == "1"
    assert body["type"].endswith("/unavailable")
    assert body["detail"] == (
        "the request met a concurrent write and was rolled back, storing nothing; retry"
    )


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        E.InternalClientError("unexpected error while performing authentication"),
        E.DatabaseDroppedError("terminating connection because the database was dropped"),
        E.InvalidPasswordError("password authentication failed for user"),
        E.UndefinedTableError('relation "nothing" does not exist'),
        RuntimeError("a bug"),
    ],
    ids=lambda exc: type(exc).__name__,
)
async def test_errors_a_retry_would_meet_again_stay_500(exc: Exception) -> None:
    status, headers, _ = await _answer(exc)
    assert status == 500
    assert "retry-after" not in headers


def test_the_timeouts_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONNECT", "ACQUIRE", "COMMAND"):
        monkeypatch.delenv(f"KPI_DB_{name}_TIMEOUT_SECONDS", raising=False)
    defaults = Settings()
    assert (defaults.db_connect_timeout_seconds, defaults.db_acquire_timeout_seconds) == (5, 10)
    assert defaults.db_command_timeout_seconds == 300
    with pytest.raises(ValueError):
        Settings(db_acquire_timeout_seconds=0)
