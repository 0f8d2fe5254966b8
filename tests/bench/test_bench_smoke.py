"""The benchmarks still run end to end (tiny sizes; the figures themselves are not judged)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def _bench(database_url: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "bench", *args],
        env={**os.environ, "KPI_DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("ingest-bulk", "--batches", "2", "--batch-size", "300", "--workers", "1"),
         ["ingest-bulk: 600 points", "baseline raw asyncpg COPY", "HTTP JSON batches",
          "HTTP NDJSON stream"]),
        (("ingest-webhook", "--requests", "30", "--concurrency", "2", "--rate", "20",
          "--seconds", "0.5", "--workers", "1"),
         ["closed loop, 2 senders", "fixed rate 20 req/s", "stored: 240 applied deliveries"]),
        (("kpi-compute", "--services", "20", "--incidents", "2000", "--changes", "2000",
          "--repeat", "1"),
         ["kpi-compute: 2,000 incidents, 2,000 changes, 20 services", "one service (",
          "fleet (20 services", "ratio ours/baseline", "same numbers: yes"]),
    ],
)  # fmt: skip
def test_benchmark_smoke_run(database_url: str, args: tuple[str, ...], expected: list[str]) -> None:
    out = _bench(database_url, *args)
    for text in expected:
        assert text in out, out


def test_load_smoke_run(database_url: str) -> None:
    """`kpi bench load` for a few seconds: every kind is sent, none fails, nothing acked is lost."""
    out = _bench(database_url, "load", "--seconds", "3", "--concurrency", "2", "--workers", "1",
                 "--services", "20", "--batch-size", "100", "--json")  # fmt: skip
    report = json.loads(out)
    for kind in ("webhook", "observations", "graphql"):
        assert report["kinds"][kind]["requests"] > 0, report["kinds"]
        assert report["kinds"][kind]["items"] > 0, report["kinds"]
    assert report["errors"] == 0 and report["warm_up_errors"] == 0, report["error_samples"]
    verification = report["verification"]
    assert verification["summary"].endswith(", 0 missing"), verification
    assert verification["deliveries"] > 0 and verification["points"] > 0, verification
