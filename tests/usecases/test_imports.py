"""Progress bars (terminal only) and `kpi import` of observations and costs from files."""

from __future__ import annotations

import datetime as dt
import io
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from service import db as dbmod
from service.demo import (
    demo_changes,
    demo_costs,
    demo_incidents,
    demo_points,
    load_demo,
    starter_catalog,
)
from service.progress import Progress
from service.usecases.catalog_file import apply_catalog

UTC = dt.UTC


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _clock(*times: float) -> Iterator[float]:
    return iter(times)


@pytest.fixture(autouse=True)
def _no_progress_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KPI_PROGRESS", raising=False)


def _run_four_items(stream: io.StringIO, **kw: Any) -> None:
    # Started at 0 s; items done at 0.5 s, 0.55 s (too soon to redraw), 1 s and 2 s.
    clock = _clock(0.0, 0.5, 0.55, 1.0, 2.0, 2.0)
    with Progress("items", 4, stream=stream, width=80, clock=lambda: next(clock), **kw) as bar:
        for _ in range(4):
            bar.advance()


def test_bar_on_a_terminal_shows_count_percent_rate_eta_and_ends_with_a_newline() -> None:
    tty = FakeTerminal()
    _run_four_items(tty)
    assert tty.getvalue() == (
        "\ritems [######..................] 1/4  25.0% 2/s ETA -:--"
        "\ritems [##################......] 3/4  75.0% 3/s ETA 0:00"
        "\ritems [########################] 4/4 100.0% 2/s ETA 0:00"
        "\ritems [########################] 4/4 100.0% 2/s in 0:02 \n"
    )


def test_without_a_terminal_nothing_is_written() -> None:
    log = io.StringIO()
    _run_four_items(log)
    assert log.getvalue() == ""


def test_no_progress_and_the_environment_decide_first(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = FakeTerminal()
    _run_four_items(tty, enabled=False)
    assert tty.getvalue() == ""

    monkeypatch.setenv("KPI_PROGRESS", "0")
    _run_four_items(tty)
    assert tty.getvalue() == ""

    monkeypatch.setenv("KPI_PROGRESS", "1")
    log = io.StringIO()
    _run_four_items(log)
    assert log.getvalue().endswith("\ritems [########################] 4/4 100.0% 2/s in 0:02 \n")
    quiet = io.StringIO()
    _run_four_items(quiet, enabled=False)  # --no-progress wins over KPI_PROGRESS=1
    assert quiet.getvalue() == ""


def test_unknown_total_spins_and_counts_bytes() -> None:
    tty = FakeTerminal()
    clock = _clock(0.0, 0.5, 2.0)
    bar = Progress("reading", stream=tty, in_bytes=True, width=80, clock=lambda: next(clock))
    bar.update(3 * 1024 * 1024, postfix="12 rows")
    bar.close()
    first = "reading | 3.0 MiB 6.0 MiB/s elapsed 0:00 12 rows"
    final = "reading 3.0 MiB 1.5 MiB/s in 0:02 12 rows"
    assert tty.getvalue() == f"\r{first}\r{final}{' ' * (len(first) - len(final))}\n"


def test_a_failure_erases_the_bar_and_echo_keeps_output_above_it() -> None:
    tty, out = FakeTerminal(), io.StringIO()
    clock = _clock(0.0, 0.5, 0.5)
    with pytest.raises(RuntimeError):
        with Progress("items", 2, stream=tty, width=80, clock=lambda: next(clock)) as bar:
            bar.advance()
            bar.echo("delivery 1: applied", file=out)
            raise RuntimeError("stop")
    line = "items [############............] 1/2  50.0% 2/s ETA -:--"
    blank = "\r" + " " * len(line) + "\r"
    assert tty.getvalue() == f"\r{line}{blank}\r{line}{blank}"
    assert out.getvalue() == "delivery 1: applied\n"


async def test_apply_and_demo_report_progress(con: dbmod.Connection) -> None:
    calls: list[tuple[int, int]] = []
    await apply_catalog(
        con, starter_catalog(), dry_run=True, progress=lambda d, t: calls.append((d, t))
    )
    # 4 teams, 6 services, 4 outcomes and 13 KPIs in the starter catalog.
    assert calls == [(n, 27) for n in range(1, 28)]

    calls.clear()
    today = dt.date(2026, 11, 23)
    await load_demo(con, today=today, progress=lambda d, t: calls.append((d, t)))
    # The demo adds its two initiatives to the starter catalog's 27 entries.
    total = (
        27
        + 2
        + sum(len(list(f(today))) for f in (demo_points, demo_costs, demo_incidents, demo_changes))
    )
    assert calls[-1] == (total, total)
    assert calls == sorted(calls)  # never goes back


# --- kpi import, run as a command against a schema of its own ---------------------------

CATALOG = """\
teams:
  - {slug: ops, name: Ops}
services:
  - {slug: web, name: Web, tier: 1, team: ops}
  - {slug: erp, name: ERP, tier: 2, team: ops}
kpis:
  - {key: patch_compliance, name: Patch compliance, unit: percent,
     direction: higher_is_better, aggregation: avg}
  - {key: orders, name: Orders, unit: orders, direction: higher_is_better, aggregation: sum}
"""


class Cli:
    def __init__(self, database_url: str, schema: str, tmp: Path) -> None:
        self.database_url, self.schema, self.tmp = database_url, schema, tmp

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "KPI_PROGRESS"}
        env.update(KPI_DATABASE_URL=self.database_url, KPI_DB_SCHEMA=self.schema)
        return subprocess.run(
            [sys.executable, "-m", "service.cli", *args],
            input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip

    def write(self, name: str, text: str) -> str:
        path = self.tmp / name
        path.write_text(text)
        return str(path)

    async def fetch(self, query: str) -> list[tuple[Any, ...]]:
        con = await dbmod.connect(self.database_url, self.schema)
        try:
            return [tuple(r) for r in await con.fetch(query)]
        finally:
            await con.close()


@pytest.fixture
async def kpi(database_url: str, tmp_path: Path) -> AsyncIterator[Cli]:
    cli = Cli(database_url, f"kpi_import_{secrets.token_hex(4)}", tmp_path)
    applied = cli("apply", "-f", cli.write("catalog.yaml", CATALOG))
    assert applied.returncode == 0, applied.stderr
    try:
        yield cli
    finally:
        con = await dbmod.connect(database_url)
        await con.execute(f'drop schema if exists "{cli.schema}" cascade')
        await con.close()


POINTS = """\
select k.key, s.slug, o.ts, o.value, o.dimensions, o.source, o.revision
from observation o join kpi k on k.id = o.kpi_id left join business_service s on s.id = o.service_id
order by k.key, s.slug nulls first, o.ts, o.dimensions::text
"""


async def test_import_observations_csv_stores_the_points_and_reimport_changes_nothing(
    kpi: Cli,
) -> None:
    path = kpi.write(
        "points.csv",
        "kpi,service,ts,value,dim.region\n"
        "patch_compliance,web,2026-11-02T09:00:00+01:00,96.4,eu\n"
        "patch_compliance,web,2026-11-02T09:00:00+01:00,97,us\n"
        "orders,,2026-11-02T00:00:00Z,120,\n"
        "\n"
        "patch_compliance,erp,2026-11-02T00:00:00Z,90.5,\n"
        "orders,,2026-11-02T00:00:00Z,125,\n",
    )
    first = kpi("import", "observations", path)
    assert first.returncode == 0, first.stderr
    # Six rows; the last repeats the third's point (orders, no service, same ts): it wins.
    assert first.stdout == f"{path}: rows 5, inserted 4, updated 0, unchanged 0, duplicates 1\n"
    assert first.stderr == ""  # not a terminal: no progress bar at all
    stored = [
        ("orders", None, dt.datetime(2026, 11, 2, tzinfo=UTC), 125.0, {}, None, 1),
        ("patch_compliance", "erp", dt.datetime(2026, 11, 2, tzinfo=UTC), 90.5, {}, None, 1),
        ("patch_compliance", "web", dt.datetime(2026, 11, 2, 8, tzinfo=UTC), 96.4,
         {"region": "eu"}, None, 1),
        ("patch_compliance", "web", dt.datetime(2026, 11, 2, 8, tzinfo=UTC), 97.0,
         {"region": "us"}, None, 1),
    ]  # fmt: skip
    assert await kpi.fetch(POINTS) == stored

    again = kpi("import", "observations", "--no-progress", path)
    assert again.stdout == f"{path}: rows 5, inserted 0, updated 0, unchanged 4, duplicates 1\n"
    assert await kpi.fetch(POINTS) == stored


async def test_import_observations_ndjson_and_stdin(kpi: Cli) -> None:
    lines = (
        '{"kpi": "orders", "ts": "2026-11-03T00:00:00Z", "value": 130, "source": "shop"}\n'
        "\n"
        '{"kpi": "patch_compliance", "service": "web", "ts": "2026-11-03T01:00:00+01:00",'
        ' "value": 95.5, "dimensions": {"region": "eu"}}\n'
    )
    path = kpi.write("points.ndjson", lines)
    first = kpi("import", "observations", path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"{path}: rows 2, inserted 2, updated 0, unchanged 0, duplicates 0\n"
    again = kpi("import", "observations", "--format", "ndjson", "-", stdin=lines)
    assert again.stdout == "<stdin>: rows 2, inserted 0, updated 0, unchanged 2, duplicates 0\n"

    changed = '{"kpi": "orders", "ts": "2026-11-03T00:00:00Z", "value": 131, "source": "shop"}\n'
    third = kpi("import", "observations", kpi.write("more.jsonl", changed))
    assert third.stdout.endswith("rows 1, inserted 0, updated 1, unchanged 0, duplicates 0\n")
    assert await kpi.fetch(POINTS) == [
        ("orders", None, dt.datetime(2026, 11, 3, tzinfo=UTC), 131.0, {}, "shop", 2),
        ("patch_compliance", "web", dt.datetime(2026, 11, 3, tzinfo=UTC), 95.5,
         {"region": "eu"}, None, 1),
    ]  # fmt: skip


async def test_a_bad_row_names_file_line_and_field_and_stores_nothing(kpi: Cli) -> None:
    # 12,000 rows: the bad one is in the third chunk, after two were sent to the database.
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    rows = [f"orders,,{(start + dt.timedelta(minutes=i)).isoformat()},1\n" for i in range(12_000)]
    rows[10_998] = "orders,,2026-11-05T00:00:00Z,abc\n"  # line 11,000 (the header is line 1)
    big = kpi.write("big.csv", "kpi,service,ts,value\n" + "".join(rows))
    bad = kpi("import", "observations", big)
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.splitlines() == [
        f"error: {big}:11000: value: Input should be a valid number",
        f"error: nothing of {big} was imported",
    ]

    unknown = kpi.write(
        "unknown.ndjson",
        '{"kpi": "orders", "ts": "2026-11-03T00:00:00Z", "value": 1}\n\n'
        '{"kpi": "orders", "service": "nope", "ts": "2026-11-03T00:00:00Z", "value": 1}\n',
    )
    bad = kpi("import", "observations", unknown)
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[0] == f"error: {unknown}:3: service: unknown service 'nope'"

    no_zone = kpi.write("zone.csv", "kpi,ts,value,dim.region\norders,2026-11-03T00:00:00,1,eu\n")
    bad = kpi("import", "observations", no_zone)
    assert bad.stderr.splitlines()[0] == f"error: {no_zone}:2: ts: Input should have timezone info"

    typo = kpi.write("typo.csv", "kpi,servce,ts,value\n")
    bad = kpi("import", "observations", typo)
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[0] == (
        f"error: {typo}:1: servce: unknown column; columns are kpi, ts, value, service, "
        "source, dim.<name>"
    )
    assert await kpi.fetch("select count(*) from observation") == [(0,)]


COSTS = """\
select s.slug, c.category, c.period_start, c.period_end, c.amount::text, c.currency, c.note,
       c.source
from cost_record c left join business_service s on s.id = c.service_id
order by s.slug nulls first, c.category
"""


async def test_import_costs_csv_then_again_then_bad_rows(kpi: Cli) -> None:
    header = "service,category,period_start,period_end,amount,currency,note,source\n"
    path = kpi.write(
        "costs.csv",
        header + "web,cloud,2026-10-01,2026-11-01,9120.5,EUR,,finance\n"
        ",staff,2026-10-01,2026-11-01,1050000,EUR,estate-wide,\n"
        "erp,licences,2026-10-01,2026-11-01,3500.25,EUR,,\n",
    )
    first = kpi("import", "costs", path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"{path}: rows 3, inserted 3, updated 0, unchanged 0, duplicates 0\n"
    assert first.stderr == ""
    october, november = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
    stored = [
        (None, "staff", october, november, "1050000.00", "EUR", "estate-wide", None),
        ("erp", "licences", october, november, "3500.25", "EUR", None, None),
        ("web", "cloud", october, november, "9120.50", "EUR", None, "finance"),
    ]
    assert await kpi.fetch(COSTS) == stored
    again = kpi("import", "costs", path)
    assert again.stdout == f"{path}: rows 3, inserted 0, updated 0, unchanged 3, duplicates 0\n"

    record = '{"category": "cloud", "period_start": "2026-10-01", "period_end": "2026-11-01",'
    ndjson = kpi.write("costs.ndjson", record + ' "amount": 10, "currency": "USD"}\n')
    done = kpi("import", "costs", ndjson)
    assert done.stdout == f"{ndjson}: rows 1, inserted 1, updated 0, unchanged 0, duplicates 0\n"
    stored.insert(0, (None, "cloud", october, november, "10.00", "USD", None, None))

    cases = {
        "web,cloud,2026-11-01,2026-11-01,1,EUR,,\n": (
            "period_end: must be after period_start (it is exclusive)"
        ),
        "web,cloud,2026-11-01,2026-12-01,1,eur,,\n": (
            "currency: String should match pattern '^[A-Z]{3}$'"
        ),
        "nope,cloud,2026-11-01,2026-12-01,1,EUR,,\n": "service: unknown service 'nope'",
    }
    for row, message in cases.items():
        bad_path = kpi.write("bad.csv", header + "web,cloud,2026-11-01,2026-12-01,5,EUR,,\n" + row)
        bad = kpi("import", "costs", bad_path)
        assert bad.returncode == 2
        assert bad.stderr.splitlines() == [
            f"error: {bad_path}:3: {message}",
            f"error: nothing of {bad_path} was imported",
        ]
    assert await kpi.fetch(COSTS) == stored  # the good second line of each bad file is not in
