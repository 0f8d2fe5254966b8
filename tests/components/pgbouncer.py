"""PgBouncer (Debian's pgbouncer, 1.18) in transaction mode on a free 127.0.0.1 port in front
of a test's Postgres, and a role of its own whose settings stand in for those the service
sends at connect when nothing stands between them (PgBouncer refuses them there)."""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from service import db as dbmod
from tests.components.support import running
from tests.reliability.support import free_port


@dataclass(frozen=True)
class Upstream:
    """Where a Postgres URL points: host (or Unix socket directory), port, database, user."""

    host: str
    port: int
    dbname: str
    user: str

    @classmethod
    def of(cls, url: str) -> Upstream:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        host = parts.hostname or query.get("host", ["127.0.0.1"])[0]
        port = parts.port or int(query.get("port", ["5432"])[0])
        dbname = unquote(parts.path.lstrip("/")) or "postgres"
        return cls(host, port, dbname, unquote(parts.username or "postgres"))


@dataclass(frozen=True)
class Bouncer:
    port: int
    upstream: Upstream
    log: Path
    ini: Path
    pid: int

    def url(self, user: str) -> str:
        """A URL of the upstream database through PgBouncer, as `user`."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{self.upstream.dbname}"

    def repoint(self, upstream_url: str) -> None:
        """Send new server connections to `upstream_url`'s server (after a failover): its
        host and port written into the [databases] entry, then RELOAD (SIGHUP). PgBouncer
        closes its connections to the old server as they come back."""
        upstream = Upstream.of(upstream_url)
        text = self.ini.read_text()
        line = next(x for x in text.splitlines() if x.startswith("* = "))
        self.ini.write_text(text.replace(line, _database_line(upstream)))
        os.kill(self.pid, signal.SIGHUP)


def _database_line(upstream: Upstream) -> str:
    return f"* = host={upstream.host} port={upstream.port}"


def _config(
    directory: Path, port: int, upstream: Upstream, users: list[str], extra: dict[str, str]
) -> Path:
    (directory / "userlist.txt").write_text("".join(f'"{u}" ""\n' for u in users))
    ini = directory / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"{_database_line(upstream)}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {directory / 'userlist.txt'}\n"
        "pool_mode = transaction\n"
        "max_client_conn = 500\n"
        "default_pool_size = 20\n"
        # What the service's own pool does: a server connection goes back as it is, the
        # service keeping no session state.
        "server_reset_query =\n" + "".join(f"{name} = {value}\n" for name, value in extra.items())
    )
    for path in (directory, directory / "userlist.txt", ini):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return ini


def _wait_for_port(
    port: int, process: subprocess.Popen[bytes], log: Path, within: float = 15
) -> None:
    deadline = time.monotonic() + within
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"PgBouncer did not listen on {port}:\n{log.read_text()}")
        time.sleep(0.05)


@contextlib.contextmanager
def pgbouncer(
    program: str, upstream_url: str, users: list[str], settings: dict[str, str] | None = None
) -> Iterator[Bouncer]:
    """PgBouncer in transaction mode in front of `upstream_url`'s server, letting `users` in
    (trust: the server's own authentication is the one that counts), with `settings` added to
    its [pgbouncer] section; stopped on exit. Run as root, it drops to `nobody`, as PgBouncer
    refuses to run as root."""
    upstream = Upstream.of(upstream_url)
    with tempfile.TemporaryDirectory(prefix="kpi-pgbouncer-") as tmp:
        directory = Path(tmp)
        port = free_port()
        ini = _config(directory, port, upstream, users, settings or {})
        args = [program, str(ini)]
        if os.geteuid() == 0:
            args[1:1] = ["-u", pwd.getpwnam("nobody").pw_name]
        log = directory / "pgbouncer.log"
        with running(args, log) as process:
            _wait_for_port(port, process, log)
            yield Bouncer(port, upstream, log, ini, process.pid)


def names(prefix: str) -> tuple[str, str]:
    """A fresh role and schema name for one run."""
    tag = f"{os.getpid()}_{secrets.token_hex(3)}"
    return f"{prefix}_role_{tag}", f"{prefix}_{tag}"


async def create_pooled_role(direct_url: str, role: str, schema: str) -> None:
    """A throwaway role whose sessions search `schema` and run with the service's settings:
    what ALTER ROLE does for the service behind PgBouncer (README, PgBouncer)."""
    con = await dbmod.connect(direct_url)
    try:
        await con.execute(f'create role "{role}" login superuser')
        await con.execute(f'alter role "{role}" set search_path = "{schema}"')
        for name, value in dbmod.SESSION_SETTINGS.items():
            await con.execute(f"alter role \"{role}\" set {name} = '{value}'")
    finally:
        await con.close()


async def drop_pooled_role(direct_url: str, role: str, schema: str) -> None:
    con = await dbmod.connect(direct_url)
    try:
        await con.execute(f'drop schema if exists "{schema}" cascade')
        await con.execute(f'drop owned by "{role}" cascade')
        await con.execute(f'drop role if exists "{role}"')
    finally:
        await con.close()


@contextlib.asynccontextmanager
async def pooled_role(direct_url: str, prefix: str) -> AsyncIterator[tuple[str, str]]:
    """A fresh (role, schema) for one run, dropped with everything it owns afterwards."""
    role, schema = names(prefix)
    await create_pooled_role(direct_url, role, schema)
    try:
        yield role, schema
    finally:
        await drop_pooled_role(direct_url, role, schema)
