"""`kpi export-csv`, run as a command against a schema of its own: a read's CSV written to a
file (the same rows the API answers), and refusals that leave no file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.usecases.test_imports import Cli, kpi

__all__ = ["kpi"]  # the fixture, imported for the tests below


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n")  # RFC 4180 line ends
    return list(csv.reader(io.StringIO(raw.decode(), newline="")))


async def test_export_csv_writes_a_series_to_a_file(kpi: Cli, tmp_path: Path) -> None:
    points = kpi.write(
        "points.csv",
        "kpi,service,ts,value\n"
        "orders,web,2026-11-02T09:00:00Z,120\n"
        "orders,web,2026-11-02T18:00:00Z,30\n"
        "orders,web,2026-11-03T09:00:00Z,-5\n",
    )
    assert kpi("import", "observations", points).returncode == 0
    out = tmp_path / "orders.csv"
    read = (
        "/v1/kpis/orders/series?service=web&grain=day"
        "&from=2026-11-02T00:00:00Z&to=2026-11-04T00:00:00Z"
    )
    done = kpi("export-csv", read, "-o", str(out))
    assert done.returncode == 0, done.stderr
    # orders sums its points: 2 November 120 + 30 = 150 from 2 points, 3 November -5 (a
    # negative number stays a number: no formula guard).
    assert read_csv(out) == [
        ["bucket", "value", "count", "complete"],
        ["2026-11-02T00:00:00Z", "150.0", "2", "true"],
        ["2026-11-03T00:00:00Z", "-5.0", "1", "true"],
    ]

    # To stdout, with ?format=json overruled: the command writes CSV only.
    done = kpi("export-csv", read + "&format=json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "bucket,value,count,complete"


async def test_export_csv_refusals_leave_no_file(kpi: Cli, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = kpi("export-csv", "/v1/kpis/nothing/series", "-o", str(out))
    assert done.returncode == 1
    assert "error: /v1/kpis/nothing/series: 404" in done.stderr
    done = kpi("export-csv", "/v1/incidents?limit=0", "-o", str(out))
    assert done.returncode == 1
    assert "422" in done.stderr and "limit:" in done.stderr
    done = kpi("export-csv", "/v1/teams", "-o", str(out))
    assert done.returncode == 1
    assert "no read that answers CSV has this path" in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["catalog.yaml"]  # the fixture's only
