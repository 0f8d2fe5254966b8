"""`kpi bench series` still runs end to end (tiny sizes; the figures themselves are not judged)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_series_benchmark_smoke_run(database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "bench", "series", "--observations", "5000",
         "--services", "10", "--kpis", "8", "--board", "4", "--years", "2", "--repeat", "1",
         "--time-zone", "Europe/Berlin"],
        env={**os.environ, "KPI_DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for text in ("series: ", "8 KPIs (4 board-level), 10 services", "cores",
                 "series: o1_kpi_", "grain day in Europe/Berlin",
                 "scorecard, nothing stored: 4 board-level KPIs",
                 "scorecard, statuses stored: 4 board-level KPIs", "ratio ours/baseline",
                 "same numbers: yes"):  # fmt: skip
        assert text in out, out
