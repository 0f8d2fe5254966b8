"""KPIs, their points and their series through the REST API, for the tests that check series
figures over hand-picked instants in UTC."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

Headers = dict[str, str]
UTC = dt.UTC


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def iso(ts: dt.datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


async def make_kpi(api: httpx.AsyncClient, admin: Headers, key: str, **fields: Any) -> None:
    """A KPI that sums its points, unless `fields` say otherwise."""
    body = {
        "key": key, "name": f"KPI {key}", "unit": "count", "direction": "higher_is_better",
        "aggregation": "sum", **fields,
    }  # fmt: skip
    r = await api.post("/v1/kpis", json=body, headers=admin)
    assert r.status_code == 201, r.text


async def observe(
    api: httpx.AsyncClient, admin: Headers, key: str, points: list[tuple[dt.datetime, float]],
    service: str | None = None,
) -> None:  # fmt: skip
    body = [{"kpi": key, "service": service, "ts": iso(ts), "value": v} for ts, v in points]
    r = await api.post("/v1/observations", json=body, headers=admin)
    assert r.status_code == 200, r.text


async def series(
    api: httpx.AsyncClient, headers: Headers, key: str, **params: str
) -> list[tuple[str, float | None, int]]:
    """The series' points as (bucket, value, count)."""
    r = await api.get(f"/v1/kpis/{key}/series", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return [(p["bucket"], p["value"], p["count"]) for p in r.json()["points"]]
