"""What every benchmark needs: a fresh schema, `kpi serve` in a subprocess, a clean exit."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import httpx

from service import db as dbmod
from service.config import Settings
from service.embedded import database_url

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def allocate_ids(con: dbmod.Connection, table: str, n: int) -> list[int]:
    """n fresh ids from the table's identity sequence, so rows can name each other before COPY."""
    if n == 0:
        return []
    ids: list[int] = await con.fetchval(
        "select array_agg(nextval(pg_get_serial_sequence($1, 'id'))) from generate_series(1, $2)",
        table, n,
    )  # fmt: skip
    return ids


def same_value(a: Any, b: Any) -> bool:
    """Equal, floats to within 1e-9 (the two sides of a benchmark may sum in other orders)."""
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return False
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


@contextlib.asynccontextmanager
async def fresh_schema(url: str) -> AsyncIterator[tuple[dbmod.Connection, str]]:
    """A migrated schema of its own, dropped afterwards, and a connection to it."""
    schema = f"kpi_bench_{secrets.token_hex(4)}"
    con = await dbmod.connect(url, schema)
    try:
        await dbmod.migrate(con, schema)
        yield con, schema
    finally:
        await con.execute(f'drop schema if exists "{schema}" cascade')
        await con.close()


@contextlib.asynccontextmanager
async def running_server(
    url: str, schema: str, workers: int, module: Sequence[str] = ("service.cli", "serve")
) -> AsyncIterator[str]:
    """`kpi serve` on loopback, as a user runs it (or another `python -m` server taking the
    same options); yields its base URL once it answers /readyz."""
    port = free_port()
    env = {
        **os.environ, "KPI_DATABASE_URL": url, "KPI_DB_SCHEMA": schema, "KPI_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", *module, "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=REPO_ROOT,  # where `python -m bench...` finds this package
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(base)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


async def _wait_ready(base: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not become ready")


def report_agreement(problems: Sequence[str]) -> int:
    """The last line of a benchmark comparing figures with its baseline: 0 when both sides
    gave the same numbers, else the differences on stderr and 1."""
    if problems:
        print("same numbers: NO", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print("  same numbers: NO (see stderr)")
        return 1
    print("  same numbers: yes (both sides agree on every figure, rel 1e-9)")
    return 0


def run(bench: Callable[[str], Coroutine[Any, Any, None]]) -> int:
    """Run a benchmark against KPI_DATABASE_URL, else an embedded Postgres."""
    with database_url(Settings()) as url:
        asyncio.run(bench(url))
    return 0
