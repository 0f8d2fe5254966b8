"""The `kpi` command: serve, migrate, apply, import, token, doctor, export, bench."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import json
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from service import db as dbmod
from service.config import Settings
from service.embedded import database_url
from service.errors import ApiError, from_pydantic
from service.models.enums import Cadence, Scope
from service.progress import Progress

REPO_ROOT = Path(__file__).resolve().parent.parent


def _print_err(message: str) -> None:
    print(message, file=sys.stderr)


def _progress(
    args: argparse.Namespace, label: str, total: int | None = None, **kw: Any
) -> Progress:
    """A progress bar on stderr: drawn on a terminal only, never with --no-progress."""
    return Progress(label, total, enabled=False if args.no_progress else None, **kw)


async def _with_connection(
    url: str, settings: Settings, work: Callable[[dbmod.Connection], Coroutine[Any, Any, int]]
) -> int:
    con = await dbmod.connect(url, settings.db_schema)
    try:
        await dbmod.migrate(con, settings.db_schema)
        return await work(con)
    finally:
        await con.close()


def _run(settings: Settings, work: Callable[[dbmod.Connection], Coroutine[Any, Any, int]]) -> int:
    with database_url(settings) as url:
        try:
            return asyncio.run(_with_connection(url, settings, work))
        except ApiError as exc:
            _print_err(f"error: {exc.detail}")
            for err in exc.errors:
                _print_err(f"  {err.field or 'body'}: {err.detail}")
            return 1


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    async def work(con: dbmod.Connection) -> int:
        print("schema is up to date")
        return 0

    return _run(settings, work)


def cmd_apply(args: argparse.Namespace, settings: Settings) -> int:
    from service.usecases.catalog_file import CatalogFile, apply_catalog

    try:
        data = _secrets_from_environment(yaml.safe_load(Path(args.file).read_text()) or {})
        catalog = CatalogFile.model_validate(data)
    except KeyError as exc:
        _print_err(f"error: {exc.args[0]}")
        return 2
    except (OSError, yaml.YAMLError) as exc:
        _print_err(f"error: cannot read {args.file}: {exc}")
        return 2
    except ValidationError as exc:
        problem = from_pydantic(exc)
        _print_err(f"error: {args.file} is not a valid catalog")
        for err in problem.errors:
            _print_err(f"  {err.field}: {err.detail}")
        return 2

    async def work(con: dbmod.Connection) -> int:
        with _progress(args, "applying catalog") as bar:
            report = await apply_catalog(con, catalog, dry_run=args.dry_run, progress=bar.update)
        for change in report.changes:
            print(f"{'would ' if args.dry_run else ''}{change.action} {change.kind} {change.key}")
            for name, (old, new) in change.fields.items():
                print(
                    f"    {name}: {json.dumps(old, default=str)} -> {json.dumps(new, default=str)}"
                )
        verb = "would change" if args.dry_run else "changed"
        print(f"{verb} {len(report.changes)}, unchanged {report.unchanged}")
        return 0

    return _run(settings, work)


def _secrets_from_environment(data: Any) -> Any:
    """Sources may name an environment variable (secret_env) instead of writing the secret."""
    if isinstance(data, dict):
        for i, source in enumerate(data.get("sources") or []):
            if isinstance(source, dict) and "secret_env" in source:
                name = source.pop("secret_env")
                if name not in os.environ:
                    raise KeyError(f"sources.{i}.secret_env: {name} is not set")
                source["secret"] = os.environ[name]
    return data


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from service.usecases import ingestion

    async def work(con: dbmod.Connection) -> int:
        ids = args.id or await ingestion.unmapped_delivery_ids(con, source=args.source)
        still = 0
        with _progress(args, "replaying deliveries", len(ids)) as bar:
            for delivery_id in ids:
                outcome = await ingestion.replay_delivery(con, delivery_id)
                bar.echo(f"delivery {delivery_id}: {outcome.status}"
                         + (f" ({outcome.detail})" if outcome.detail else ""))  # fmt: skip
                still += outcome.status == "unmapped"
                bar.advance()
        print(f"replayed {len(ids)}, applied {len(ids) - still}, still unmapped {still}")
        return 0

    return _run(settings, work)


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from service.usecases import imports

    importer = (
        imports.import_costs if args.kind == "costs"
        else functools.partial(imports.import_observations, settings=settings)
    )  # fmt: skip
    if args.files.count("-") > 1:
        _print_err("error: - (stdin) can be given once")
        return 2
    plan: list[tuple[str, imports.Format]] = []
    for path in args.files:
        try:
            plan.append((path, imports.format_for(path, args.format)))
        except imports.ImportFailed as exc:
            _print_err(f"error: {exc}")
            return 2
        if path != "-" and not Path(path).is_file():
            _print_err(f"error: cannot read {path}: no such file")
            return 2

    async def one_file(con: dbmod.Connection, path: str, fmt: imports.Format) -> int:
        name = "<stdin>" if path == "-" else path
        try:
            stream = sys.stdin.buffer if path == "-" else open(path, "rb")
        except OSError as exc:
            _print_err(f"error: cannot read {name}: {exc.strerror or exc}")
            return 2
        size = None if path == "-" else os.fstat(stream.fileno()).st_size
        try:
            with _progress(
                args, f"importing {Path(name).name}", size or None, in_bytes=True
            ) as bar:
                summary = await importer(
                    con, stream, name=name, fmt=fmt,
                    on_read=lambda done, rows: bar.update(done, postfix=f"{rows:,} rows"),
                )  # fmt: skip
        except imports.ImportFailed as exc:
            for line in exc.lines():
                _print_err(f"error: {line}")
            _print_err(f"error: nothing of {name} was imported")
            return 2
        finally:
            if path != "-":
                stream.close()
        print(f"{name}: rows {summary.rows}, inserted {summary.inserted}, "
              f"updated {summary.updated}, unchanged {summary.unchanged}, "
              f"duplicates {summary.duplicates}")  # fmt: skip
        sys.stdout.flush()
        return 0

    async def work(con: dbmod.Connection) -> int:
        for path, fmt in plan:
            if code := await one_file(con, path, fmt):
                return code
        return 0

    return _run(settings, work)


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> int:
    from service.usecases.tokens import create_token

    scopes = [Scope(s) for part in args.scope for s in part.split(",") if s]

    async def work(con: dbmod.Connection) -> int:
        token = await create_token(con, name=args.name, scopes=scopes)
        print(token.token)
        return 0

    return _run(settings, work)


def cmd_token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from service.usecases.tokens import revoke_token

    async def work(con: dbmod.Connection) -> int:
        await revoke_token(con, token_id=args.id)
        _print_err(f"token {args.id} revoked")
        return 0

    return _run(settings, work)


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from service import doctor

    async def work(con: dbmod.Connection) -> int:
        now = dt.datetime.now(dt.UTC)
        return await doctor.run(con, settings, now, print, fold=args.fold_partitions)

    return _run(settings, work)


def cmd_recompute(args: argparse.Namespace, settings: Settings) -> int:
    from service.recompute import recompute

    async def work(con: dbmod.Connection) -> int:
        now = dt.datetime.now(dt.UTC)
        report = await recompute(con, now, dry_run=args.dry_run, progress=_print_err)
        for line in report.lines():
            print(line)
        return 0

    return _run(settings, work)


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from service.clock import utc_now
    from service.models.instants import check_instant
    from service.store import evaluation

    on = None
    if args.period:
        try:
            on = dt.datetime.fromisoformat(args.period)
        except ValueError as exc:
            _print_err(f"error: --period: {exc}")
            return 2
        try:
            on = check_instant("period", on)
        except ApiError as exc:
            _print_err(f"error: --period: {exc.detail} (e.g. 2026-10-15T00:00:00Z)")
            return 2

    async def work(con: dbmod.Connection) -> int:
        cadence = Cadence(args.cadence) if args.cadence else None
        for st in await evaluation.evaluate_on_demand(
            con, kpi=args.kpi, on=on, cadence=cadence, now=utc_now()
        ):
            value = "no value" if st.value is None else f"{st.value:g}"
            target = "" if st.target is None else f" (target {st.target:g})"
            print(f"{st.kpi} {st.service or 'overall'} {st.period_start.date()}: "
                  f"{st.status.value}, {value}{target}, {st.trend.value}")  # fmt: skip
        return 0

    return _run(settings, work)


def cmd_notify_secret(args: argparse.Namespace, settings: Settings) -> int:
    from service.notify import outbox, signing

    configured = settings.notify_secret.get_secret_value() if settings.notify_secret else None
    if configured is not None:
        try:
            print(signing.format_secret(signing.parse_secret(configured)))
        except ValueError as exc:
            _print_err(f"error: KPI_NOTIFY_SECRET: {exc}")
            return 2
        return 0

    async def work(con: dbmod.Connection) -> int:
        print(signing.format_secret(await outbox.signing_secret(con, None)))
        return 0

    return _run(settings, work)


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
        _print_err(f"out of date: {', '.join(map(str, stale))} (run `kpi export`)")
        return 1
    return 0


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from service import logs, serve

    logs.configure(settings.log_level)
    # uvicorn re-raises SIGTERM after its graceful shutdown; turning it into SystemExit lets
    # the embedded Postgres be stopped on the way out instead of being left running.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with database_url(settings) as url:
        os.environ["KPI_DATABASE_URL"] = url
        if args.demo:
            asyncio.run(_load_demo(url, settings, args))
        serve.run(
            args.host, args.port, args.workers, log_level=settings.log_level,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )  # fmt: skip
    return 0


async def _load_demo(url: str, settings: Settings, args: argparse.Namespace) -> None:
    from service.demo import evaluate_history, load_demo
    from service.usecases.tokens import create_token

    host, port = args.host, args.port
    con = await dbmod.connect(url, settings.db_schema)
    try:
        await dbmod.migrate(con, settings.db_schema)
        with _progress(args, "loading demo data") as bar:
            report, result = await load_demo(con, progress=bar.update)
        with _progress(args, "evaluating history") as bar:
            statuses = await evaluate_history(
                con, dt.datetime.now(dt.UTC), periods_back=6, progress=bar.update
            )
        token = await create_token(con, name="demo-reader", scopes=[Scope.READ])
    finally:
        await con.close()
    _print_err(
        f"demo data: {len(report.changes)} catalog changes, {result.points} observation points "
        f"({result.inserted} new), {statuses} KPI statuses evaluated"
    )
    base = f"http://{host}:{port}"
    query = (
        '{"query": "{ services(first: 10) { nodes { slug tier team { name } '
        'kpis { nodes { kpi { key } status { value status } } } } } }"}'
    )
    print(f"read token: {token.token}")
    print("try:")
    print(f"  curl -s {base}/graphql -H 'Authorization: Bearer {token.token}' \\")
    print(f"       -H 'Content-Type: application/json' -d '{query}'")
    print(f"  curl -s '{base}/v1/kpis/it_unit_cost/series?grain=month' "
          f"-H 'Authorization: Bearer {token.token}'")  # fmt: skip
    print(f"  curl -s '{base}/v1/scorecard' -H 'Authorization: Bearer {token.token}'")
    sys.stdout.flush()


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Run a benchmark from the repository's bench/ package (a development install)."""
    if not (REPO_ROOT / "bench" / "__init__.py").is_file():
        _print_err(
            "the benchmarks live in the repository's bench/ directory and run from a checkout "
            "with a development install (pip install -e .): see the README, Performance"
        )
        return 2
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from bench import run_benchmark

    return run_benchmark(args.name, args.extra)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kpi", description="KPI service")
    sub = p.add_subparsers(dest="command", required=True)
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument("--no-progress", action="store_true",
                       help="no progress bar (drawn only when stderr is a terminal; "
                       "KPI_PROGRESS=0/1 forces it off/on)")  # fmt: skip

    serve = sub.add_parser(
        "serve", parents=[quiet], help="run the HTTP server (embedded Postgres if no URL)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="load demo data and print a token")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply pending migrations").set_defaults(func=cmd_migrate)

    replay = sub.add_parser("replay", parents=[quiet], help="replay unmapped webhook deliveries")
    replay.add_argument("--source", help="only this source's deliveries")
    replay.add_argument("--id", type=int, action="append", help="this delivery (repeatable)")
    replay.set_defaults(func=cmd_replay)

    apply = sub.add_parser(
        "apply", parents=[quiet], help="apply a catalog YAML file (KPIs as code)"
    )
    apply.add_argument("-f", "--file", required=True)
    apply.add_argument("--dry-run", action="store_true", help="show the changes, make none")
    apply.set_defaults(func=cmd_apply)

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

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="action", required=True)
    create = token.add_parser("create", help="create a token and print it alone on stdout")
    create.add_argument("--name", required=True)
    create.add_argument("--scope", action="append", required=True,
                        help="read, ingest or admin (repeat or comma-separate)")  # fmt: skip
    create.set_defaults(func=cmd_token_create)
    revoke = token.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=cmd_token_revoke)

    doctor = sub.add_parser(
        "doctor", help="find stored data the current rules refuse (exit 1 if any), and the fix"
    )
    doctor.add_argument(
        "--fold-partitions", action="store_true",
        help="first move far monthly observation partitions into the default one",
    )  # fmt: skip
    doctor.set_defaults(func=cmd_doctor)

    recompute = sub.add_parser(
        "recompute",
        help="rebuild incidents, changes, links and stored statuses from what was sent",
    )
    recompute.add_argument("--dry-run", action="store_true", help="count, change nothing")
    recompute.set_defaults(func=cmd_recompute)

    evaluate = sub.add_parser("evaluate", help="evaluate KPIs now, store statuses, escalate")
    evaluate.add_argument("--kpi", help="one KPI key (default: every KPI with a cadence)")
    evaluate.add_argument("--period", help="an instant inside the period (default: last closed)")
    evaluate.add_argument("--cadence", choices=[c.value for c in Cadence],
                          help="default: the KPI's own")  # fmt: skip
    evaluate.set_defaults(func=cmd_evaluate)

    sub.add_parser(
        "notify-secret", help="print the secret (whsec_...) that verifies notifications"
    ).set_defaults(func=cmd_notify_secret)

    export = sub.add_parser("export", help="write schema.graphql and openapi/openapi.json")
    export.add_argument("--check", action="store_true", help="fail if the files are stale")
    export.set_defaults(func=cmd_export)

    bench = sub.add_parser("bench", help="run a benchmark (see README, Performance)")
    bench.add_argument("name")
    bench.add_argument("extra", nargs=argparse.REMAINDER)
    bench.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "scope", None):
        try:
            [Scope(s) for part in args.scope for s in part.split(",") if s]
        except ValueError as exc:
            _print_err(f"error: {exc}; scopes are read, ingest, admin")
            return 2
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    return func(args, Settings())


if __name__ == "__main__":
    sys.exit(main())
