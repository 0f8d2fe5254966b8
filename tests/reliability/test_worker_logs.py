"""`kpi serve --workers 2` as a real server: every worker logs the same JSON lines as one
worker does, the access line of each request and its errors with the request id; and the
client's address a trusted proxy gives in X-Forwarded-For is the one a rejection records."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service import db as dbmod
from tests.reliability import support
from tests.test_logging import BAD_QUERY_ERRORS, bad_queries

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The loggers that write while a request is served, so their lines carry its id.
REQUEST_LOGGERS = {"service.access", "service.graphql", "service.errors"}


@pytest.fixture
async def log_schema(database_url: str) -> AsyncIterator[tuple[str, support.Tokens]]:
    schema = f"kpi_logs_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        yield schema, await support.prepare_schema(database_url, schema)
    finally:
        await support.drop_schema(database_url, schema)


async def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    began = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        while time.monotonic() - began < 60:
            if process.poll() is not None:
                pytest.fail(f"the server exited ({process.returncode}):\n{log.read_text()}")
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    pytest.fail(f"the server was not ready within 60 s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's own process group (master and workers), as a supervisor
    stops it; SIGKILL if it has not ended within 30 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass


async def _send(base: str, tokens: support.Tokens) -> dict[str, int]:
    """Requests of every kind, several at once on connections of their own (so that both
    workers serve some), each with its own X-Request-ID; request id -> status."""
    delivery = support.github_delivery(1)
    forged = {**delivery.headers, "X-Hub-Signature-256": "sha256=" + "0" * 64,
              "X-Forwarded-For": "203.0.113.5"}  # fmt: skip
    requests: list[tuple[str, str, str, dict[str, Any]]] = [
        *[(f"teams-{i}", "GET", "/v1/teams", {"headers": tokens.read}) for i in range(8)],
        ("no-token", "GET", "/v1/teams", {}),
        ("nowhere", "GET", "/nowhere", {}),
        ("forged", "POST", f"/v1/webhooks/{support.SOURCE}",
         {"headers": forged, "content": delivery.body}),
        *[(f"bad-graphql-{n}", "POST", "/graphql",
           {"headers": tokens.read, "json": {"query": query}})
          for n, query in enumerate(bad_queries())],
    ]  # fmt: skip

    async def one(rid: str, method: str, path: str, options: dict[str, Any]) -> tuple[str, int]:
        headers = {**options.pop("headers", {}), "X-Request-ID": rid}
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            answer = await client.request(method, path, headers=headers, **options)
        if rid.startswith("bad-graphql-"):
            assert len(answer.json()["errors"]) == BAD_QUERY_ERRORS[int(rid.split("-")[-1])]
        return rid, answer.status_code

    return dict(await asyncio.gather(*(one(*r) for r in requests)))


async def test_two_workers_log_json_lines_with_request_ids_and_access_lines(
    database_url: str, log_schema: tuple[str, support.Tokens], tmp_path: Path
) -> None:
    schema, tokens = log_schema
    port = support.free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "KPI_DATABASE_URL": database_url, "KPI_DB_SCHEMA": schema,
           "KPI_BACKGROUND": "false", "KPI_LOG_LEVEL": "INFO"}  # fmt: skip
    env.pop("KPI_FORWARDED_ALLOW_IPS", None)  # the default: the proxy on 127.0.0.1 is trusted
    stderr = tmp_path / "stderr.log"
    command = [sys.executable, "-m", "service.cli", "serve", "--workers", "2",
               "--port", str(port), "--no-progress"]  # fmt: skip
    with open(stderr, "wb") as err:
        process = subprocess.Popen(
            command, env=env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
        )  # fmt: skip
    try:
        await _wait_ready(base, process, stderr)
        statuses = await _send(base, tokens)
    finally:
        _stop(process)

    assert statuses["teams-0"] == 200 and statuses["no-token"] == 401
    assert (statuses["nowhere"], statuses["forged"]) == (404, 401)
    text = stderr.read_text()
    lines = [json.loads(line) for line in text.splitlines()]  # every line is JSON
    assert all({"ts", "level", "logger", "msg"} <= set(entry) for entry in lines)
    # Both workers started, and logged it as JSON.
    started = [e for e in lines if e["msg"].startswith("Started server process")]
    assert len(started) == 2
    # Every line written while serving a request carries its id; every request has its
    # access line, whichever worker served it.
    during = [e for e in lines if e["logger"] in REQUEST_LOGGERS]
    assert all("request_id" in e for e in during), [e for e in during if "request_id" not in e]
    access = {e["request_id"]: e["status"] for e in lines if e["logger"] == "service.access"}
    assert {rid: access.get(rid) for rid in statuses} == statuses
    # The bad GraphQL requests: one line each, at INFO, no traceback anywhere.
    refused = [e for e in lines if e["logger"] == "service.graphql"]
    assert sorted(e["request_id"] for e in refused) == sorted(
        f"bad-graphql-{n}" for n in range(len(BAD_QUERY_ERRORS))
    )
    assert {e["level"] for e in refused} == {"info"}
    assert "Traceback" not in text and not [e for e in lines if e["level"] == "error"]

    # The forged delivery came through a proxy the server trusts (127.0.0.1): its sample
    # records the address the proxy gave.
    con = await dbmod.connect(database_url, schema)
    try:
        clients = await con.fetch("select client from webhook_rejection_sample")
    finally:
        await con.close()
    assert [r["client"] for r in clients] == ["203.0.113.5"]
