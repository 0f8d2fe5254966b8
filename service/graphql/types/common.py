"""Shared GraphQL pieces: enums, cursor pagination, owners, problems, Info."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar

import strawberry
from strawberry.types import Info as StrawberryInfo

from service.clock import rfc3339
from service.errors import ApiError
from service.graphql.context import Context
from service.models import catalog, enums
from service.models.enums import ChangeKind, ChangeStatus
from service.models.observations import SeriesPoint as ObservationsSeriesPoint

if TYPE_CHECKING:
    from strawberry.dataloader import DataLoader

Info = StrawberryInfo[Context, None]


def _parse_instant(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected an RFC 3339 string, got {type(value).__name__}")
    return dt.datetime.fromisoformat(value)


#: Instants as REST writes them (RFC 3339 in UTC with Z), instead of Python's isoformat.
DateTime = strawberry.scalar(
    name="DateTime",
    description="An instant in RFC 3339, e.g. 2026-12-05T20:35:00Z. Answers are in UTC with "
    "Z; arguments need a zone offset.",
    serialize=rfc3339,
    parse_value=_parse_instant,
)


# Registers the domain's enums with strawberry; annotations use the enum classes themselves.
for _enum in (
    enums.Direction, enums.Aggregation, enums.KpiKind, enums.Cadence, enums.Severity,
    enums.Channel, enums.Grain, enums.BuiltinMetric, ChangeKind, ChangeStatus,
):  # fmt: skip
    strawberry.enum(_enum)

#: The start of a window, the argument `from` (a Python keyword, hence the parameter `from_`).
From = Annotated[dt.datetime, strawberry.argument(name="from")]
OptionalFrom = Annotated[dt.datetime | None, strawberry.argument(name="from")]

N = TypeVar("N")
K = TypeVar("K")
V = TypeVar("V")

MAX_PAGE = 100


#: Cursor kinds: a row id (lists in id order), a position in a list loaded whole (1-based),
#: or a period start in microseconds since 1970 (status histories, newest first).
CursorKind = Literal["id", "offset", "period"]


def encode_cursor(value: int, kind: CursorKind = "id") -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(cursor: str | None, kind: CursorKind = "id") -> int | None:
    if cursor is None:
        return None
    try:
        found, _, text = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        value = int(text)
        if found != kind or not (0 if kind == "period" else 1) <= value < 2**63:
            raise ValueError(found)
        return value
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"invalid cursor {cursor!r}") from exc


def page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise ValueError(f"first must be between 1 and {MAX_PAGE}")
    return first


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type(
    description="A page of a list: `first` items (at most 100) after the cursor "
    "`after`; `pageInfo.endCursor` is the `after` of the next page."
)
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo
    nodes: list[N]

    @classmethod
    def of(cls, items: Sequence[tuple[str, N]], more: bool) -> Connection[N]:
        """A page of (cursor, node) pairs; `more` says whether a next page exists."""
        edges = [Edge(cursor=c, node=n) for c, n in items]
        return cls(
            edges=edges,
            page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
            nodes=[n for _, n in items],
        )


def page_of_list(items: Sequence[N], first: int, after: str | None) -> Connection[N]:
    """A page of a list loaded whole (a graph edge, a timeline), by position."""
    size = page_size(first)
    start = decode_cursor(after, "offset") or 0
    chosen = items[start : start + size]
    pairs = [(encode_cursor(start + i + 1, "offset"), n) for i, n in enumerate(chosen)]
    return Connection.of(pairs, start + size < len(items))


def page_mapped(window: Connection[K], found: Sequence[V | None], wrap: Callable[[V], N]
                ) -> Connection[N]:  # fmt: skip
    """The page `window` of keys with each key's row (`found`, in order) wrapped as a node;
    rows gone meanwhile (None) are left out."""
    return Connection.of(
        [(e.cursor, wrap(x)) for e, x in zip(window.edges, found, strict=True) if x is not None],
        window.page_info.has_next_page,
    )


async def page_of_edge(
    edge: DataLoader[int, list[K]], key: int, nodes: DataLoader[K, V | None],
    wrap: Callable[[V], N], first: int, after: str | None,
) -> Connection[N]:  # fmt: skip
    """A page of the keys an edge loader gives for `key` (a service, a change ...), each
    key's row loaded by `nodes` and wrapped as a node."""
    window = page_of_list(await edge.load(key), first, after)
    return page_mapped(window, await nodes.load_many(window.nodes), wrap)


@strawberry.type
class Contribution(Generic[N]):
    """A link between a KPI and an outcome seen from one end: the node at the other end
    (named `kpi` or `outcome` by the subclass), the link's weight and its rationale."""

    node: N
    weight: float
    rationale: str | None


C = TypeVar("C", bound=Contribution[Any])


async def page_of_links(
    links: DataLoader[int, list[dict[str, Any]]], key: int, nodes: DataLoader[int, V | None],
    wrap: Callable[[V], Any], contribution: type[C], first: int, after: str | None,
) -> Connection[C]:  # fmt: skip
    """A page of the links a loader gives for `key` ({id, weight, rationale} each), as
    contributions of the node of each `id` (loaded by `nodes`, then wrapped)."""
    window = page_of_list(await links.load(key), first, after)
    found = await nodes.load_many([link["id"] for link in window.nodes])
    return page_mapped(window, [
        contribution(node=wrap(n), weight=link["weight"], rationale=link["rationale"])
        if n else None
        for link, n in zip(window.nodes, found, strict=True)
    ], lambda c: c)  # fmt: skip


async def load_node(loader: DataLoader[K, V | None], key: K, wrap: Callable[[V], N]) -> N | None:
    """The node of the row `loader` finds for `key`, None for none."""
    found = await loader.load(key)
    return None if found is None else wrap(found)


def page_by_id(items: Sequence[N], first: int, row_id: Callable[[N], int]) -> Connection[N]:
    """A page of rows read with `limit first + 1`, in id order, with id cursors."""
    return Connection.of([(encode_cursor(row_id(n)), n) for n in items[:first]],
                         len(items) > first)  # fmt: skip


#: Per strawberry type, the names of its data fields (those without a resolver).
_DATA_FIELDS: dict[type, tuple[str, ...]] = {}


def copied(cls: type[N], source: object, **given: Any) -> N:
    """A node of `cls` (a strawberry type) whose data fields are read from the attributes of
    the same name of `source` (a model), but for those `given`."""
    names = _DATA_FIELDS.get(cls)
    if names is None:
        names = _DATA_FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.init)  # type: ignore[arg-type]
    return cls(**{name: getattr(source, name) for name in names if name not in given}, **given)


@strawberry.type(description="A name and its value: a service's attribute, a change's label.")
class Label:
    name: str
    value: str

    @classmethod
    def pairs(cls, labels: dict[str, str]) -> list[Label]:
        """The pairs in name order."""
        return [cls(name=k, value=v) for k, v in sorted(labels.items())]


@strawberry.type
class Owners:
    business: str | None
    technology: str | None

    @classmethod
    def of(cls, m: catalog.Service | catalog.Kpi) -> Owners:
        return cls(business=m.business_owner, technology=m.technology_owner)


@strawberry.type
class FieldProblem:
    pointer: str
    field: str
    detail: str


@strawberry.type(description="An expected failure (RFC 9457 problem), e.g. a validation error.")
class Problem:
    status: int
    title: str
    detail: str
    errors: list[FieldProblem]

    @classmethod
    def from_error(cls, exc: ApiError) -> Problem:
        errors = [
            FieldProblem(pointer=camel_case(e.pointer), field=camel_case(e.field), detail=e.detail)
            for e in exc.errors
        ]
        return copied(cls, exc, errors=errors)


def camel_case(path: str) -> str:
    """escalation_path.1.address -> escalationPath.1.address: field names as in the schema."""
    return re.sub(r"_([a-z])", lambda m: m[1].upper(), path)


@strawberry.type
class SeriesPoint:
    bucket: dt.datetime
    value: float | None
    count: int
    complete: bool = strawberry.field(
        description="Whether the figure covers the bucket's whole period: false for the "
        "period under way and for a bucket the window cuts."
    )

    @classmethod
    def of(cls, p: ObservationsSeriesPoint) -> SeriesPoint:
        return cls(bucket=p.bucket, value=p.value, count=p.count, complete=p.complete)


@strawberry.type
class Deleted:
    ok: bool
