"""Benchmarks run on demand with `kpi bench <name>`; each prints its baseline ratio."""

from __future__ import annotations

import importlib

BENCHMARKS = {
    "ingest-bulk": "service.bench.ingest_bulk",
    "ingest-webhook": "service.bench.ingest_webhook",
    "kpi-compute": "service.bench.kpi_compute",
    "load": "service.bench.load",
    "series": "service.bench.series",
    "graphql-portal": "service.bench.graphql_portal",
    "memory": "service.bench.memory",
}


def run_benchmark(name: str, argv: list[str]) -> int:
    if name not in BENCHMARKS:
        print(f"unknown benchmark {name!r}; known: {', '.join(sorted(BENCHMARKS))}")
        return 2
    module = importlib.import_module(BENCHMARKS[name])
    code: int = module.main(argv)
    return code
