"""`kpi export-csv`: the CSV answer of a read (series, scorecard, status history, incidents,
changes, service report) written to a file, straight from the database.

The read is answered by the REST endpoint itself, called in-process without a token (whoever
runs `kpi` reaches the database anyway), so its parameters, checks and columns are the API's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import sys
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson
from starlette.applications import Starlette

from service.cli.common import Subcommands, print_err, run
from service.clock import Clock, utc_now
from service.config import Settings
from service.db import Connection
from service.errors import ApiError, handle_api_error

EXAMPLES = (
    "/v1/scorecard, '/v1/kpis/KEY/series?grain=week', '/v1/incidents?service=SLUG&limit=1000'"
)


def register(sub: Subcommands, quiet: argparse.ArgumentParser) -> None:
    export = sub.add_parser(
        "export-csv", help="write a read's CSV (series, scorecard, incidents ...) to a file"
    )
    export.add_argument("read", help=f"the REST read with its query string, e.g. {EXAMPLES}")
    export.add_argument("-o", "--output", default="-", help="the file (default: - for stdout)")
    export.set_defaults(func=cmd_export_csv)


class _OneConnection:
    """The command's connection, lent to the endpoint one use at a time."""

    def __init__(self, con: Connection) -> None:
        self.con = con
        self.lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Connection]:
        async with self.lock:
            yield self.con


def csv_app(settings: Settings, con: Connection, clock: Clock = utc_now) -> Starlette:
    """The reads that answer CSV, open to the caller, on `con`."""
    from service.app import all_endpoints
    from service.rest.endpoint import routes

    readable = [dataclasses.replace(e, scope=None) for e in all_endpoints() if e.csv is not None]
    app = Starlette(routes=routes(readable), exception_handlers={ApiError: handle_api_error})
    app.state.settings, app.state.db, app.state.clock = settings, _OneConnection(con), clock
    return app


def _scope(read: str) -> dict[str, Any]:
    parts = urlsplit(read)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "format"]
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "server": ("kpi", 80), "client": ("127.0.0.1", 0), "root_path": "",
        "path": parts.path, "raw_path": parts.path.encode(),
        "query_string": urlencode([*query, ("format", "csv")]).encode(),
        "headers": [(b"host", b"kpi"), (b"accept", b"text/csv")],
    }  # fmt: skip


async def export_csv(app: Starlette, read: str, out: IO[bytes]) -> str | None:
    """Writes the CSV answer of `read` to `out` as it comes; None when done, else what the
    read answered instead (the problem's detail and its fields)."""
    status = 0
    refused = bytearray()
    requested = False
    answered = asyncio.Event()

    async def receive() -> dict[str, Any]:
        # The (empty) request once; then, as a server would, a disconnect once answered.
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            (out.write if status == 200 else refused.extend)(message.get("body", b""))
            if not message.get("more_body", False):
                answered.set()

    await app(_scope(read), receive, send)
    return None if status == 200 else _refusal(status, bytes(refused))


def _refusal(status: int, body: bytes) -> str:
    try:
        problem = orjson.loads(body)
    except orjson.JSONDecodeError:
        # Starlette's own 404 for a path no read that answers CSV has.
        return f"{status}: no read that answers CSV has this path ({EXAMPLES})"
    fields = [f"\n  {e['field'] or 'query'}: {e['detail']}" for e in problem.get("errors", [])]
    return f"{status}: {problem.get('detail', '')}" + "".join(fields)


async def _to_file(app: Starlette, read: str, path: Path) -> str | None:
    """Written beside `path` and renamed into place once complete: a refused or failed read
    leaves no file (and an earlier one whole)."""
    partial = path.with_name(f".{path.name}.part")
    try:
        with partial.open("wb") as out:
            refused = await export_csv(app, read, out)
        if refused is None:
            partial.replace(path)
        return refused
    finally:
        partial.unlink(missing_ok=True)


def cmd_export_csv(args: argparse.Namespace, settings: Settings) -> int:
    async def work(con: Connection) -> int:
        app = csv_app(settings, con)
        if args.output == "-":
            refused = await export_csv(app, args.read, sys.stdout.buffer)
        else:
            refused = await _to_file(app, args.read, Path(args.output))
        if refused is not None:
            print_err(f"error: {args.read}: {refused}")
            return 1
        return 0

    return run(settings, work)
