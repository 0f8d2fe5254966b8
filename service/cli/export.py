"""`kpi export`: schema.graphql and openapi/openapi.json written from the code, or checked;
with --openslo, the catalog's objectives as OpenSLO documents."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml

from service.cli.common import REPO_ROOT, Subcommands, print_err, run
from service.config import Settings
from service.db import Connection


def register(sub: Subcommands, quiet: argparse.ArgumentParser) -> None:
    export = sub.add_parser(
        "export", help="write schema.graphql and openapi/openapi.json (or, with --openslo, SLOs)"
    )
    export.add_argument("--check", action="store_true", help="fail if the files are stale")
    export.add_argument("--passes", type=int, default=3, help=argparse.SUPPRESS)
    export.add_argument(
        "--openslo", action="store_true", help="write the catalog's objectives as OpenSLO"
    )
    export.add_argument(
        "--openslo-version", choices=("v1", "v1alpha"), default="v1",
        help="v1 (default), or v1alpha for Sloth",
    )  # fmt: skip
    export.add_argument("--out", help="with --openslo: the file to write (default: stdout)")
    export.set_defaults(func=cmd_export)


def exported_files() -> dict[Path, str]:
    """The checked-in schema files, as the code generates them now."""
    from service.app import all_endpoints
    from service.graphql.schema import build_schema
    from service.ingest.sources.generated import generated_files
    from service.openapi import build_openapi

    sdl = build_schema(Settings()).as_str() + "\n"
    spec = json.dumps(build_openapi(all_endpoints()), indent=2, sort_keys=False) + "\n"
    return {REPO_ROOT / "schema.graphql": sdl, REPO_ROOT / "openapi" / "openapi.json": spec,
            **generated_files(REPO_ROOT)}  # fmt: skip


def cmd_export_openslo(args: argparse.Namespace, settings: Settings) -> int:
    from service.usecases.openslo_write import export_openslo

    async def work(con: Connection) -> int:
        documents = await export_openslo(con, args.openslo_version)
        text = yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True)
        if args.out:
            Path(args.out).write_text(text)
            print_err(f"wrote {len(documents)} documents to {args.out}")
        else:
            sys.stdout.write(text)
        return 0

    return run(settings, work)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    if args.openslo:
        return cmd_export_openslo(args, settings)
    if args.out or args.openslo_version != "v1":
        print_err("error: --out and --openslo-version go with --openslo")
        return 2
    stale = []
    for path, text in exported_files().items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.relative_to(REPO_ROOT))
        elif not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            stale.append(path.relative_to(REPO_ROOT))
            print(f"wrote {path.relative_to(REPO_ROOT)}")
    if args.check and stale:
        print_err(f"out of date: {', '.join(map(str, stale))} (run `kpi export`)")
        return 1
    if stale and args.passes > 1:
        # What was written is read by the next pass (a new package joins SOURCES, a new kind
        # the models): run again in a fresh interpreter until nothing changes.
        again = [sys.executable, "-m", "service.cli", "export", "--passes", str(args.passes - 1)]
        return subprocess.run(again, check=False).returncode
    if stale:
        print_err("the files still changed on the last pass: run `kpi export` again")
        return 1
    return 0
