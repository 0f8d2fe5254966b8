"""`kpi export`: schema.graphql and openapi/openapi.json written from the code, or checked."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from service.cli.common import REPO_ROOT, Subcommands, print_err
from service.config import Settings


def register(sub: Subcommands, quiet: argparse.ArgumentParser) -> None:
    export = sub.add_parser("export", help="write schema.graphql and openapi/openapi.json")
    export.add_argument("--check", action="store_true", help="fail if the files are stale")
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
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(REPO_ROOT)}")
    if stale:
        print_err(f"out of date: {', '.join(map(str, stale))} (run `kpi export`)")
        return 1
    return 0
