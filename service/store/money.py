"""What money metrics read, per window, in one currency: spend (cost records) and budgets,
each spread evenly over the days of its period, and spend per calendar month
(sql/queries/money.sql), each in one statement over every window; the currencies in a scope.
service/usecases/measure.py and the reports compute from these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from service.db import Connection, statements
from service.kpi.periods import Period
from service.store.metrics import MetricScope, each_service_apart, window_arrays

q = statements("money")


@dataclass(frozen=True)
class Spend:
    currency: str
    by_category: dict[str, float]
    records: int

    @property
    def total(self) -> float:
        return sum(self.by_category.values())


async def spend(
    con: Connection, scope: MetricScope, windows: Sequence[Period], currency: str,
    window_services: Sequence[int] | None = None,
) -> list[Spend]:  # fmt: skip
    """Per window, spend in `currency` by category, cost records spread evenly over their days
    (with `window_services`, each window counts that one service's records only)."""
    return await _spread(con, q("spend"), scope, windows, currency, window_services)


async def budget(
    con: Connection, scope: MetricScope, windows: Sequence[Period], currency: str,
    window_services: Sequence[int] | None = None,
) -> list[Spend]:  # fmt: skip
    """Per window, budgets in `currency` by category, spread evenly over their days as
    `spend` spreads cost records."""
    return await _spread(con, q("budget"), scope, windows, currency, window_services)


async def _spread(
    con: Connection, statement: str, scope: MetricScope, windows: Sequence[Period],
    currency: str, window_services: Sequence[int] | None,
) -> list[Spend]:  # fmt: skip
    """Rows (n, category, amount, records) of `statement` gathered per window."""
    cells: list[dict[str, float]] = [{} for _ in windows]
    records = [0 for _ in windows]
    if windows and (scope.service_ids or scope.whole_estate):
        starts, ends = window_arrays(windows)
        rows = await con.fetch(
            statement, list(scope.service_ids), starts, ends, currency, scope.whole_estate,
            None if window_services is None else list(window_services),
        )  # fmt: skip
        for r in rows:
            cells[r["n"] - 1][r["category"]] = r["amount"]
            records[r["n"] - 1] += r["records"]
    return [Spend(currency, c, n) for c, n in zip(cells, records, strict=True)]


@dataclass(frozen=True)
class MonthlySpend:
    """Spend per calendar month (its first instant), and the cost records behind it."""

    by_month: dict[dt.datetime, float]
    records: int


async def monthly_spend(
    con: Connection, scope: MetricScope, spans: Sequence[Period], currency: str,
    window_services: Sequence[int] | None = None,
) -> list[MonthlySpend]:  # fmt: skip
    """Per span, spend in `currency` per calendar month within it (cost records spread over
    their days, as `spend` does), in one statement for every span."""
    months: list[dict[dt.datetime, float]] = [{} for _ in spans]
    records = [0 for _ in spans]
    if spans and (scope.service_ids or scope.whole_estate):
        starts, ends = window_arrays(spans)
        rows = await con.fetch(
            q("monthly_spend"), list(scope.service_ids), starts, ends, currency,
            scope.whole_estate, None if window_services is None else list(window_services),
        )  # fmt: skip
        for r in rows:
            if r["month"] is None:
                records[r["n"] - 1] = r["records"]
            else:
                months[r["n"] - 1][r["month"]] = r["amount"]
    return [MonthlySpend(m, n) for m, n in zip(months, records, strict=True)]


async def monthly_spend_by_service(
    con: Connection, service_ids: Sequence[int], spans: Sequence[Period], currency: str
) -> dict[int, list[MonthlySpend]]:
    """`monthly_spend` of each service apart (its own records), in one statement."""
    return await each_service_apart(monthly_spend, con, service_ids, spans, currency)


async def budget_by_service(
    con: Connection, service_ids: Sequence[int], windows: Sequence[Period], currency: str
) -> dict[int, list[Spend]]:
    """`budget` of each service apart (its own budgets), in one statement."""
    return await each_service_apart(budget, con, service_ids, windows, currency)


async def spend_by_service(
    con: Connection, service_ids: Sequence[int], windows: Sequence[Period], currency: str
) -> dict[int, list[Spend]]:
    """`spend` of each service apart (its own records), in one statement."""
    return await each_service_apart(spend, con, service_ids, windows, currency)


async def currencies(con: Connection, scope: MetricScope) -> list[str]:
    return await currencies_in_scope(con, scope.service_ids, whole_estate=scope.whole_estate)


async def currencies_in_scope(
    con: Connection, service_ids: Sequence[int], *, whole_estate: bool
) -> list[str]:
    rows = await con.fetch(q("currencies_in_scope"), list(service_ids), whole_estate)
    return [r["currency"] for r in rows]


async def money_currencies(con: Connection, scope: MetricScope) -> dict[int | None, set[str]]:
    """The currencies of the cost records and budgets of each of the scope's services (None:
    the estate's own, for the fleet)."""
    rows = await con.fetch(q("money_currencies"), list(scope.service_ids), scope.whole_estate)
    found: dict[int | None, set[str]] = {}
    for r in rows:
        found.setdefault(r["service_id"], set()).add(r["currency"])
    return found
