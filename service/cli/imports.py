"""`kpi import`: observation points or cost records bulk-loaded from CSV or NDJSON files."""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from service import progress
from service.cli.common import Subcommands, print_err, progress_bar, run
from service.config import Settings
from service.db import Connection


def register(sub: Subcommands, quiet: argparse.ArgumentParser) -> None:
    imports = sub.add_parser(
        "import", help="bulk-load observation points or cost records from CSV or NDJSON files"
    ).add_subparsers(dest="kind", required=True)
    for kind, what in (("observations", "observation points"), ("costs", "cost records")):
        one = imports.add_parser(
            kind, parents=[quiet], help=f"import {what}: each file in one transaction"
        )
        one.add_argument("files", nargs="+", metavar="FILE",
                         help=".csv, .ndjson or .jsonl; - reads stdin (with --format)")  # fmt: skip
        one.add_argument("--format", choices=["csv", "ndjson"], help="default: from the suffix")
        one.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from service.usecases import imports

    importer = (
        imports.import_costs if args.kind == "costs"
        else functools.partial(imports.import_observations, settings=settings)
    )  # fmt: skip
    if args.files.count("-") > 1:
        print_err("error: - (stdin) can be given once")
        return 2
    plan: list[tuple[str, imports.Format]] = []
    for path in args.files:
        try:
            plan.append((path, imports.format_for(path, args.format)))
        except imports.ImportFailed as exc:
            print_err(f"error: {exc}")
            return 2
        if path != "-" and not Path(path).is_file():
            print_err(f"error: cannot read {path}: no such file")
            return 2

    async def one_file(con: Connection, path: str, fmt: imports.Format) -> int:
        name = "<stdin>" if path == "-" else path
        try:
            stream = sys.stdin.buffer if path == "-" else open(path, "rb")
        except OSError as exc:
            print_err(f"error: cannot read {name}: {exc.strerror or exc}")
            return 2
        try:
            with progress_bar(args, f"importing {Path(name).name}", rows_in(path, fmt)) as bar:
                summary = await importer(
                    con, stream, name=name, fmt=fmt,
                    on_read=lambda _, rows: bar.update(rows),
                )  # fmt: skip
                # The rows read are the total (a CSV cell spanning lines was counted twice).
                bar.update(summary.rows, total=summary.rows)
        except imports.ImportFailed as exc:
            for line in exc.lines():
                print_err(f"error: {line}")
            print_err(f"error: nothing of {name} was imported")
            return 2
        finally:
            if path != "-":
                stream.close()
        print(f"{name}: rows {summary.rows}, inserted {summary.inserted}, "
              f"updated {summary.updated}, unchanged {summary.unchanged}, "
              f"duplicates {summary.duplicates}")  # fmt: skip
        sys.stdout.flush()
        return 0

    def rows_in(path: str, fmt: imports.Format) -> int | None:
        """The bar's total: the file's rows, counted ahead (stdin cannot be read twice)."""
        if path == "-" or not progress.wanted(sys.stderr, False if args.no_progress else None):
            return None
        with open(path, "rb") as ahead:
            return imports.count_rows(ahead, fmt) or None

    async def work(con: Connection) -> int:
        for path, fmt in plan:
            if code := await one_file(con, path, fmt):
                return code
        return 0

    return run(settings, work)
