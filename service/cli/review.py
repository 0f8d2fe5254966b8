"""`kpi review QUARTER`: the quarterly review of a closed calendar quarter, as the printable
HTML document or as JSON, written to a file or stdout, straight from the database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from service.cli.common import Subcommands, run
from service.clock import utc_now
from service.config import Settings
from service.db import Connection
from service.usecases import reviews
from service.web.review_page import render_review


def register(sub: Subcommands, quiet: argparse.ArgumentParser) -> None:
    review = sub.add_parser(
        "review", help="write the quarterly review of a closed quarter (HTML or JSON)"
    )
    review.add_argument("quarter", help="a calendar quarter that has ended, e.g. 2026-Q3")
    review.add_argument("-o", "--out", default="-", help="the file (default: - for stdout)")
    review.add_argument("--format", choices=("html", "json"), default="html")
    review.set_defaults(func=cmd_review)


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    async def work(con: Connection) -> int:
        review = await reviews.quarterly_review(
            con, quarter=args.quarter, now=utc_now(),
            min_periods=settings.initiative_min_periods,
        )  # fmt: skip
        text = render_review(review) if args.format == "html" else review.model_dump_json()
        if args.out == "-":
            sys.stdout.write(text)
        else:
            Path(args.out).write_text(text, encoding="utf-8")
        return 0

    return run(settings, work)
