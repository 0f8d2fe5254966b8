"""CSV answers of the leaders' reads: series, scorecard, status history, incidents, changes and
the service report, each parsed back with the csv module and compared with the JSON answer of
the same request; the negotiation (`?format=`, Accept with q-values, 406) and the formula
guard on text that tools sent."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from service.rest import incidents as incidents_rest
from tests.conftest import app_client
from tests.usecases.test_reports import NOW, Headers, add_incident, add_service, at, send
from tests.usecases.test_reports_board import board

CSV_TYPE = "text/csv; charset=utf-8; header=present"


@pytest.fixture
async def clocked(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its clock stopped at NOW (20 March 2026, 12:00 UTC)."""
    async with app_client(con, settings, lambda: NOW) as client:
        yield client


async def csv_rows(
    client: httpx.AsyncClient, headers: Headers, path: str, params: dict[str, Any] | None = None,
    *, accept: str | None = None,
) -> tuple[list[str], list[dict[str, str]], httpx.Response]:  # fmt: skip
    """The CSV answer's header and rows (by ?format=csv, or by `accept` when given)."""
    params = dict(params or {})
    extra = dict(headers)
    if accept is None:
        params["format"] = "csv"
    else:
        extra["Accept"] = accept
    r = await client.get(path, params=params, headers=extra)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == CSV_TYPE
    assert r.headers["vary"] == "Accept"
    # RFC 4180: every line ends with CRLF (a line break inside a quoted cell stays as sent).
    assert r.text.endswith("\r\n")
    reader = csv.DictReader(io.StringIO(r.text, newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows, r


def unguarded(cell: str) -> str:
    """A text cell as sent: the formula guard added one leading quote."""
    return cell[1:] if cell.startswith("'") else cell


def same(cell: str, value: Any) -> bool:
    """Whether a CSV cell says what the JSON value says."""
    if value is None:
        return cell == ""
    if isinstance(value, dict):
        return bool(json.loads(cell) == value)
    if isinstance(value, bool):
        return cell == ("true" if value else "false")
    if isinstance(value, int):
        return cell == str(value)
    if isinstance(value, float):
        return float(cell) == value
    return bool(unguarded(cell) == value)


#: The nested objects of the rows: their fields are columns of their own (a map is one cell).
NESTED = {"driver"}


def flat(item: dict[str, Any]) -> dict[str, Any]:
    """A JSON object's fields by column name, a nested object's as parent.field."""
    out: dict[str, Any] = {}
    for name, value in item.items():
        if name in NESTED:
            out |= {f"{name}.{k}": v for k, v in (value or {}).items()}
        else:
            out[name] = value
    return out


def assert_rows_equal(
    header: list[str], rows: list[dict[str, str]], items: list[dict[str, Any]]
) -> None:
    assert len(rows) == len(items)
    for row, item in zip(rows, items, strict=True):
        fields = flat(item)
        for column in header:
            value = fields.get(column)  # a null nested object: its columns are empty
            assert same(row[column], value), (column, row[column], value)


async def test_scorecard_and_status_history_as_csv_equal_the_json(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await board(clocked, admin)
    card = await send(clocked, reader, "GET", "/v1/scorecard", status=200)
    header, rows, r = await csv_rows(clocked, reader, "/v1/scorecard")
    assert r.headers["content-disposition"] == 'attachment; filename="scorecard.csv"'
    assert header[:4] == ["kpi", "name", "unit", "cadence"]
    assert "driver.service" in header and "driver" not in header
    assert_rows_equal(header, rows, card["items"])
    # Hand-worked in tests/usecases/test_reports_board.py: February's revenue is 90 + 30 =
    # 120 against a target of 100 and a warning of 130: at risk, up from January's 100.
    revenue = next(row for row in rows if row["kpi"] == "revenue")
    assert (revenue["value"], revenue["target"], revenue["status"]) == ("120.0", "100.0",
                                                                       "at_risk")  # fmt: skip
    assert (revenue["previous_value"], revenue["trend"], revenue["complete"]) == (
        "100.0", "improving", "true")  # fmt: skip

    await send(clocked, admin, "POST", "/v1/evaluate", {"kpi": "revenue"}, status=200)
    history = await send(clocked, reader, "GET", "/v1/kpis/revenue/status-history", status=200)
    # Asked for by Accept alone, with q-values: CSV (0.9) over JSON (0.5).
    header, rows, r = await csv_rows(
        clocked, reader, "/v1/kpis/revenue/status-history",
        accept="application/json;q=0.5, text/csv;q=0.9",
    )  # fmt: skip
    assert r.headers["content-disposition"] == 'attachment; filename="revenue-status-history.csv"'
    assert len(history) >= 1
    assert_rows_equal(header, rows, history)
    assert rows[0]["period_start"] == "2026-02-01T00:00:00Z"


async def test_series_as_csv_equals_the_json(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await board(clocked, admin)
    params = {"grain": "month", "from": at("01-01T00:00"), "to": at("04-01T00:00")}
    series = await send(clocked, reader, "GET", "/v1/kpis/revenue/series", params=params,
                        status=200)  # fmt: skip
    header, rows, r = await csv_rows(clocked, reader, "/v1/kpis/revenue/series", params)
    assert r.headers["content-disposition"] == 'attachment; filename="revenue-series.csv"'
    assert header == ["bucket", "value", "count", "complete"]
    assert_rows_equal(header, rows, series["points"])
    # January 100; February 90 + 30 = 120 from 2 points; March 500 so far (under way).
    assert [(r["bucket"][:7], r["value"], r["count"], r["complete"]) for r in rows] == [
        ("2026-01", "100.0", "1", "true"), ("2026-02", "120.0", "2", "true"),
        ("2026-03", "500.0", "1", "false"),
    ]  # fmt: skip


#: Titles as tools send them: a formula, a quote, a comma and a line break, a leading minus.
TITLES = [
    '=HYPERLINK("https://evil.example","Click")',
    'Checkout, payments "down"\nsecond line',
    "-5% orders",
    "@SUM(A1:A2)",
    "'quoted",
    "plain",
]


async def test_incidents_as_csv_stream_in_pages_equal_to_the_json(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two rows a statement: the 5 incidents asked for come in pages of 2, 2 and 1.
    monkeypatch.setattr(incidents_rest, "CSV_PAGE", 2)
    await add_service(clocked, admin, "shop", 2)
    for n, title in enumerate(TITLES):
        await add_incident(clocked, admin, f"i{n}", "shop", "sev2", f"03-0{n + 1}T10:00",
                           f"03-0{n + 1}T11:00", title=title, users_affected=10 * n)  # fmt: skip
    params = {"service": "shop", "limit": "5"}
    listed = await send(clocked, reader, "GET", "/v1/incidents", params=params, status=200)
    header, rows, r = await csv_rows(clocked, reader, "/v1/incidents", params)
    assert r.headers["content-disposition"] == 'attachment; filename="incidents.csv"'
    assert "service_id" not in header
    assert len(listed) == 5
    assert_rows_equal(header, rows, listed)
    # Newest first: the 6th incident (plain) down to the 2nd; the 1st is past the limit.
    assert [row["external_id"] for row in rows] == ["i5", "i4", "i3", "i2", "i1"]
    by_id = {row["external_id"]: row for row in rows}
    assert by_id["i1"]["title"] == 'Checkout, payments "down"\nsecond line'
    assert by_id["i2"]["title"] == "'-5% orders"
    assert by_id["i3"]["title"] == "'@SUM(A1:A2)"
    assert by_id["i4"]["title"] == "''quoted"
    assert by_id["i5"]["title"] == "plain"
    assert by_id["i2"]["users_affected"] == "20"
    # The raw text: the cell with a quote, a comma and a line break is quoted, its quotes
    # doubled (RFC 4180 section 2, rules 6 and 7).
    assert '"Checkout, payments ""down""\nsecond line"' in r.text

    # Paging on: before the last id shown, the rest.
    rest = await send(clocked, reader, "GET", "/v1/incidents",
                      params={"service": "shop", "before": rows[-1]["id"]}, status=200)  # fmt: skip
    header, rows, _ = await csv_rows(clocked, reader, "/v1/incidents",
                                     {"service": "shop", "before": rows[-1]["id"]})  # fmt: skip
    assert_rows_equal(header, rows, rest)
    assert rows[0]["title"] == "'" + TITLES[0]  # the formula is text, not a formula


async def test_changes_as_csv_equal_the_json(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(incidents_rest, "CSV_PAGE", 2)
    await add_service(clocked, admin, "shop", 2)
    for n, title in enumerate(TITLES[:4]):
        body = {"external_id": f"c{n}", "service": "shop", "environment": "production",
                "kind": "deploy", "status": "failed" if n == 1 else "success", "title": title,
                "finished_at": at(f"03-0{n + 1}T10:00"),
                "labels": {"risk": "high", "team": "=pay"} if n == 2 else {}}  # fmt: skip
        await send(clocked, admin, "POST", "/v1/changes", body, status=200)
    listed = await send(clocked, reader, "GET", "/v1/changes", status=200)
    header, rows, r = await csv_rows(clocked, reader, "/v1/changes")
    assert r.headers["content-disposition"] == 'attachment; filename="changes.csv"'
    assert_rows_equal(header, rows, listed)
    assert [(row["external_id"], row["status"], row["is_production"]) for row in rows] == [
        ("c3", "success", "true"), ("c2", "success", "true"), ("c1", "failed", "true"),
        ("c0", "success", "true"),
    ]  # fmt: skip
    assert rows[-1]["title"] == "'" + TITLES[0]
    # Labels are one cell of compact JSON, keys sorted; it starts with {, so no guard.
    assert (rows[1]["labels"], rows[0]["labels"]) == ('{"risk":"high","team":"=pay"}', "{}")


FIELD = re.compile(r"([a-z0-9_]+)(?:\[([^\]]+)\])?")


def at_path(report: dict[str, Any], path: str) -> Any:
    """The JSON value a report CSV field names: dotted names, a list element by its key."""
    value: Any = report
    for name, key in FIELD.findall(path):
        value = value[name]
        if key:
            value = next(
                item for item in value
                if key in (item.get("severity"), item.get("service"), item.get("currency"),
                           item.get("category"))
            )  # fmt: skip
    return value


async def test_service_report_as_csv_is_one_row_per_figure(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await add_service(clocked, admin, "shop", 2)
    # Two overlapping sev1 outages, 10:00-12:00 and 11:00-13:00: 180 minutes merged.
    await add_incident(clocked, admin, "a", "shop", "sev1", "03-02T10:00", "03-02T12:00")
    await add_incident(clocked, admin, "b", "shop", "sev1", "03-02T11:00", "03-02T13:00")
    cost = {"service": "shop", "category": "cloud", "period_start": "2026-03-01",
            "period_end": "2026-03-11", "amount": 1000, "currency": "EUR"}  # fmt: skip
    await send(clocked, admin, "POST", "/v1/costs", [cost], status=200)
    params = {"from": at("03-01T00:00"), "to": at("03-11T00:00")}
    report = await send(clocked, reader, "GET", "/v1/services/shop/report", params=params,
                        status=200)  # fmt: skip
    header, rows, r = await csv_rows(clocked, reader, "/v1/services/shop/report", params)
    assert header == ["field", "value"]
    assert r.headers["content-disposition"] == 'attachment; filename="shop-report.csv"'
    values = {row["field"]: row["value"] for row in rows}
    assert len(values) == len(rows)  # every field once
    for field, cell in values.items():
        assert same(cell, at_path(report, field)), (field, cell)
    # 10 days = 14,400 minutes, 180 of outage: 98.75 %; tier 2's 99.9 % target gives a budget
    # of 14.4 minutes, burnt 180 / 14.4 = 12.5 times: 1 - 12.5 = -11.5 -> -1,150 % left,
    # a negative number kept a number (no formula guard).
    assert float(values["availability.availability"]) == pytest.approx(98.75)
    assert float(values["availability.error_budget_remaining"]) == pytest.approx(-1150.0)
    assert values["availability.error_budget_remaining"].startswith("-")
    assert values["incidents.by_severity[sev1].incidents"] == "2"
    assert values["incidents.by_service[shop].incidents"] == "2"
    assert float(values["spend.currencies[EUR].by_category[cloud].amount"]) == 1000.0
    assert float(values["spend.currencies[EUR].total"]) == 1000.0
    assert values["service"] == "shop"
    # Key fields live in the brackets; the overall group's null keys are left out.
    assert "incidents.by_severity[sev1].severity" not in values
    assert "incidents.overall.severity" not in values
    # Every figure of the JSON answer is a row: count the leaves that are not key fields.
    assert len(rows) == leaves(report)


def leaves(value: Any, element: bool = False) -> int:
    """Figures of a JSON tree, without the key fields of list elements and null key fields."""
    keys = {"severity", "service", "currency", "category"}
    if isinstance(value, dict):
        return sum(leaves(v) for k, v in value.items()
                   if not (k in keys and (v is None or element)))  # fmt: skip
    if isinstance(value, list):
        return sum(leaves(v, element=True) for v in value)
    return 1


async def test_negotiation_prefers_format_then_accept_and_refuses_what_it_lacks(
    clocked: httpx.AsyncClient, reader: Headers
) -> None:
    async def kind(params: dict[str, str], accept: str | None) -> tuple[int, str]:
        headers = dict(reader) | ({"Accept": accept} if accept is not None else {})
        r = await clocked.get("/v1/scorecard", params=params, headers=headers)
        return r.status_code, r.headers["content-type"].split(";")[0]

    assert await kind({}, None) == (200, "application/json")
    assert await kind({}, "*/*") == (200, "application/json")  # a tie: JSON
    assert await kind({}, "application/json, text/csv") == (200, "application/json")
    assert await kind({}, "text/*") == (200, "text/csv")
    assert await kind({}, "text/csv;q=0.2, */*;q=0.1") == (200, "text/csv")
    assert await kind({"format": "json"}, "text/csv") == (200, "application/json")
    assert await kind({"format": "CSV"}, "application/json") == (200, "text/csv")

    r = await clocked.get("/v1/scorecard", params={"format": "xlsx"}, headers=reader)
    assert r.status_code == 406
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    detail = "format 'xlsx' is not offered: use json or csv"
    assert problem["errors"] == [{"pointer": "#/format", "field": "format", "detail": detail}]
    r = await clocked.get("/v1/incidents", headers=reader | {"Accept": "application/xml"})
    assert r.status_code == 406
    assert r.json()["header"] == "Accept"
    # JSON answers of these reads vary with Accept too.
    r = await clocked.get("/v1/incidents", headers=reader)
    assert r.headers["vary"] == "Accept"
