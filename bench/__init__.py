"""Benchmarks, run on demand from a checkout: `kpi bench <name>` from a development install
(pip install -e .), or `python -m bench <name>` from the repository root. Each measures its
baseline in the same run and prints the ratio."""

from __future__ import annotations

import importlib

BENCHMARKS = {
    "ingest-bulk": "bench.ingest_bulk",
    "ingest-webhook": "bench.ingest_webhook",
    "kpi-compute": "bench.kpi_compute",
    "load": "bench.load",
    "series": "bench.series",
    "graphql-portal": "bench.graphql_portal",
    "memory": "bench.memory",
}


def run_benchmark(name: str, argv: list[str]) -> int:
    if name not in BENCHMARKS:
        print(f"unknown benchmark {name!r}; known: {', '.join(sorted(BENCHMARKS))}")
        return 2
    module = importlib.import_module(BENCHMARKS[name])
    code: int = module.main(argv)
    return code
