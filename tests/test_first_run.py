"""A newcomer's first run, as commands in processes of their own: `kpi serve --demo` sends its
escalation notifications to the receiver it serves itself and reaches nothing off the machine,
Ctrl-C stops a server without a traceback, and commands using the embedded Postgres print no
runtime-directory warning and say whether they start it or join it."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.web.demo_receiver import receiver_url
from tests.notify.receiver import free_port

GUARD = Path(__file__).parent / "network_guard"


def kpi_env(**settings: str) -> dict[str, str]:
    """The test's environment without progress or database settings, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KPI_")}
    env.update(settings)
    return env


def wait_for(what: str, check: Callable[[], Any], seconds: float = 180) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def interrupt(proc: subprocess.Popen[bytes]) -> int:
    """Ctrl-C: SIGINT to the process, then its exit code."""
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=60)


def guarded_env(log: Path, **settings: str) -> dict[str, str]:
    """An environment whose `kpi` processes note DNS lookups and off-machine connections."""
    path = os.pathsep.join(p for p in (str(GUARD), os.environ.get("PYTHONPATH")) if p)
    return kpi_env(PYTHONPATH=path, KPI_TEST_NETWORK_LOG=str(log), **settings)


def test_the_network_guard_notices_lookups_and_connections_off_the_machine(
    tmp_path: Path,
) -> None:
    """The guard the demo test relies on: a lookup of a name and a connection attempt to a
    documentation address (192.0.2.1, TEST-NET-1) are noted; loopback is not."""
    log = tmp_path / "network.log"
    code = (
        "import socket, contextlib\n"
        "with contextlib.suppress(OSError): socket.getaddrinfo('hooks.example.com', 443)\n"
        "with contextlib.suppress(OSError): socket.create_connection(('192.0.2.1', 9), 0.2)\n"
        "with contextlib.suppress(OSError): socket.create_connection(('127.0.0.1', 9), 0.2)\n"
    )
    subprocess.run([sys.executable, "-c", code], env=guarded_env(log), check=True, timeout=60)
    assert log.read_text().splitlines() == [
        "lookup hooks.example.com",
        "connect ('192.0.2.1', 9)",
    ]


async def test_the_demo_notifies_its_own_receiver_and_reaches_nothing_off_the_machine(
    database_url: str, tmp_path: Path
) -> None:
    schema, port = f"kpi_demo_{secrets.token_hex(4)}", free_port()
    log, out, err = tmp_path / "network.log", tmp_path / "out", tmp_path / "err"
    env = guarded_env(
        log, KPI_DATABASE_URL=database_url, KPI_DB_SCHEMA=schema,
        KPI_BACKGROUND_INTERVAL_SECONDS="1",
    )  # fmt: skip
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--demo", "--port", str(port)],
            env=env, stdout=stdout, stderr=stderr,
        )  # fmt: skip
    con = None
    try:
        line = wait_for("the read token", lambda: "read token: " in out.read_text())
        assert line
        token = out.read_text().split("read token: ")[1].split()[0]
        receiver = f"http://127.0.0.1:{port}/demo/receiver"
        # The demo says where its notifications can be seen.
        assert f"curl -s '{receiver}' -H 'Authorization: Bearer {token}'" in out.read_text()

        con = await dbmod.connect(database_url, schema)
        # Every notification the demo's escalations queued is delivered by the background
        # round to the receiver the server serves itself.
        queued = "select count(*) filter (where state <> 'delivered'), count(*) from outbox"

        async def all_delivered() -> bool:
            left, total = await con.fetchrow(queued)
            return bool(total) and left == 0

        deadline = time.monotonic() + 180
        while not await all_delivered():
            assert proc.poll() is None, err.read_text()[-2000:]
            assert time.monotonic() < deadline, "notifications still pending"
            time.sleep(0.5)
        rows = await con.fetch("select url, message_id, payload from outbox order by id")
        assert all(r["url"].startswith(receiver + "/") for r in rows), [r["url"] for r in rows]
        steps = await con.fetch(
            "select distinct address from escalation_step where channel = 'webhook'"
        )
        assert sorted(s["address"] for s in steps) == [
            f"{receiver}/{name}" for name in ("availability", "backup", "dora", "security")
        ]
        # Each one's last attempt was answered 204 by the receiver.
        last = await con.fetch(
            "select distinct on (outbox_id) status_code, error from outbox_attempt"
            " order by outbox_id, id desc"
        )
        assert len(last) == len(rows)
        assert {(a["status_code"], a["error"]) for a in last} == {(204, None)}
        async with httpx.AsyncClient() as http:
            shown = await http.get(receiver, headers={"Authorization": f"Bearer {token}"})
            refused = await http.get(receiver)
            # A delivery the service did not sign is refused.
            forged = await http.post(
                f"{receiver}/dora", content=b"{}",
                headers={"webhook-id": "msg_forged", "webhook-timestamp": str(int(time.time())),
                         "webhook-signature": "v1,AAAA", "content-type": "application/json"},
            )  # fmt: skip
        assert shown.status_code == 200, shown.text
        assert refused.status_code == 401
        assert forged.status_code == 401
        assert forged.headers["content-type"] == "application/problem+json"
        assert forged.json()["header"] == "webhook-signature"
        received = shown.json()
        assert sorted(r["webhook_id"] for r in received) == sorted(r["message_id"] for r in rows)
        for got in received:
            assert got["signature_verified"] is True
            assert got["body"]["type"] == "kpi.escalation.step"
            assert dt.datetime.fromisoformat(got["body"]["timestamp"]).tzinfo == dt.UTC
            assert got["body"]["data"]["status"] == "breached"
            assert got["path"].startswith("/demo/receiver/")
        # Nothing looked up in DNS, nothing connected to off the machine.
        assert not log.exists(), log.read_text()

        code = interrupt(proc)
        stderr_text = err.read_text()
        assert code == 130, stderr_text[-2000:]
        assert "Traceback" not in stderr_text
        assert "KeyboardInterrupt" not in stderr_text
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if con is not None:
            await con.close()
        admin = await dbmod.connect(database_url)
        await admin.execute(f'drop schema if exists "{schema}" cascade')
        await admin.close()


@pytest.mark.database  # the commands start the embedded Postgres in KPI_DATA_DIR
def test_embedded_postgres_without_runtime_dir_warnings_started_or_joined(
    tmp_path: Path,
) -> None:
    """With XDG_RUNTIME_DIR unset, no command prints platformdirs' warning; the first says it
    starts the embedded Postgres, a second one while the first runs says it uses that one,
    and Ctrl-C stops the server cleanly."""
    env = kpi_env(KPI_DATA_DIR=str(tmp_path / "data"))
    env.pop("XDG_RUNTIME_DIR", None)
    port = free_port()
    err = tmp_path / "err"
    with err.open("wb") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    try:
        try:
            wait_for("the server", lambda: _answers(f"http://127.0.0.1:{port}/healthz"))
        except AssertionError as exc:
            raise AssertionError(f"{exc}; its stderr: {err.read_text()[-3000:]}") from None
        joined = subprocess.run(
            [sys.executable, "-m", "service.cli", "migrate"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert joined.returncode == 0, joined.stderr
        assert joined.stdout == "schema is up to date\n"
        data = tmp_path / "data"
        assert joined.stderr == (
            f"KPI_DATABASE_URL not set: using the embedded Postgres at {data} (already running)\n"
        )
        code = interrupt(server)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    stderr_text = err.read_text()
    assert code == 130, stderr_text[-2000:]
    plain = [line for line in stderr_text.splitlines() if not line.startswith("{")]
    # Everything but the JSON log lines: what a person reads.
    assert plain == [f"KPI_DATABASE_URL not set: starting embedded Postgres in {data}",
                     "interrupted"]  # fmt: skip
    assert "XDG_RUNTIME_DIR" not in stderr_text and "Traceback" not in stderr_text
    # The server stopped with the last command using it.
    assert not (data / "pgdata" / "postmaster.pid").exists()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_receiver_is_reached_on_loopback_when_the_server_listens_everywhere() -> None:
    assert receiver_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/demo/receiver"
    assert receiver_url("0.0.0.0", 8080) == "http://127.0.0.1:8080/demo/receiver"
    assert receiver_url("::", 8000) == "http://[::1]:8000/demo/receiver"
    assert receiver_url("::1", 8000) == "http://[::1]:8000/demo/receiver"
    assert receiver_url("localhost", 9000) == "http://localhost:9000/demo/receiver"
