"""Progress bars (terminal only) and `kpi import` of observations and costs from files."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from time_machine import TimeMachineFixture

from service import db as dbmod
from service.demo import (
    demo_budgets,
    demo_changes,
    demo_costs,
    demo_incidents,
    demo_points,
    evaluate_history,
    load_demo,
    starter_catalog,
)
from service.progress import Progress
from service.usecases.catalog_file import apply_catalog

UTC = dt.UTC


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _no_progress_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KPI_PROGRESS", raising=False)


@pytest.fixture
def clock(time_machine: TimeMachineFixture) -> TimeMachineFixture:
    """The clock tqdm reads, stopped: it moves only by `clock.shift(seconds)`."""
    time_machine.move_to(dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC), tick=False)
    return time_machine


def _run_four_items(stream: io.StringIO, clock: TimeMachineFixture, **kw: Any) -> None:
    # Started at 0 s; items done at 0.5 s, 0.55 s (too soon to redraw), 1 s and 2 s.
    with Progress("items", 4, stream=stream, width=80, **kw) as bar:
        for seconds in (0.5, 0.05, 0.45, 1.0):
            clock.shift(seconds)
            bar.advance()


#: 80 columns: the bar takes what the text around it leaves, 80 - 12 ("items:  25%|") - 30
#: ("| 1/4 [00:00<00:01,  2.00it/s]") = 38 columns. A StringIO has no encoding, so tqdm
#: draws in ASCII: "#" a full column, a digit the tenths of the column being filled.
FOUR_ITEMS = (
    # 0 % drawn at the start; ETA and rate unknown: 80 - 12 - 22 = 46 empty columns.
    "\ritems:   0%|" + " " * 46 + "| 0/4 [00:00<?, ?it/s]"
    # 1 item in 0.5 s: 2/s, 3 left: ETA 1.5 s (shown 00:01); 25 % of 38 = 9.5 columns.
    "\ritems:  25%|#########5                            | 1/4 [00:00<00:01,  2.00it/s]"
    # No 2/4: done at 0.55 s, 0.05 s after the last draw, less than tqdm's 0.1 s apart.
    # 3 items in 1 s: 3/s, ETA 1/3 s; 75 % of 38 = 28.5 columns.
    "\ritems:  75%|############################5         | 3/4 [00:01<00:00,  3.00it/s]"
    # 4 items in 2 s: 2/s; the bar full only now, at 100 %.
    "\ritems: 100%|######################################| 4/4 [00:02<00:00,  2.00it/s]"
)
#: At the end tqdm draws the last line once more and ends it.
FOUR_ITEMS_FINAL = (
    "\ritems: 100%|######################################| 4/4 [00:02<00:00,  2.00it/s]\n"
)


def test_bar_on_a_terminal_shows_count_percent_rate_eta_and_ends_with_a_newline(
    clock: TimeMachineFixture,
) -> None:
    tty = FakeTerminal()
    _run_four_items(tty, clock)
    assert tty.getvalue() == FOUR_ITEMS + FOUR_ITEMS_FINAL


def test_without_a_terminal_nothing_is_written(clock: TimeMachineFixture) -> None:
    log = io.StringIO()
    _run_four_items(log, clock)
    assert log.getvalue() == ""


def test_no_progress_and_the_environment_decide_first(
    monkeypatch: pytest.MonkeyPatch, clock: TimeMachineFixture
) -> None:
    tty = FakeTerminal()
    _run_four_items(tty, clock, enabled=False)
    assert tty.getvalue() == ""

    monkeypatch.setenv("KPI_PROGRESS", "0")
    _run_four_items(tty, clock)
    assert tty.getvalue() == ""

    monkeypatch.setenv("KPI_PROGRESS", "1")
    log = io.StringIO()  # not a terminal, drawn all the same
    _run_four_items(log, clock)
    assert log.getvalue() == FOUR_ITEMS + FOUR_ITEMS_FINAL
    quiet = io.StringIO()
    _run_four_items(quiet, clock, enabled=False)  # --no-progress wins over KPI_PROGRESS=1
    assert quiet.getvalue() == ""


def test_the_bar_fills_only_when_done_and_weighted_work_shows_share_and_eta(
    clock: TimeMachineFixture,
) -> None:
    tty = FakeTerminal()
    # As the demo does: the total arrives with the first report, before any work.
    bar = Progress("demo", stream=tty, counted=False, width=80)
    bar.update(0, 100)
    clock.shift(2.0)
    bar.update(40)  # 40 units in 2 s: 20 a second, 60 left: ETA 3 s
    clock.shift(2.9)
    bar.update(98)  # 98 units in 4.9 s: 20 a second, 2 left: ETA 0.1 s
    clock.shift(0.05)
    bar.update(100)  # too soon to redraw
    clock.shift(0.05)
    bar.close()  # all 100 at 5 s
    # No count and no rate: the units are of unequal cost. The bar is 80 - 11 ("demo:  40%|")
    # - 15 ("| [00:02<00:03]") = 54 columns: 40 % is 21.6 of them, 98 % is 52.92 (52 and
    # 9 tenths): not full before 100 %. At the start, ETA unknown: 80 - 11 - 11 = 58 columns.
    empty = "demo:   0%|" + " " * 58 + "| [00:00<?]"
    assert tty.getvalue() == (
        f"\r{empty}\r{empty}"
        "\rdemo:  40%|" + "#" * 21 + "6" + " " * 32 + "| [00:02<00:03]"
        "\rdemo:  98%|" + "#" * 52 + "9" + " " + "| [00:04<00:00]"
        "\rdemo: 100%|" + "#" * 54 + "| [00:05<00:00]\n"
    )


def test_unknown_total_counts_bytes(clock: TimeMachineFixture) -> None:
    tty = FakeTerminal()
    bar = Progress("reading", stream=tty, in_bytes=True, width=80)
    clock.shift(0.5)
    bar.update(3 * 1024 * 1024, postfix="12 rows")
    clock.shift(1.5)
    bar.close()
    # 3 MiB = 3,145,728 bytes, shown with SI prefixes as 3.15MB: 6.29MB/s in 0.5 s,
    # 1.57MB/s in 2 s. No total: no bar and no ETA.
    assert tty.getvalue() == (
        "\rreading: 0.00B [00:00, ?B/s]"
        "\rreading: 3.15MB [00:00, 6.29MB/s, 12 rows]"
        "\rreading: 3.15MB [00:02, 1.57MB/s, 12 rows]\n"
    )


def test_a_failure_erases_the_bar_and_echo_keeps_output_above_it(
    clock: TimeMachineFixture,
) -> None:
    # As in `kpi replay`: the bar on stderr, the lines echoed on stdout, one terminal.
    tty, out = FakeTerminal(), io.StringIO()
    with contextlib.redirect_stderr(tty), contextlib.redirect_stdout(out):
        with pytest.raises(RuntimeError):
            with Progress("items", 2, width=80) as bar:
                clock.shift(0.5)
                bar.advance()
                bar.echo("delivery 1: applied")
                raise RuntimeError("stop")
    # 1 of 2 in 0.5 s: 2/s, ETA 0.5 s; the bar 80 - 12 - 30 = 38 columns, half of them full.
    start = "\ritems:   0%|" + " " * 46 + "| 0/2 [00:00<?, ?it/s]"  # 80 - 12 - 22
    line = "\ritems:  50%|" + "#" * 19 + " " * 19 + "| 1/2 [00:00<00:00,  2.00it/s]"
    blank = "\r" + " " * 80 + "\r"  # the bar erased: before the echo, then for the failure
    assert tty.getvalue() == f"{start}{line}{blank}{line}{blank}"
    assert out.getvalue() == "delivery 1: applied\n"


async def test_apply_and_demo_report_progress(con: dbmod.Connection) -> None:
    calls: list[tuple[int, int]] = []
    await apply_catalog(
        con, starter_catalog(), dry_run=True, progress=lambda d, t: calls.append((d, t))
    )
    # 4 teams, 6 services, 4 outcomes and 16 KPIs in the starter catalog.
    assert calls == [(n, 30) for n in range(1, 31)]

    calls.clear()
    today = dt.date(2026, 11, 23)
    await load_demo(con, today=today, progress=lambda d, t: calls.append((d, t)))
    points = len(list(demo_points(today)))
    costs = len(demo_costs(today)) + len(demo_budgets(today))
    incidents, changes = len(demo_incidents(today)), len(demo_changes(today))
    # Weighted by what each item costs to load: 32 catalog entries (the starter catalog's 30
    # and the demo's two initiatives) of 150 units, a unit per point, cost record and budget,
    # 57 per incident or change.
    total = 32 * 150 + (points + costs) * 1 + (incidents + changes) * 57
    assert calls[0] == (0, total)  # the total is known before any work
    assert calls[-1] == (total, total)  # and reached exactly at the end
    assert {t for _, t in calls} == {total}
    assert calls == sorted(calls)  # never goes back
    # The catalog's 32 entries come first, one call each, then the points, and the cost
    # records with the budgets (a step each), then every incident and change.
    assert calls[32] == (32 * 150, total)
    assert calls[33:35] == [(32 * 150 + points, total), (32 * 150 + points + costs, total)]
    assert len(calls) == 1 + 32 + 2 + incidents + changes

    calls.clear()
    now = dt.datetime(2026, 11, 23, tzinfo=UTC)
    await evaluate_history(con, now, periods_back=2, progress=lambda d, t: calls.append((d, t)))
    # 16 KPIs of the starter catalog, each with a cadence, two periods each: 32 steps.
    assert calls == [(n, 32) for n in range(33)]


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

    def __call__(
        self, *args: str, stdin: str | None = None, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "KPI_PROGRESS"}
        env.update(KPI_DATABASE_URL=self.database_url, KPI_DB_SCHEMA=self.schema, **extra)
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


async def test_the_import_bar_counts_rows(kpi: Cli) -> None:
    """The bar counts rows, as the README says: 4 rows in 5 non-blank lines (the header is
    not a row, the blank line not counted), 4/4 at the end; from stdin, the rows read."""
    text = (
        "kpi,service,ts,value\n"
        "orders,,2026-11-02T00:00:00Z,120\n"
        "\n"
        "orders,,2026-11-03T00:00:00Z,121\n"
        "patch_compliance,web,2026-11-02T00:00:00Z,96\n"
        "patch_compliance,erp,2026-11-02T00:00:00Z,91\n"
    )
    path = kpi.write("rows.csv", text)
    drawn = kpi("import", "observations", path, KPI_PROGRESS="1")
    assert drawn.returncode == 0, drawn.stderr
    # Each redraw is a line here (text mode reads the carriage returns as line ends). stderr
    # is a pipe of no known width: tqdm's bar of 10 columns, in Unicode blocks (UTF-8).
    lines = [line for line in drawn.stderr.splitlines() if line]
    assert lines[-1].startswith("importing rows.csv: 100%|██████████| 4/4 [00:"), lines[-1]
    assert re.fullmatch(r".*\| 4/4 \[00:\d\d<00:00, +\d+\.\d\dit/s\]", lines[-1]), lines[-1]
    # Full only at 100 %; 4 rows, never 5 (the blank line) nor bytes.
    assert [line.startswith("importing rows.csv: 100%|") for line in lines] == [
        "██████████" in line for line in lines
    ]
    assert all(re.search(r"\| [0-4]/4 \[", line) for line in lines), lines
    assert "B/s" not in drawn.stderr

    piped = kpi("import", "observations", "--format", "csv", "-", stdin=text, KPI_PROGRESS="1")
    assert piped.returncode == 0, piped.stderr
    # From stdin the total is known at the end only: the rows read, 4/4.
    final = piped.stderr.splitlines()[-1]
    assert final.startswith("importing <stdin>: 100%|██████████| 4/4 [00:"), final


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
