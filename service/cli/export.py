"""`kpi export`: schema.graphql and openapi/openapi.json written from the code, or checked."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from service.cli.common import REPO_ROOT, Subcommands, print_err
from service.config import Settings


def register(sub: Subcommands, quiet: argparse.ArgumentParser) -> None:
    export = sub.add_parser("export", help="write schema.graphql and openapi/openapi.json")
    export.add_argument("--check", action="store_true", help="fail if the files are stale")
    export.add_argument("--passes", type=int, default=3, help=argparse.SUPPRESS)
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


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
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
