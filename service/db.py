"""Postgres access: the pool, named SQL queries from sql/queries, migrations, embedded Postgres."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeAlias, TypeVar

import asyncpg
import orjson

from service import db_url
from service.config import Settings
from service.errors import NotFound
from service.models.stored import M, read

log = logging.getLogger(__name__)
T = TypeVar("T")

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_NAME_LINE = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
#: Key of the transaction-level advisory lock each migration step takes, so one process
#: migrates at a time (also through a transaction-mode pooler).
MIGRATION_LOCK_KEY = 7_160_001
#: The settings the service's sessions run with. Sent at connect; behind a transaction-mode
#: pooler, which refuses them there, the role carries them (see pooled_session_problems).
#: JIT compilation costs more than it saves on the service's short aggregate queries
#: (measured on the kpi-compute benchmark: about a second of a fleet-year's DORA query).
#: work_mem: a fleet-year's incident figures sort about half a million rows, and each
#: percentile sorts its group's values; at the server's default (4MB) they spill to disk.
#: It is a ceiling per sort or hash, taken only by the queries that need it.
SESSION_SETTINGS = {"jit": "off", "work_mem": "64MB"}


# asyncpg ships no type information, so its connection is typed as Any at our boundary.
Connection: TypeAlias = Any


class DatabaseUnavailable(ConnectionError):
    """No connection to the database could be had: refused, timed out, or the server is
    starting, stopping or recovering. Requests meeting it are answered 503 with Retry-After."""


class DatabaseReadOnly(DatabaseUnavailable):
    """A statement for the primary met a standby (in recovery): a write (SQLSTATE 25006) or a
    read of an unlogged table (0A000), as when the server a connection was made to has been
    demoted or a pooler still points at the old primary. Nothing was written; the pool's
    connections are replaced, so that later ones find the primary (target_session_attrs)."""


#: What opening a connection raises while the database is down, restarting or unreachable.
#: OSError covers refused and reset connections, a missing socket file, name resolution
#: and timeouts (TimeoutError is an OSError).
_CONNECT_FAILURES: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.ClientCannotConnectError,
    asyncpg.exceptions.TooManyConnectionsError,
    # Every host of a multi-host URL answered, none with the session attribute asked
    # (target_session_attrs=read-write while a failover is under way: no primary yet).
    asyncpg.exceptions.TargetServerAttributeNotMatched,
)


def _connect_failure(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.InterfaceError):
        # A connection that the server closed while it was being set up.
        return "connection is closed" in str(exc)
    return isinstance(exc, _CONNECT_FAILURES)


def _unavailable(exc: BaseException, url: str | None = None) -> DatabaseUnavailable:
    """The error saying why, and which hosts of `url` were tried (never its password): of a
    multi-host URL asyncpg reports the last host's failure only."""
    tried = ", ".join(str(h) for h in db_url.hosts(url)) if url else ""
    return DatabaseUnavailable(
        f"cannot connect to the database: {type(exc).__name__}: {exc}"
        + (f" (hosts tried: {tried})" if tried else "")
    )


class Database(Protocol):
    """Anything that lends a connection: the app's pool, or a test's single connection."""

    def acquire(self) -> contextlib.AbstractAsyncContextManager[Connection]: ...


class PoolDatabase:
    """The production Database: an asyncpg pool.

    A connection is waited for at most `acquire_timeout` seconds (by default
    KPI_DB_ACQUIRE_TIMEOUT_SECONDS), connecting included; past that, or when connecting fails,
    DatabaseUnavailable is raised. A connection the database closed (restart, failover) is
    replaced on a later acquire, so the pool recovers by itself once the database is back.
    """

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float | None = None) -> None:
        self.pool = pool
        self.acquire_timeout = (
            Settings().db_acquire_timeout_seconds if acquire_timeout is None else acquire_timeout
        )

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Connection]:
        try:
            # asyncio.timeout rather than acquire(timeout=): the latter wraps every acquire in
            # a task of its own (wait_for), a measurable cost per request.
            async with asyncio.timeout(self.acquire_timeout):
                con = await self.pool.acquire()
        except TimeoutError as exc:
            raise DatabaseUnavailable(
                f"no database connection within {self.acquire_timeout:g} s"
            ) from exc
        except Exception as exc:
            if _connect_failure(exc):
                raise _unavailable(exc) from exc
            raise
        try:
            yield con
        except _STANDBY_REFUSALS as exc:
            # The service opens no read-only transaction of its own: a write refused as
            # read-only met a standby. An unlogged table (rate buckets, write positions)
            # refused as unsupported did if the server says it is in recovery.
            standby = isinstance(exc, _READ_ONLY) or await _in_recovery(con)
            await self._release(con, failed=True)
            if not standby:
                raise
            await self.pool.expire_connections()
            raise DatabaseReadOnly(
                "the database server is a standby (in recovery): nothing was written"
            ) from exc
        except asyncpg.InterfaceError as exc:  # InternalClientError is one too
            # The server going away in the middle of a COPY or a rollback can leave the
            # connection's protocol mid-operation, and asyncpg then reports a client-side state
            # error instead of the lost connection: when the connection is indeed gone, that is
            # the database being unavailable (a 503 to retry), not a bug.
            lost = _is_lost(con)
            kept = await self._release(con, failed=True)
            if lost or not kept:
                raise DatabaseUnavailable("the database connection was lost") from exc
            raise
        except BaseException:
            await self._release(con, failed=True)
            raise
        await self._release(con, failed=False)

    async def _release(self, con: Connection, *, failed: bool) -> bool:
        """Back to the pool; whether the pool kept it. A connection that cannot be reset
        there (the database went away meanwhile) is dropped by the pool; that must not turn
        work already committed into a failed request, nor hide the error a failed one met."""
        try:
            await self.pool.release(con)
        except Exception as exc:
            log.warning(
                "database connection dropped on release",
                extra={"error": repr(exc), "request_failed": failed},
            )
            return False
        return True


_READ_ONLY = asyncpg.exceptions.ReadOnlySQLTransactionError  # 25006
#: What a standby answers a statement the service sends its primary: a write (25006), or a
#: read of an unlogged table, which recovery cannot serve (0A000).
_STANDBY_REFUSALS = (_READ_ONLY, asyncpg.exceptions.FeatureNotSupportedError)


async def _in_recovery(con: Connection) -> bool:
    """Whether the server of a connection that just failed a statement is a standby; False
    when it cannot even say."""
    try:
        return bool(await con.fetchval("select pg_is_in_recovery()", timeout=2))
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError):
        return False


def _is_lost(con: Connection) -> bool:
    """Whether a connection still held by a request has been closed. The pool detaches a
    connection the server closed from its handle at once, so asking a detached handle fails:
    that too means the connection is gone."""
    try:
        return bool(con.is_closed())
    except asyncpg.InterfaceError:
        return True


def parse_named_queries(text: str) -> dict[str, str]:
    """Split a .sql file into {name: statement} on `-- name: xxx` lines."""
    parts = _NAME_LINE.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        queries[name] = body.strip().rstrip(";")
    return queries


@functools.cache
def queries(area: str) -> dict[str, str]:
    """The named queries of sql/queries/<area>.sql, loaded once."""
    return parse_named_queries((SQL_DIR / "queries" / f"{area}.sql").read_text())


def sql(area: str, name: str) -> str:
    """One named statement: sql("teams", "list_teams")."""
    return queries(area)[name]


def statements(area: str) -> Callable[[str], str]:
    """The named statements of one SQL file by name, as its repository looks them up:
    `q = statements("teams")`, then `q("list_teams")`."""
    return functools.partial(sql, area)


def _encode_jsonb(value: Any) -> bytes:
    return b"\x01" + orjson.dumps(value)  # jsonb's binary format: version 1, then the text


def _decode_jsonb(data: bytes) -> Any:
    return orjson.loads(data[1:])


async def _init_connection(con: Connection) -> None:
    # Binary codecs, so COPY (always binary in asyncpg) can carry json too.
    await con.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=_encode_jsonb, decoder=_decode_jsonb, format="binary"
    )
    await con.set_type_codec(
        "json", schema="pg_catalog", encoder=orjson.dumps, decoder=orjson.loads, format="binary"
    )


def _server_settings(schema: str, pooled: bool) -> dict[str, str]:
    # A transaction-mode pooler passes on only the parameters it tracks itself (TimeZone
    # among them) and refuses the rest at connect.
    if pooled:
        return {"timezone": "UTC"}
    return {"search_path": schema, "timezone": "UTC", **SESSION_SETTINGS}


def statement_cache_size(settings: Settings) -> int:
    """asyncpg's prepared statements per connection: none behind a transaction-mode pooler."""
    return 0 if settings.db_transaction_pooling else settings.db_statement_cache_size


async def connect(
    url: str, schema: str = "public", *, timeout: float | None = None,
    settings: Settings | None = None,
) -> Connection:  # fmt: skip
    """One connection with the service's codecs and search path; DatabaseUnavailable when
    the database cannot be reached within `timeout` (KPI_DB_CONNECT_TIMEOUT_SECONDS). Behind a
    transaction-mode pooler (KPI_DB_TRANSACTION_POOLING) nothing but the time zone is sent at
    connect and no statement is kept prepared."""
    settings = settings or Settings()
    limit = settings.db_connect_timeout_seconds if timeout is None else timeout
    pooled = settings.db_transaction_pooling
    try:
        con: Connection = await asyncpg.connect(
            url, timeout=limit, server_settings=_server_settings(schema, pooled),
            statement_cache_size=statement_cache_size(settings),
            target_session_attrs=db_url.target_session_attrs(url, os.environ),
        )  # fmt: skip
    except Exception as exc:
        if _connect_failure(exc):
            raise _unavailable(exc, url) from exc
        raise
    try:
        await _init_connection(con)
    except BaseException:
        con.terminate()
        raise
    return con


async def connect_for_migrations(settings: Settings, url: str | None = None) -> Connection:
    """The connection migrations and the `kpi` commands use: KPI_DATABASE_MIGRATE_URL, direct
    to Postgres, when set; else `url` (by default KPI_DATABASE_URL), through the pooler if
    there is one."""
    direct = settings.database_migrate_url
    if direct is not None:
        plain = settings.model_copy(update={"db_transaction_pooling": False})
        return await connect(direct.get_secret_value(), settings.db_schema, settings=plain)
    if url is None:
        if settings.database_url is None:
            raise RuntimeError("KPI_DATABASE_URL is not set")
        url = settings.database_url.get_secret_value()
    return await connect(url, settings.db_schema, settings=settings)


async def _reset_on_release(con: Connection) -> None:
    """What the pool runs when a connection comes back, after asyncpg has rolled back any
    transaction left open: nothing. The service keeps no session state (no SET, LISTEN,
    cursors or session-level locks; temporary tables are dropped on commit; the evaluating
    leader holds a lease row), so skipping asyncpg's default reset (advisory unlock, CLOSE
    ALL, UNLISTEN, RESET ALL) saves a round trip per request."""
    del con


async def create_pool(
    url: str, schema: str, min_size: int, max_size: int, *, settings: Settings | None = None,
    hosts_wanted: str = db_url.WRITABLE,
) -> asyncpg.Pool:  # fmt: skip
    """The app's pool. Timeouts come from `settings` (else the environment): connecting
    (KPI_DB_CONNECT_TIMEOUT_SECONDS) and each statement (KPI_DB_COMMAND_TIMEOUT_SECONDS);
    behind a transaction-mode pooler (KPI_DB_TRANSACTION_POOLING) no statement is kept
    prepared and nothing but the time zone is sent at connect. Of a URL naming several hosts
    without saying which it wants, the pool asks `hosts_wanted` (the primary, by default)."""
    settings = settings or Settings()
    try:
        pool: asyncpg.Pool = await asyncpg.create_pool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=settings.db_connect_timeout_seconds,
            command_timeout=settings.db_command_timeout_seconds or None,
            server_settings=_server_settings(schema, settings.db_transaction_pooling),
            statement_cache_size=statement_cache_size(settings),
            init=_init_connection,
            reset=_reset_on_release,
            target_session_attrs=db_url.target_session_attrs(url, os.environ, hosts_wanted),
        )
    except Exception as exc:
        if _connect_failure(exc):
            raise _unavailable(exc, url) from exc
        raise
    return pool


async def pooled_session_problems(con: Connection, schema: str) -> list[str]:
    """What a session opened through a transaction-mode pooler lacks of the settings the
    service would have sent at connect (set them on the role: ALTER ROLE ... SET); empty
    when it has them all."""
    row = await con.fetchrow(
        "select current_schema() as schema, current_setting('jit') as jit,"
        " pg_size_bytes(current_setting('work_mem')) as work_mem,"
        " pg_size_bytes($1) as wanted_work_mem",
        SESSION_SETTINGS["work_mem"],
    )
    problems = []
    if row["schema"] != schema:
        problems.append(f"search_path leads to schema {row['schema']!r}, not {schema!r}")
    if row["jit"] != SESSION_SETTINGS["jit"]:
        problems.append(f"jit is {row['jit']}, not {SESSION_SETTINGS['jit']}")
    if row["work_mem"] < row["wanted_work_mem"]:
        problems.append(f"work_mem is below {SESSION_SETTINGS['work_mem']}")
    return problems


async def ping(con: Connection) -> None:
    """Return once the server has answered a round trip."""
    await con.fetchval("select 1")


async def fetch_grouped(
    con: Connection, statement: str, keys: Sequence[Any], convert: Callable[[dict[str, Any]], Any]
) -> dict[Any, list[Any]]:
    """Rows of a statement taking `$1 = keys` and returning a `key` column, grouped by it
    (every key present, possibly with no rows); each row converted without its key."""
    result: dict[Any, list[Any]] = {k: [] for k in keys}
    for record in await con.fetch(statement, list(keys)):
        data = dict(record.items())
        result[data.pop("key")].append(convert(data))
    return result


async def fetch_models(con: Connection, model: type[M], statement: str, *args: Any) -> list[M]:
    """Every row of a statement as `model`, read under the STORED context (models/stored.py)."""
    return [read(model, r) for r in await con.fetch(statement, *args)]


def one_found(found: Sequence[T], missing: str) -> T:
    """The first of the items a read by key found; NotFound (404) saying `missing` when it
    found none."""
    if not found:
        raise NotFound(missing)
    return found[0]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(directory: Path = SQL_DIR / "migrations") -> list[Migration]:
    found = []
    for path in sorted(directory.iterdir()):
        match = _MIGRATION_FILE.match(path.name)
        if match:
            found.append(Migration(int(match[1]), match[2], path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError("two migrations share a version number")
    return found


def load_repeatable_scripts(directory: Path = SQL_DIR / "migrations" / "repeatable") -> list[str]:
    """The scripts run after the numbered migrations on every migrate, by file name: each is
    idempotent and written by `kpi export` from a registry (e.g. the kinds of SOURCES)."""
    return [path.read_text() for path in sorted(directory.glob("*.sql"))]


async def _migration_step(con: Connection, schema: str) -> None:
    """Open a migration step: wait for the schema's migration lock, held until the step's
    transaction ends, and search the schema for the step's statements only."""
    await con.execute("select pg_advisory_xact_lock($1, hashtext($2))", MIGRATION_LOCK_KEY, schema)
    await con.execute(f'set local search_path to "{schema}"')


async def migrate(con: Connection, schema: str = "public") -> list[str]:
    """Apply pending migrations in order, each in its own transaction, then the repeatable
    scripts. Each step takes a transaction-level advisory lock and checks again whether it
    is still due, so concurrent processes take turns, and no session state is needed: it
    runs as well through a transaction-mode pooler.

    Returns the names applied by this call; a second process waiting on the lock finds them
    recorded and applies nothing.
    """
    async with con.transaction():
        await _migration_step(con, schema)
        await con.execute(f'create schema if not exists "{schema}"')
        await con.execute(
            f'create table if not exists "{schema}".schema_migration ('
            " version integer primary key, name text not null,"
            " applied_at timestamptz not null default now())"
        )
    rows = await con.fetch(f'select version from "{schema}".schema_migration')
    done = {r["version"] for r in rows}
    applied = []
    for migration in load_migrations():
        if migration.version in done:
            continue
        async with con.transaction():
            await _migration_step(con, schema)
            recorded = await con.fetchval(
                f'select count(*) from "{schema}".schema_migration where version = $1',
                migration.version,
            )
            if recorded:
                continue  # applied by another process while this one waited
            await con.execute(migration.sql)
            await con.execute(
                f'insert into "{schema}".schema_migration (version, name) values ($1, $2)',
                migration.version,
                migration.name,
            )
        applied.append(f"{migration.version:04d}_{migration.name}")
        log.info("migration applied", extra={"migration": applied[-1]})
    for script in load_repeatable_scripts():
        async with con.transaction():
            await _migration_step(con, schema)
            await con.execute(script)
    return applied
