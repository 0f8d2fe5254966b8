"""`kpi bench graphql-portal` still runs end to end against PostGraphile (tiny sizes; the
figures themselves are not judged)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_graphql_portal_smoke_run(database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "bench", "graphql-portal", "--services", "12",
         "--periods", "2", "--page", "10", "--requests", "4", "--rounds", "2", "--warmup", "1",
         "--concurrency", "2", "--concurrent-requests", "4"],
        env={**os.environ, "KPI_DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    for text in (
        "graphql-portal: 12 services",
        "cores: ",
        "page: 10 services",
        "same facts: yes",
        "ours ",
        "postgraphile ",
        "ratio ours/postgraphile: p50",
        "stock graphql-core alone, completing our answer from memory: ",
    ):
        assert text in out, out  # fmt: skip
