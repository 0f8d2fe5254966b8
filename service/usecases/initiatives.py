"""Initiatives (technology programs): written as a catalog collection keyed by key, their
links to services and KPIs replaced as a whole on every write, and their review: spend
against budget, and each linked KPI in a baseline window before the start against the same
number of periods after delivery (the arithmetic is service/kpi/initiatives.py's).

A link to a service or a KPI goes with it when that is deleted, as the catalog's other
links do; an initiative that cost records carry cannot be deleted (409).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from service.db import Connection
from service.errors import NotFound, invalid
from service.kpi import initiatives as rules
from service.kpi.periods import CADENCE_GRAIN, Period
from service.models.catalog import Kpi
from service.models.enums import Cadence, Grain
from service.models.initiatives import (
    CurrencyAmount,
    Initiative,
    InitiativeIn,
    InitiativeKpi,
    InitiativeReview,
    InitiativeSpend,
    KpiReview,
    ReviewWindow,
)
from service.store import initiatives as store
from service.store import kpis as kpi_store
from service.store import metrics, services
from service.store.metrics import MetricScope
from service.usecases import measure
from service.usecases.catalog import Collection, check_path_key


async def _service_ids(con: Connection, initiative: InitiativeIn) -> dict[str, int]:
    """{slug: id} of every service the body names; a 422 naming the first unknown one."""
    named = [*initiative.services, *(k.service for k in initiative.kpis if k.service)]
    ids = await services.service_ids_by_slug(con, named)
    for i, slug in enumerate(initiative.services):
        if slug not in ids:
            raise invalid(f"services.{i}", f"unknown service {slug!r}")
    for i, link in enumerate(initiative.kpis):
        if link.service is not None and link.service not in ids:
            raise invalid(f"kpis.{i}.service", f"unknown service {link.service!r}")
    return ids


async def _kpi_rows(
    con: Connection, initiative: InitiativeIn, service_ids: dict[str, int]
) -> list[store.KpiLinkRow]:
    refs = await kpi_store.kpi_ids_by_key(con, [k.kpi for k in initiative.kpis])
    rows: list[store.KpiLinkRow] = []
    for i, link in enumerate(initiative.kpis):
        if link.kpi not in refs:
            raise invalid(f"kpis.{i}.kpi", f"unknown KPI {link.kpi!r}")
        service_id = None if link.service is None else service_ids[link.service]
        rows.append((refs[link.kpi].id, service_id, link.expected_change, link.expected_by,
                     link.rationale))  # fmt: skip
    return rows


async def _set_links(con: Connection, initiative_id: int, initiative: InitiativeIn) -> None:
    ids = await _service_ids(con, initiative)
    rows = await _kpi_rows(con, initiative, ids)
    await store.delete_initiative_links(con, initiative_id)
    await store.insert_initiative_services(
        con, initiative_id, [ids[s] for s in initiative.services]
    )
    await store.insert_initiative_kpis(con, initiative_id, rows)


async def create_initiative(con: Connection, *, initiative: InitiativeIn) -> Initiative:
    async with con.transaction():
        initiative_id = await store.insert_initiative(con, initiative=initiative)
        await _set_links(con, initiative_id, initiative)
    return await store.get_initiative(con, key=initiative.key)


async def update_initiative(con: Connection, *, key: str, initiative: InitiativeIn) -> Initiative:
    check_path_key("key", key, initiative.key)
    async with con.transaction():
        initiative_id = await store.update_initiative(con, initiative=initiative)
        if initiative_id is None:
            raise NotFound(f"no initiative {key!r}")
        await _set_links(con, initiative_id, initiative)
    return await store.get_initiative(con, key=key)


async def delete_initiative(con: Connection, *, key: str) -> None:
    """Delete the initiative; a 409 while cost records or budgets carry it."""
    if await store.delete_initiative(con, key=key) is None:
        raise NotFound(f"no initiative {key!r}")


INITIATIVES = Collection[InitiativeIn, Initiative](
    "initiative", "key", InitiativeIn, Initiative, "initiative", store.list_initiatives,
    store.get_initiative, create_initiative, update_initiative, delete_initiative,
)  # fmt: skip


# Review -----------------------------------------------------------------------------------------


def spend_against_budget(
    initiative: Initiative, spent: Sequence[CurrencyAmount]
) -> InitiativeSpend:
    """The spend in the budget's currency against the budget; other currencies apart."""
    in_budget = next((s for s in spent if s.currency == initiative.currency), None)
    others = [s for s in spent if s.currency != initiative.currency]
    budget = initiative.budget
    if budget is None:
        return InitiativeSpend(budget=None, currency=None, spent=None, remaining=None,
                               percent_spent=None, other_currencies=others)  # fmt: skip
    amount = in_budget.amount if in_budget is not None else 0.0
    return InitiativeSpend(
        budget=budget, currency=initiative.currency, spent=amount,
        remaining=round(budget - amount, 2), other_currencies=others,
        percent_spent=None if budget == 0 else amount / budget * 100,
    )  # fmt: skip


async def _window(
    con: Connection, kpi: Kpi, scope: MetricScope, grain: Grain, window: Period,
    now: dt.datetime,
) -> ReviewWindow:  # fmt: skip
    """The window's mean over its complete periods with a value."""
    values: list[float | None] = []
    if window.start < now:
        points = await measure.series(con, kpi=kpi, scope=scope, grain=grain,
                                      start=window.start, end=window.end, now=now)  # fmt: skip
        values = [p.value for p in points if p.complete]
    figure = rules.window_figure(values)
    return ReviewWindow(
        start=window.start, end=window.end, mean=figure.mean,
        periods_with_data=figure.periods_with_data, ended=window.end <= now,
    )  # fmt: skip


async def _scope(con: Connection, kpi: Kpi, link: InitiativeKpi) -> MetricScope:
    if link.service is None:
        return await metrics.kpi_scope(con, kpi)
    (service_id,) = await services.service_ids(con, [link.service], field="service")
    return MetricScope("service", link.service, (service_id,))


async def kpi_review(
    con: Connection, initiative: Initiative, link: InitiativeKpi, kpi: Kpi, *,
    now: dt.datetime, min_periods: int,
) -> KpiReview:  # fmt: skip
    """One linked KPI before the start against after delivery."""
    cadence = kpi.cadence or Cadence.MONTHLY
    grain = CADENCE_GRAIN[cadence]
    scope = await _scope(con, kpi, link)
    periods = initiative.review_periods
    baseline = rules.baseline_window(grain, initiative.started_on, periods)
    before = await _window(con, kpi, scope, grain, baseline, now)
    after_period = rules.after_window(grain, initiative.delivered_on, periods)
    after = None
    if after_period is not None:
        after = await _window(con, kpi, scope, grain, after_period, now)
    moved = rules.change(before.mean, None if after is None else after.mean)
    evidence = rules.Evidence(
        before_periods=before.periods_with_data,
        after_periods=0 if after is None else after.periods_with_data,
        min_periods=min_periods, delivered=after is not None,
        after_ended=after is not None and after.ended,
    )  # fmt: skip
    return KpiReview(
        kpi=link.kpi, service=link.service, cadence=cadence,
        expected_change=link.expected_change, expected_by=link.expected_by, baseline=before,
        after=after, change=moved, met=rules.met(moved, link.expected_change),
        caveat=rules.caveat(evidence),
    )  # fmt: skip


async def review(
    con: Connection, *, key: str, now: dt.datetime, min_periods: int
) -> InitiativeReview:
    """Spend against budget and every linked KPI before and after; NotFound without it."""
    initiative = await store.get_initiative(con, key=key)
    spent = await store.initiative_spend(con, initiative.id)
    kpis = {k.key: k for k in await kpi_store.list_kpis(con, keys=[k.kpi for k in initiative.kpis])}
    reviews = [
        await kpi_review(con, initiative, link, kpis[link.kpi], now=now, min_periods=min_periods)
        for link in initiative.kpis
    ]
    return InitiativeReview(
        initiative=initiative.key, status=initiative.status, started_on=initiative.started_on,
        delivered_on=initiative.delivered_on,
        spend=spend_against_budget(initiative, spent), kpis=reviews,
    )  # fmt: skip
