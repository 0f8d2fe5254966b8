"""`kpi doctor`, `recompute`, `replay` and `evaluate`: stored data checked, rebuilt, replayed
or evaluated again."""

from __future__ import annotations

import argparse
import datetime as dt

from service.cli.common import Subcommands, print_err, progress_bar, run
from service.config import Settings
from service.db import Connection
from service.errors import ApiError
from service.models.enums import Cadence


def register(sub: Subcommands, quiet: argparse.ArgumentParser) -> None:
    replay = sub.add_parser("replay", parents=[quiet], help="replay unmapped webhook deliveries")
    replay.add_argument("--source", help="only this source's deliveries")
    replay.add_argument("--id", type=int, action="append", help="this delivery (repeatable)")
    replay.set_defaults(func=cmd_replay)

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


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from service.usecases import ingestion

    async def work(con: Connection) -> int:
        ids = args.id or await ingestion.unmapped_delivery_ids(con, source=args.source)
        still = 0
        with progress_bar(args, "replaying deliveries", len(ids)) as bar:
            for delivery_id in ids:
                outcome = await ingestion.replay_delivery(con, delivery_id)
                bar.echo(f"delivery {delivery_id}: {outcome.status}"
                         + (f" ({outcome.detail})" if outcome.detail else ""))  # fmt: skip
                still += outcome.status == "unmapped"
                bar.advance()
        print(f"replayed {len(ids)}, applied {len(ids) - still}, still unmapped {still}")
        return 0

    return run(settings, work)


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from service.usecases import doctor

    async def work(con: Connection) -> int:
        now = dt.datetime.now(dt.UTC)
        return await doctor.run(con, settings, now, print, fold=args.fold_partitions)

    return run(settings, work)


def cmd_recompute(args: argparse.Namespace, settings: Settings) -> int:
    from service.models.retention import observations_horizon
    from service.usecases.recompute import recompute

    async def work(con: Connection) -> int:
        now = dt.datetime.now(dt.UTC)
        report = await recompute(
            con, now, dry_run=args.dry_run, progress=print_err,
            keep_before=observations_horizon(now, settings),
        )  # fmt: skip
        for line in report.lines():
            print(line)
        return 0

    return run(settings, work)


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from service.clock import utc_now
    from service.models.instants import check_instant
    from service.usecases import evaluation

    on = None
    if args.period:
        try:
            on = dt.datetime.fromisoformat(args.period)
        except ValueError as exc:
            print_err(f"error: --period: {exc}")
            return 2
        try:
            on = check_instant("period", on)
        except ApiError as exc:
            print_err(f"error: --period: {exc.detail} (e.g. 2026-10-15T00:00:00Z)")
            return 2

    async def work(con: Connection) -> int:
        cadence = Cadence(args.cadence) if args.cadence else None
        for st in await evaluation.evaluate_on_demand(
            con, kpi=args.kpi, on=on, cadence=cadence, now=utc_now()
        ):
            value = "no value" if st.value is None else f"{st.value:g}"
            target = "" if st.target is None else f" (target {st.target:g})"
            print(f"{st.kpi} {st.service or 'overall'} {st.period_start.date()}: "
                  f"{st.status.value}, {value}{target}, {st.trend.value}")  # fmt: skip
        return 0

    return run(settings, work)
