"""`kpi apply`: a catalog YAML file (KPIs as code) applied, or its changes shown."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from service.background import allow_list
from service.cli.common import (
    Subcommands,
    actor_option,
    command_actor,
    print_err,
    progress_bar,
    run,
)
from service.config import Settings
from service.db import Connection
from service.errors import from_pydantic
from service.models.audit import ApplyFile, AuditVia
from service.usecases import audit


def register(sub: Subcommands, quiet: argparse.ArgumentParser) -> None:
    apply = sub.add_parser(
        "apply", parents=[quiet],
        help="apply a catalog YAML file (KPIs as code), OpenSLO v1 documents included",
    )  # fmt: skip
    apply.add_argument("-f", "--file", required=True)
    apply.add_argument("--dry-run", action="store_true", help="show the changes, make none")
    actor_option(apply)
    apply.set_defaults(func=cmd_apply)


def cmd_apply(args: argparse.Namespace, settings: Settings) -> int:
    from service.usecases.catalog_documents import (
        apply_documents,
        catalog_sections,
        openslo_documents,
    )
    from service.usecases.catalog_file import CatalogFile

    try:
        raw = Path(args.file).read_bytes()
        documents = list(yaml.safe_load_all(raw.decode()))
        openslo = openslo_documents(documents)
        data = _secrets_from_environment(catalog_sections(documents))
        catalog = CatalogFile.model_validate(data)
    except KeyError as exc:
        print_err(f"error: {exc.args[0]}")
        return 2
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        print_err(f"error: cannot read {args.file}: {exc}")
        return 2
    except ValidationError as exc:
        problem = from_pydantic(exc)
        print_err(f"error: {args.file} is not a valid catalog")
        for err in problem.errors:
            print_err(f"  {err.field}: {err.detail}")
        return 2

    async def work(con: Connection) -> int:
        with progress_bar(args, "applying catalog") as bar:
            report = await apply_documents(
                con, catalog, openslo, dry_run=args.dry_run, progress=bar.update,
                allow=allow_list(settings),
            )  # fmt: skip
        for change in report.changes:
            print(f"{'would ' if args.dry_run else ''}{change.action} {change.kind} {change.key}")
            for name, (old, new) in change.fields.items():
                print(
                    f"    {name}: {json.dumps(old, default=str)} -> {json.dumps(new, default=str)}"
                )
        verb = "would change" if args.dry_run else "changed"
        print(f"{verb} {len(report.changes)}, unchanged {report.unchanged}")
        return 0

    # Recorded in the audit trail as applied from this file, by whoever runs the command.
    applied = ApplyFile(args.file, hashlib.sha256(raw).hexdigest())
    with audit.acting(command_actor(args), AuditVia.APPLY, applied):
        return run(settings, work)


def _secrets_from_environment(data: Any) -> Any:
    """Sources and data sources may name an environment variable (secret_env) instead of
    writing the secret."""
    if isinstance(data, dict):
        for section in ("sources", "data_sources"):
            for i, source in enumerate(data.get(section) or []):
                if isinstance(source, dict) and "secret_env" in source:
                    name = source.pop("secret_env")
                    if name not in os.environ:
                        raise KeyError(f"{section}.{i}.secret_env: {name} is not set")
                    source["secret"] = os.environ[name]
    return data
