"""Look-ahead for a page of services: before the page is answered, warm the loaders its
selected fields read (team, KPIs with their targets, stored statuses and outcomes, outcomes),
level by level, each level one batch as the loaders would make it anyway. The fields then find
their values held and resolve at once, without a coroutine, a task or a gather per object.

It only loads what the loaders would load; a failure is left for the field that needs the
value to report, exactly as without the look-ahead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Iterable, Iterator, Sequence
from typing import Any

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from service.graphql.loaders import HISTORY_PAGE, HistoryKey, Loaders
from service.graphql.types.common import MAX_PAGE, Info
from service.models.catalog import Kpi, Service


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    for s in selections:
        if isinstance(s, SelectedField):
            yield s
        elif isinstance(s, FragmentSpread | InlineFragment):
            yield from _fields(s.selections)


def _under(fields: Iterable[SelectedField], name: str) -> list[SelectedField]:
    """The fields selected under every selection of `name`."""
    return [sub for f in fields if f.name == name for sub in _fields(f.selections)]


async def services_page(info: Info, services: Sequence[Service]) -> None:
    page = [sub for f in _fields(info.selected_fields) for sub in _fields(f.selections)]
    nodes = _under(page, "nodes") + _under(_under(page, "edges"), "node")
    if nodes and services:
        with contextlib.suppress(Exception):
            await _services(info.context.loaders, services, nodes)


async def _gather(jobs: list[Awaitable[Any]]) -> None:
    await asyncio.gather(*jobs, return_exceptions=True)


async def _services(loaders: Loaders, services: Sequence[Service], fields: list[SelectedField]
                    ) -> None:  # fmt: skip
    names = {f.name for f in fields}
    ids = [s.id for s in services]
    jobs: list[Awaitable[Any]] = []
    if "team" in names:
        jobs.append(loaders.team.load_many([s.team_id for s in services if s.team_id is not None]))
    if "kpis" in names:
        jobs.append(_kpis_of(loaders, ids, _under(fields, "kpis")))
    if "outcomes" in names:
        jobs.append(_related(loaders.outcomes_of_service.load_many(ids), loaders.outcome.load_many))
    await _gather(jobs)


async def _related(edges: Awaitable[list[list[int]]], load: Any) -> list[Any]:
    found: list[Any] = await load(sorted({i for ids in await edges for i in ids}))
    return found


async def _kpis_of(loaders: Loaders, service_ids: list[int], fields: list[SelectedField]) -> None:
    found = await _related(loaders.kpis_of_service.load_many(service_ids), loaders.kpi.load_many)
    kpis: list[Kpi] = [k for k in found if k]
    if not kpis or not fields:
        return
    ids = [k.id for k in kpis]
    jobs: list[Awaitable[Any]] = []
    names = {f.name for f in fields}
    if "targets" in names:
        jobs.append(loaders.targets_of_kpi.load_many(ids))
    for f in fields:
        if f.name != "statusHistory":
            continue
        args = f.arguments
        first = args.get("first", HISTORY_PAGE)
        if isinstance(first, str) and first.isdigit():  # a literal comes as its text
            first = int(first)
        if (args.get("service") is None and args.get("before") is None
                and args.get("after") is None
                and type(first) is int and 1 <= first <= MAX_PAGE):  # fmt: skip
            # the page and one more status, to know whether a next page exists
            jobs.append(loaders.status_history.load_many(
                [HistoryKey(k.id, k.key, None, None, None, first + 1) for k in kpis]
            ))  # fmt: skip
    await _gather(jobs)
