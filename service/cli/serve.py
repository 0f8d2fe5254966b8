"""`kpi serve` (with --demo: demo data and a read token first) and `kpi migrate`."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import sys

from service import db as dbmod
from service.cli.common import Subcommands, print_err, progress_bar, run
from service.config import Settings
from service.db import Connection
from service.embedded import database_url
from service.models.enums import Scope
from service.web.demo_receiver import receiver_url


def register(sub: Subcommands, quiet: argparse.ArgumentParser) -> None:
    serve = sub.add_parser(
        "serve", parents=[quiet], help="run the HTTP server (embedded Postgres if no URL)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="load demo data and print a token")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply pending migrations").set_defaults(func=cmd_migrate)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    async def work(con: Connection) -> int:
        print("schema is up to date")
        return 0

    return run(settings, work)


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
            # The demo's webhooks go to the receiver the server serves itself, and the
            # outbound rules let exactly that URL through: the demo calls nothing outside.
            receiver = receiver_url(args.host, args.port)
            os.environ["KPI_DEMO_RECEIVER_URL"] = receiver
            asyncio.run(_load_demo(url, settings, args, receiver))
        serve.run(
            args.host, args.port, args.workers, log_level=settings.log_level,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )  # fmt: skip
    return 0


async def _load_demo(url: str, settings: Settings, args: argparse.Namespace, receiver: str) -> None:
    from service.demo import evaluate_history, load_demo
    from service.usecases.tokens import create_token

    host, port = args.host, args.port
    con = await dbmod.connect_for_migrations(settings, url)
    try:
        await dbmod.migrate(con, settings.db_schema)
        # Counted in units of unequal cost: the bar shows the share done and the ETA.
        with progress_bar(args, "loading demo data", counted=False) as bar:
            report, result = await load_demo(con, progress=bar.update, receiver=receiver)
        with progress_bar(args, "evaluating history") as bar:
            statuses = await evaluate_history(
                con, dt.datetime.now(dt.UTC), periods_back=6, progress=bar.update
            )
        token = await create_token(con, name="demo-reader", scopes=[Scope.READ])
    finally:
        await con.close()
    print_err(
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
    print("escalation notifications (sent to this server's own receiver, nothing leaves it):")
    print(f"  curl -s '{receiver}' -H 'Authorization: Bearer {token.token}'")
    sys.stdout.flush()
