"""Shared GraphQL pieces: enums, cursor pagination, owners, problems, Info."""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Generic, TypeVar

import strawberry
from strawberry.types import Info as StrawberryInfo

from service.errors import ApiError
from service.graphql.context import Context
from service.ingest.model import ChangeKind, ChangeStatus
from service.models import enums
from service.models.instants import rfc3339
from service.models.observations import SeriesPoint as ObservationsSeriesPoint

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

N = TypeVar("N")

MAX_PAGE = 100


def encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{row_id}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        row_id = int(value)
        if kind != "id" or not 1 <= row_id < 2**63:
            raise ValueError(kind)
        return row_id
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


@strawberry.type
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[N]:
        return [e.node for e in self.edges]


@strawberry.type
class Owners:
    business: str | None
    technology: str | None


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
        return cls(
            status=exc.status,
            title=exc.title,
            detail=exc.detail,
            errors=[
                FieldProblem(
                    pointer=camel_case(e.pointer), field=camel_case(e.field), detail=e.detail
                )
                for e in exc.errors
            ],
        )


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
