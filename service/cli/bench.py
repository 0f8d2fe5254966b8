"""`kpi bench`: a benchmark of the repository's bench/ package (a development install)."""

from __future__ import annotations

import argparse
import sys

from service.cli.common import REPO_ROOT, Subcommands, print_err
from service.config import Settings


def register(sub: Subcommands, quiet: argparse.ArgumentParser) -> None:
    bench = sub.add_parser("bench", help="run a benchmark (see README, Performance)")
    bench.add_argument("name")
    bench.add_argument("extra", nargs=argparse.REMAINDER)
    bench.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Run a benchmark from the repository's bench/ package (a development install)."""
    if not (REPO_ROOT / "bench" / "__init__.py").is_file():
        print_err(
            "the benchmarks live in the repository's bench/ directory and run from a checkout "
            "with a development install (pip install -e .): see the README, Performance"
        )
        return 2
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from bench import run_benchmark

    return run_benchmark(args.name, args.extra)
