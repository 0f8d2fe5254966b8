"""`kpi bench memory` runs end to end on a tiny stream (the figures themselves are not judged)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_memory_bench_smoke_run(database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "bench", "memory", "--points", "20000",
         "--samples", "4"],
        env={**os.environ, "KPI_DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for text in ("memory: one NDJSON stream of 20,000 points", "cores", "worker pid",
                 "idle", "100% sent", "answered", "max growth over idle",
                 "growth over the second half"):  # fmt: skip
        assert text in out, out
