"""The read model of a page of services: before the page is answered, the rows its selection
asks for are loaded level by level through the request's DataLoaders, one statement per level
(the services' teams, KPIs with their definitions and outcomes; then the KPIs' targets and
latest stored statuses). Every field below then finds its value held and resolves at once,
without a coroutine, a task or a gather per object.

It loads what the fields would load, through the same loaders, so the answer is the same with
or without it; a failure of a statement fails the page, as it would the fields.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Iterator, Sequence
from typing import Any

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from service.graphql.loaders import HISTORY_PAGE, HistoryKey, Loaders
from service.graphql.types.common import MAX_PAGE, Info
from service.models.catalog import Service


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    for s in selections:
        if isinstance(s, SelectedField):
            yield s
        elif isinstance(s, FragmentSpread | InlineFragment):
            yield from _fields(s.selections)


class Selected:
    """The fields selected at one level of the query, by GraphQL name."""

    def __init__(self, fields: Iterable[SelectedField]) -> None:
        self.fields = list(fields)

    def __contains__(self, name: str) -> bool:
        return any(f.name == name for f in self.fields)

    def under(self, *path: str) -> Selected:
        """The fields selected under every selection of `path` (names, outermost first)."""
        level = self.fields
        for name in path:
            level = [sub for f in level if f.name == name for sub in _fields(f.selections)]
        return Selected(level)

    def named(self, name: str) -> list[SelectedField]:
        return [f for f in self.fields if f.name == name]


def selection(info: Info) -> Selected:
    """The fields a resolver's own field selects (`under(info.field_name)`: below it)."""
    return Selected(_fields(info.selected_fields))


def _nodes(page: Selected) -> Selected:
    """The node fields of a connection's selection: `nodes { ... }` and `edges { node }`."""
    return Selected([*page.under("nodes").fields, *page.under("edges", "node").fields])


async def services_page(info: Info, services: Sequence[Service]) -> None:
    """Load what the selected fields of `services` (a page of the `services` field) read."""
    nodes = _nodes(selection(info).under(info.field_name))
    if not nodes.fields or not services:
        return
    loaders = info.context.loaders
    ids = [s.id for s in services]
    levels: list[Awaitable[Any]] = []
    if "team" in nodes:
        levels.append(loaders.team.load_many(sorted({s.team_id for s in services
                                                     if s.team_id is not None})))  # fmt: skip
    if "kpis" in nodes:
        levels.append(_kpis(loaders, ids, _nodes(nodes.under("kpis")).under("kpi")))
    if "outcomes" in nodes:
        levels.append(loaders.outcomes_of_service.load_many(ids))
    await asyncio.gather(*levels)


async def _kpis(loaders: Loaders, service_ids: list[int], selected: Selected) -> None:
    """The services' KPIs, then what their selected fields read of all of them at once."""
    found = await loaders.kpis_of_service.load_many(service_ids)
    kpis = list({k.id: k for ks in found for k in ks}.values())
    if not kpis or not selected.fields:
        return
    levels: list[Awaitable[Any]] = []
    if "targets" in selected:
        levels.append(loaders.targets_of_kpi.load_many([k.id for k in kpis]))
    for history in selected.named("statusHistory"):
        first = _overall_page(history.arguments)
        if first is not None:
            # the page and one more status, to know whether a next page exists
            levels.append(loaders.status_history.load_many(
                [HistoryKey(k.id, k.key, None, None, None, first + 1) for k in kpis]
            ))  # fmt: skip
    await asyncio.gather(*levels)


def _overall_page(arguments: dict[str, Any]) -> int | None:
    """The page size of a `statusHistory` selection of the KPI overall from its newest status
    (no service, no before, no cursor), else None."""
    if any(arguments.get(a) is not None for a in ("service", "before", "after")):
        return None
    first = arguments.get("first", HISTORY_PAGE)
    if isinstance(first, str) and first.isdigit():  # a literal comes as its text
        first = int(first)
    return first if type(first) is int and 1 <= first <= MAX_PAGE else None
