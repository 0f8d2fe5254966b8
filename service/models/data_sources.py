"""Data sources a KPI's SLI is measured from (Prometheus servers), as written and as read
with the state of the SLIs evaluated from them. The SLI itself is part of the KPI definition
(PrometheusSli in service/models/catalog.py)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    SecretStr,
    StringConstraints,
    model_validator,
)

from service.models.catalog import Body, FieldProblem, Name, Slug
from service.models.urls import check_url


# How the service authenticates to a data source. (No docstring: it would become the enum's
# description in the OpenAPI document.)
class DataSourceAuth(StrEnum):
    NONE = "none"
    BEARER = "bearer"
    BASIC = "basic"


class DataSourceKind(StrEnum):
    PROMETHEUS = "prometheus"


def _url(text: str) -> str:
    try:
        check_url(text)
    except ValueError as exc:
        raise ValueError(f"the URL {exc}") from exc
    return text.rstrip("/")


def _secret(secret: SecretStr) -> SecretStr:
    if "\x00" in secret.get_secret_value() or not secret.get_secret_value():
        raise ValueError("must be non-empty and without the NUL character")
    return secret


Url = Annotated[str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_url)]
Secret = Annotated[
    SecretStr, AfterValidator(_secret), Field(json_schema_extra={"minLength": 1, "maxLength": 4000})
]


class DataSourceIn(Body):
    name: Slug
    kind: DataSourceKind = DataSourceKind.PROMETHEUS
    url: Url = Field(
        description="The Prometheus server's base URL (http or https, no credentials), e.g. "
        "https://prometheus.example.com or one with a path prefix; the service calls "
        "<url>/api/v1/query_range. A host that is not public must be named in "
        "KPI_OUTBOUND_ALLOW."
    )
    auth: DataSourceAuth = DataSourceAuth.NONE
    username: Name | None = Field(default=None, description="For basic auth.")
    secret: Secret | None = Field(
        default=None,
        description="The bearer token or the basic-auth password. Write-only: never returned. "
        "Omit on replace to keep the current one.",
    )

    @model_validator(mode="after")
    def _auth_fields(self) -> Self:
        if self.auth is DataSourceAuth.BASIC and self.username is None:
            raise FieldProblem("username", "required for basic auth")
        if self.auth is not DataSourceAuth.BASIC and self.username is not None:
            raise FieldProblem("username", "only allowed for basic auth")
        if self.auth is DataSourceAuth.NONE and self.secret is not None:
            raise FieldProblem("secret", "not used without auth: set auth to bearer or basic")
        return self


class SliState(BaseModel):
    """Where the evaluation of one KPI's SLI stands."""

    kpi: str
    next_bucket: dt.datetime | None = Field(
        description="The start of the first bucket not yet settled; null until the first "
        "round (which backfills)."
    )
    last_run_at: dt.datetime | None
    points: int = Field(description="Buckets stored (good and total) since the SLI was set.")
    gaps: int = Field(description="Buckets given up on without both samples.")
    last_problem: str | None
    last_problem_at: dt.datetime | None


class DataSource(BaseModel):
    id: int
    name: str
    kind: DataSourceKind
    url: str
    auth: DataSourceAuth
    username: str | None
    has_secret: bool
    queries_ok: int = Field(description="Queries answered since the source was created.")
    queries_failed: int = Field(description="Queries that failed since the source was created.")
    last_success_at: dt.datetime | None
    last_error: str | None = Field(description="What the last failed query met.")
    last_error_at: dt.datetime | None
    slis: list[SliState] = Field(default_factory=list)


class DataSourceSecret(BaseModel):
    """A data source as the evaluation needs it: with its secret. Never sent to a client."""

    source: DataSource
    secret: str | None
