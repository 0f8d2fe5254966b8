"""The CSV shape of each read that offers one: its columns and how its answer becomes rows.

A list (series points, scorecard items, statuses, incidents, changes) is one row per item,
one column per field, a nested object's fields named `parent.field` (a status's
`driver.service`), a map one cell of compact JSON (a change's labels). The service report,
a tree, is one row per figure: `field,value`, the field a dotted path where a list's element
is named by its key in brackets (`incidents.by_severity[sev1].mttr.median`).
"""

from __future__ import annotations

import typing
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import StreamingResponse

from service.models.incidents import Change, Incident
from service.models.observations import Series, SeriesPoint
from service.models.reports import Scorecard, ScorecardItem
from service.models.statuses import KpiStatus
from service.rest import csv_writer

#: What a list answer may be: the items, or pages of them read one after another.
Items = Iterable[BaseModel] | AsyncIterable[list[BaseModel]]

#: The fields that name an element of a list in the report's paths.
REPORT_KEYS = ("severity", "service", "currency", "category")


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    found = [m for arg in typing.get_args(annotation) if (m := _nested_model(arg)) is not None]
    return found[0] if len(found) == 1 else None


def columns(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The paths of `model`'s fields as written (excluded ones left out), a nested model's
    fields in its place."""
    paths: list[tuple[str, ...]] = []
    for name, info in model.model_fields.items():
        if info.exclude:
            continue
        nested = _nested_model(info.annotation)
        if nested is None:
            paths.append((*prefix, name))
        else:
            paths.extend(columns(nested, (*prefix, name)))
    return paths


def _at(data: Any, path: tuple[str, ...]) -> Any:
    """The value at `path`; a map or a list (a change's labels) as one cell of compact JSON."""
    for name in path:
        if data is None:
            return None
        data = data[name]
    if isinstance(data, dict | list):
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
    return data


async def _pages(items: Items) -> AsyncIterator[Iterable[BaseModel]]:
    if isinstance(items, AsyncIterable):
        async for page in items:
            yield page
    else:
        yield items


@dataclass(frozen=True)
class ModelTable:
    """One row per item of the answer (`items` picks them out), one column per field."""

    model: type[BaseModel]
    items: Callable[[Any], Items]

    @property
    def header(self) -> list[str]:
        return [".".join(path) for path in columns(self.model)]

    async def rows(self, answer: Any) -> AsyncIterator[list[Any]]:
        paths = columns(self.model)
        async for page in _pages(self.items(answer)):
            for item in page:
                data = item.model_dump(mode="json")
                yield [_at(data, path) for path in paths]

    def response(self, answer: Any, path: str) -> StreamingResponse:
        return csv_writer.response(self.header, self.rows(answer), path)


def _element_key(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    return next((str(item[k]) for k in REPORT_KEYS if item.get(k) is not None), None)


def figures(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every figure of a JSON tree with its dotted path; a list's element is named by its key
    field in brackets (the key fields of an element, and null ones elsewhere, left out)."""
    if isinstance(value, dict):
        for name, inner in value.items():
            if name in REPORT_KEYS and inner is None:
                continue
            yield from figures(inner, f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            key = _element_key(item)
            if key is None:
                yield from figures(item, f"{path}[{index}]")
            else:
                rest = {k: v for k, v in item.items() if k not in REPORT_KEYS}
                yield from figures(rest, f"{path}[{key}]")
    else:
        yield path, value


@dataclass(frozen=True)
class FigureTable:
    """One row per figure of a tree-shaped answer: `field,value`."""

    header = ("field", "value")

    async def rows(self, answer: BaseModel) -> AsyncIterator[list[Any]]:
        for field, value in figures(answer.model_dump(mode="json")):
            yield [field, value]

    def response(self, answer: Any, path: str) -> StreamingResponse:
        return csv_writer.response(self.header, self.rows(answer), path)


def _points(series: Series) -> Items:
    return series.points


def _scorecard_items(scorecard: Scorecard) -> Items:
    return scorecard.items


def _as_given(items: Items) -> Items:
    return items


CsvTable = ModelTable | FigureTable

SERIES = ModelTable(SeriesPoint, _points)
SCORECARD = ModelTable(ScorecardItem, _scorecard_items)
STATUS_HISTORY = ModelTable(KpiStatus, _as_given)
INCIDENTS = ModelTable(Incident, _as_given)
CHANGES = ModelTable(Change, _as_given)
SERVICE_REPORT = FigureTable()
