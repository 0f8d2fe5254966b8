"""`kpi bench kpi-compute` keeps a generated data set in a schema and times it again without
generating it (tiny sizes; the figures themselves are not judged)."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys

from service import db as dbmod

SIZES = ("--services", "20", "--incidents", "2000", "--changes", "2000", "--repeat", "1")


def _bench(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", "bench", "kpi-compute", *args],
        env={**os.environ, "KPI_DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


async def _drop(database_url: str, schema: str) -> None:
    con = await dbmod.connect(database_url)
    try:
        await con.execute(f'drop schema if exists "{schema}" cascade')
    finally:
        await con.close()


def test_kept_schema_is_timed_again_without_generating(database_url: str) -> None:
    schema = f"kpi_bench_kept_{secrets.token_hex(4)}"
    try:
        kept = _bench(database_url, *SIZES, "--keep-schema", schema)
        assert kept.returncode == 0, kept.stderr[-3000:]
        reused = _bench(database_url, *SIZES, "--reuse-schema", schema)
        assert reused.returncode == 0, reused.stderr[-3000:]
        for out in (kept.stdout, reused.stdout):
            for text in ("kpi-compute: 2,000 incidents, 2,000 changes, 20 services",
                         "one service (", "fleet (20 services", "ratio ours/baseline",
                         "same numbers: yes"):  # fmt: skip
                assert text in out, out
        # The same data set: the same figures, line for line (timings aside).
        figures = [
            [line for line in out.splitlines() if "availability" in line or "MTTR" in line]
            for out in (kept.stdout, reused.stdout)
        ]
        assert figures[0] == figures[1] and figures[0], figures

        # --explain prints the plan of each statement timed, the service's three and the
        # baseline, for both cases, with the arguments each statement takes.
        explained = _bench(database_url, *SIZES, "--reuse-schema", schema, "--explain")
        assert explained.returncode == 0, explained.stderr[-3000:]
        for name in ("outage_seconds", "incident_resolution_by_severity", "change_stats",
                     "baseline"):  # fmt: skip
            for kind in ("service", "fleet"):
                assert f"EXPLAIN ANALYZE {name} ({kind}):" in explained.stdout, explained.stdout
        assert explained.stdout.count("Execution Time:") == 8, explained.stdout

        other = _bench(database_url, "--services", "21", *SIZES[2:], "--reuse-schema", schema)
        assert other.returncode != 0 and "holds another data set" in other.stderr, other.stderr
        again = _bench(database_url, *SIZES, "--keep-schema", schema)
        assert again.returncode != 0 and "exists" in again.stderr, again.stderr
    finally:
        asyncio.run(_drop(database_url, schema))
