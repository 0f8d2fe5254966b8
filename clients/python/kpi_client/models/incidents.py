"""Incidents and changes, as the generic endpoints take them and every endpoint returns them."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from kpi_client.models.base import (
    ApiModel,
    ChangeKind,
    ChangeStatus,
    IncidentStatus,
    IncidentStep,
    Instant,
    Severity,
)


class IncidentFacts(ApiModel):
    """What the service knows of an incident beside its times, in requests, steps and
    answers alike."""

    severity: str | None = None
    priority: str | None = None
    title: str | None = None
    users_affected: int | None = None
    cost_estimate: float | None = None
    problem_key: str | None = None
    caused_by: str | None = Field(default=None, description="A change id or commit sha.")


class IncidentIn(IncidentFacts):
    """Creates or updates an incident by (source, external_id)."""

    external_id: str
    service: str
    source: str = Field(default="api", description="A registered source.")
    severity: Severity | None = None
    status: IncidentStatus = "open"
    url: str | None = None
    started_at: Instant | None = Field(default=None, description="Impact start.")
    detected_at: Instant | None = None
    acknowledged_at: Instant | None = None
    resolved_at: Instant | None = None
    reopened_at: Instant | None = Field(
        default=None, description="When a resolved incident was reopened (with status open)."
    )


class IncidentEventIn(IncidentFacts):
    """One lifecycle step of an existing incident."""

    step: IncidentStep
    occurred_at: Instant
    event_id: str | None = Field(
        default=None,
        description="Not needed (deprecated): a step is identified by what it is and when.",
    )
    severity: Severity | None = None
    note: str | None = None


class CommitIn(ApiModel):
    sha: str
    committed_at: Instant


class ChangeIn(ApiModel):
    """Creates or updates a change (a deployment, config change ...) by (source, external_id)."""

    external_id: str
    service: str
    status: ChangeStatus
    source: str = "api"
    environment: str | None = None
    kind: ChangeKind = "deploy"
    started_at: Instant | None = None
    finished_at: Instant | None = None
    commit_sha: str | None = None
    commits: list[CommitIn] = Field(default_factory=list, description="For lead time.")
    title: str | None = None
    url: str | None = None
    labels: dict[str, str] = Field(
        default_factory=dict, description="Free-form pairs to group failures by (risk ...)."
    )


class TimelineEntry(ApiModel):
    at: dt.datetime
    what: str
    event_key: str
    recorded_at: dt.datetime
    delivery_id: int | None = None


class Incident(IncidentFacts):
    id: int
    source: str
    external_id: str
    status: str
    service: str | None = None
    url: str | None = None
    started_at: dt.datetime | None = None
    detected_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    caused_by_change_id: int | None = None
    link_kind: str | None = None


class IncidentDetail(Incident):
    timeline: list[TimelineEntry] = Field(default_factory=list)


class Change(ApiModel):
    id: int
    source: str
    external_id: str
    kind: str
    status: str
    is_production: bool = False
    service: str | None = None
    environment: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    commit_sha: str | None = None
    commit_time: dt.datetime | None = None
    title: str | None = None
    url: str | None = None
    rolled_back_change_id: int | None = Field(
        default=None, description="The deploy this rollback undid."
    )
    rollback_link_kind: str | None = Field(
        default=None, description="How that deploy was found: inferred or explicit."
    )
    labels: dict[str, str] = Field(default_factory=dict)


class ChangeDetail(Change):
    timeline: list[TimelineEntry] = Field(default_factory=list)
    incidents: list[int] = Field(default_factory=list)
    #: Why it counts as failed whatever its status: a later revert undid what it shipped.
    reverted_by: str | None = None
    #: Why it counts as rework: it shipped a revert.
    reverts: str | None = None
