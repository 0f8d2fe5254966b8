"""A ratio KPI's SLI from Prometheus, and the data sources (admins only) with the state of the
SLIs evaluated from them."""

from __future__ import annotations

import datetime as dt

import strawberry

from service.graphql.types.common import copied
from service.models.catalog import PrometheusSli as SliModel
from service.models.catalog import SliBucket
from service.models.data_sources import DataSource as DataSourceModel
from service.models.data_sources import DataSourceAuth, DataSourceKind

for _enum in (SliBucket, DataSourceAuth, DataSourceKind):
    strawberry.enum(_enum)


@strawberry.type(description="Good and total events from PromQL queries, evaluated per bucket.")
class PrometheusSli:
    data_source: str
    good_query: str
    total_query: str
    bucket: SliBucket
    service: str | None

    @classmethod
    def of(cls, m: SliModel) -> PrometheusSli:
        return copied(cls, m)


@strawberry.type(description="Where the evaluation of one KPI's SLI stands.")
class SliState:
    kpi: str
    next_bucket: dt.datetime | None
    last_run_at: dt.datetime | None
    points: int
    gaps: int
    last_problem: str | None
    last_problem_at: dt.datetime | None


@strawberry.type(description="A Prometheus server KPIs take SLIs from (its secret never shown).")
class DataSource:
    name: str
    kind: DataSourceKind
    url: str
    auth: DataSourceAuth
    username: str | None
    has_secret: bool
    queries_ok: int
    queries_failed: int
    last_success_at: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None
    slis: list[SliState]

    @classmethod
    def of(cls, m: DataSourceModel) -> DataSource:
        return copied(cls, m, slis=[copied(SliState, s) for s in m.slis])
