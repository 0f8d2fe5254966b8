"""Data sources (Prometheus servers) that ratio KPIs take SLIs from, and a KPI's SLI."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, SecretStr, field_serializer

from kpi_client.models.base import ApiModel

DataSourceAuth = Literal["none", "bearer", "basic"]
SliBucket = Literal["1m", "5m", "10m", "15m", "30m", "1h", "2h", "3h", "6h", "12h", "1d"]


class PrometheusSli(ApiModel):
    """A ratio KPI's good and total events from PromQL queries, evaluated per bucket
    (`$__bucket` in a query is replaced by the bucket, e.g. `1h`) into observations of its
    numerator (good) and denominator (total)."""

    data_source: str
    good_query: str
    total_query: str
    bucket: SliBucket = "1h"
    service: str | None = None


class DataSourceFields(ApiModel):
    name: str
    kind: Literal["prometheus"] = "prometheus"
    url: str
    auth: DataSourceAuth = "none"
    username: str | None = Field(default=None, description="For basic auth.")


class DataSourceIn(DataSourceFields):
    secret: SecretStr | None = Field(
        default=None, description="Bearer token or basic-auth password; write-only."
    )

    @field_serializer("secret", when_used="json")
    def _reveal_on_the_wire(self, secret: SecretStr | None) -> str | None:
        # Hidden in repr and logs, sent in the request body.
        return None if secret is None else secret.get_secret_value()


class SliState(ApiModel):
    """Where the evaluation of one KPI's SLI stands."""

    kpi: str
    next_bucket: dt.datetime | None = None
    last_run_at: dt.datetime | None = None
    points: int = 0
    gaps: int = 0
    last_problem: str | None = None
    last_problem_at: dt.datetime | None = None


class DataSource(DataSourceFields):
    id: int
    has_secret: bool
    queries_ok: int = 0
    queries_failed: int = 0
    last_success_at: dt.datetime | None = None
    last_error: str | None = None
    last_error_at: dt.datetime | None = None
    slis: list[SliState] = Field(default_factory=list)
