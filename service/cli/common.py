"""What the `kpi` commands share: a connection to a migrated database, errors and progress
bars on stderr."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

from service import db as dbmod
from service.clock import utc_now
from service.config import Settings
from service.db import Connection
from service.embedded import database_url
from service.errors import ApiError
from service.models.audit import Actor
from service.progress import Progress
from service.usecases import calendars, measure

#: The checkout the package runs from (schema files, benchmarks).
REPO_ROOT = Path(__file__).resolve().parents[2]

#: Work done with one connection; its result is the exit code.
Work = Callable[[Connection], Coroutine[Any, Any, int]]


class Subcommands(Protocol):
    """What a command group registers its subcommands with (argparse's add_subparsers())."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


def print_err(message: str) -> None:
    print(message, file=sys.stderr)


def progress_bar(
    args: argparse.Namespace, label: str, total: int | None = None, **kw: Any
) -> Progress:
    """A progress bar on stderr: drawn on a terminal only, never with --no-progress."""
    return Progress(label, total, enabled=False if args.no_progress else None, **kw)


def quiet_parent() -> argparse.ArgumentParser:
    """The --no-progress option of the commands that draw a progress bar."""
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument("--no-progress", action="store_true",
                       help="no progress bar (drawn only when stderr is a terminal; "
                       "KPI_PROGRESS=0/1 forces it off/on)")  # fmt: skip
    return quiet


def actor_option(parser: argparse.ArgumentParser) -> None:
    """--actor: who the audit trail records as making the command's changes."""
    parser.add_argument("--actor", default=argparse.SUPPRESS,
                        help="who the audit trail records as making the changes "
                        "(default: the OS user)")  # fmt: skip


def command_actor(args: argparse.Namespace) -> Actor:
    """The --actor given, else the OS user running the command."""
    given = getattr(args, "actor", None)
    if given:
        return Actor(given)
    try:
        return Actor(getpass.getuser())
    except (KeyError, OSError):  # no name for the uid (a container's user)
        return Actor(f"uid {os.getuid()}")


async def _with_connection(url: str, settings: Settings, work: Work) -> int:
    con = await dbmod.connect_for_migrations(settings, url)
    try:
        await dbmod.migrate(con, settings.db_schema)
        await calendars.record(con, settings, utc_now())
        return await work(con)
    finally:
        await con.close()


def run(settings: Settings, work: Work) -> int:
    """Run `work` on a migrated database (embedded when no URL is set); an ApiError it raises
    is printed with its fields, exit code 1."""
    measure.use_settings(settings)
    calendars.use_settings(settings)
    with database_url(settings) as url:
        try:
            return asyncio.run(_with_connection(url, settings, work))
        except ApiError as exc:
            print_err(f"error: {exc.detail}")
            for err in exc.errors:
                print_err(f"  {err.field or 'body'}: {err.detail}")
            return 1
