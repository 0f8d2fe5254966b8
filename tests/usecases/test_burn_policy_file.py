"""Burn-rate policies in a catalog file: set with the KPI, reapplied as no change, changed
rule by rule, removed with null, and refused naming the entry's field."""

from __future__ import annotations

from typing import Any

import pytest

from service import db as dbmod
from service.errors import ApiError
from service.store import burn_alerts as store
from service.store import kpis
from service.usecases.catalog_file import CatalogFile, apply_catalog

UPTIME = {"key": "uptime", "name": "Uptime", "unit": "percent",
          "direction": "higher_is_better", "kind": "builtin", "metric": "availability"}  # fmt: skip


async def apply(con: dbmod.Connection, **kpi: Any) -> list[tuple[str, str, str, Any]]:
    data = {"kpis": [{**UPTIME, **kpi}]}
    report = await apply_catalog(con, CatalogFile.model_validate(data), dry_run=False)
    return [(c.action, c.kind, c.key, c.fields) for c in report.changes]


async def stored(con: dbmod.Connection) -> Any:
    (kpi,) = await kpis.list_kpis(con, keys=["uptime"])
    return await store.get_policy(con, kpi.id)


async def test_a_policy_applies_with_its_kpi_and_reapplies_as_no_change(
    con: dbmod.Connection,
) -> None:
    assert await apply(con, burn_policy={}) == [
        ("create", "kpi", "uptime", {}), ("create", "burn-policy", "uptime", {})]  # fmt: skip
    policy = await stored(con)
    assert policy.objective is None
    assert [(r.name, r.burn_rate) for r in policy.rules] == [
        ("page_fast", 14.4), ("page_slow", 6.0), ("ticket", 1.0)]  # fmt: skip
    assert await apply(con, burn_policy={}) == []
    # Left out: kept as it is.
    assert await apply(con) == []
    assert await stored(con) is not None
    fast = {"name": "fast", "severity": "page", "burn_rate": 10, "long_window_minutes": 60,
            "short_window_minutes": 5}  # fmt: skip
    ((action, kind, key, fields),) = await apply(
        con, burn_policy={"objective": 0.995, "rules": [fast]}
    )
    assert (action, kind, key) == ("update", "burn-policy", "uptime")
    assert fields["objective"] == (None, 0.995)
    assert [r["name"] for r in fields["rules"][1]] == ["fast"]
    assert (await stored(con)).objective == 0.995
    assert [c[:3] for c in await apply(con, burn_policy=None)] == [
        ("update", "burn-policy", "uptime")]  # fmt: skip
    assert await stored(con) is None
    assert await apply(con, burn_policy=None) == []


async def test_a_policy_the_api_would_refuse_names_the_entry(con: dbmod.Connection) -> None:
    orders = {"key": "orders", "name": "Orders", "unit": "count",
              "direction": "higher_is_better", "aggregation": "sum", "burn_policy": {}}  # fmt: skip
    with pytest.raises(ApiError) as caught:
        await apply_catalog(con, CatalogFile.model_validate({"kpis": [orders]}), dry_run=False)
    assert [e.pointer for e in caught.value.errors] == ["#/kpis/0/burn_policy"]
    assert await kpis.list_kpis(con) == []
