"""The `kpi` command: serve, migrate, apply, import, token, doctor, export, review, bench.
Each module of this package registers one group of subcommands."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from service.cli import (
    bench,
    catalog,
    credentials,
    csv_export,
    export,
    imports,
    maintenance,
    review,
    serve,
)
from service.cli.common import actor_option, command_actor, print_err, quiet_parent
from service.config import Settings
from service.models.audit import AuditVia
from service.models.enums import Scope
from service.usecases import audit

#: The exit code after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130

#: Subcommand groups in the order `kpi --help` lists them.
GROUPS = (
    serve,
    maintenance,
    catalog,
    imports,
    credentials,
    export,
    csv_export,
    review,
    bench,
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kpi", description="KPI service")
    actor_option(p)
    sub = p.add_subparsers(dest="command", required=True)
    quiet = quiet_parent()
    for group in GROUPS:
        group.register(sub, quiet)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "scope", None):
        try:
            [Scope(s) for part in args.scope for s in part.split(",") if s]
        except ValueError as exc:
            print_err(f"error: {exc}; scopes are read, ingest, admin")
            return 2
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        if args.command == "serve":  # requests record their own tokens as actors
            return func(args, Settings())
        with audit.acting(command_actor(args), AuditVia.CLI):
            return func(args, Settings())
    except KeyboardInterrupt:
        # Ctrl-C: the work has unwound (the server shut down, an open transaction rolled
        # back, the embedded Postgres stopped): no traceback, the shell's code for SIGINT.
        print_err("interrupted")
        return EXIT_INTERRUPTED
