"""Incidents and changes as the generic API takes them and as every API returns them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from service.models.catalog import Body, FieldProblem, NoNul, Slug, Text
from service.models.enums import ChangeKind, ChangeStatus, IncidentStatus, IncidentStep, Severity
from service.models.instants import Instant
from service.models.labels import Labels

ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul]
Short = Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul]
Url = Annotated[str, StringConstraints(max_length=2000), NoNul]
Sha = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{7,64}$")]


class IncidentIn(Body):
    """Create an incident or update it, by (source, external_id)."""

    source: Slug = Field(default="api", description="A registered source; 'api' by default.")
    external_id: ExternalId
    service: Slug
    severity: Severity | None = None
    priority: Short | None = None
    status: IncidentStatus = "open"
    title: Text | None = None
    url: Url | None = None
    started_at: Instant | None = Field(default=None, description="Impact start.")
    detected_at: Instant | None = None
    acknowledged_at: Instant | None = None
    resolved_at: Instant | None = None
    reopened_at: Instant | None = Field(
        default=None,
        description="When a resolved incident was reopened (with status open). Without it, "
        "status open reopens a resolved incident now, but only in a body that states no "
        "time: a record with older times is the incident as it was then.",
    )
    users_affected: int | None = Field(default=None, ge=0, le=10**12)
    cost_estimate: float | None = Field(default=None, ge=0, le=1e15, allow_inf_nan=False)
    problem_key: Short | None = None
    caused_by: Short | None = Field(default=None, description="A change id or commit sha.")

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        # Impact starts, then is detected, acknowledged and resolved: a time before the one it
        # follows would give negative durations (and a resolution before the start would be
        # replayed as a reopening), so it is refused naming the later field.
        order = [
            ("started_at", self.started_at),
            ("detected_at", self.detected_at),
            ("acknowledged_at", self.acknowledged_at),
            ("resolved_at", self.resolved_at),
            ("reopened_at", self.reopened_at),
        ]
        for i, (name, value) in enumerate(order):
            if value is None:
                continue
            for earlier_name, earlier in order[:i]:
                if earlier is not None and value < earlier:
                    raise FieldProblem(name, f"must not be before {earlier_name}")
        if self.reopened_at is not None and self.status != "open":
            raise FieldProblem("status", "must be open when reopened_at is given")
        return self


class IncidentEventIn(Body):
    """One lifecycle step of an existing incident."""

    step: IncidentStep
    occurred_at: Instant
    event_id: Short | None = Field(
        default=None,
        deprecated=True,
        description="Not needed: a step is identified by what it is and when it happened, "
        "and fields by their content, so a retry (or the same step sent with the incident) "
        "is stored once whatever id it carries.",
    )
    severity: Severity | None = None
    priority: Short | None = None
    title: Text | None = None
    users_affected: int | None = Field(default=None, ge=0, le=10**12)
    cost_estimate: float | None = Field(default=None, ge=0, le=1e15, allow_inf_nan=False)
    problem_key: Short | None = None
    caused_by: Short | None = None
    note: Text | None = Field(default=None, description="Searched for 'root cause: <sha>'.")


class CommitIn(Body):
    sha: Sha
    committed_at: Instant


class ChangeIn(Body):
    """Create a change or update it, by (source, external_id)."""

    source: Slug = "api"
    external_id: ExternalId
    service: Slug
    environment: Short | None = None
    kind: ChangeKind = ChangeKind.DEPLOY
    status: ChangeStatus
    started_at: Instant | None = None
    finished_at: Instant | None = None
    commit_sha: Sha | None = None
    commits: list[CommitIn] = Field(
        default_factory=list, max_length=1000, description="Commit times, for lead time."
    )
    title: Text | None = None
    url: Url | None = None
    labels: Labels = Field(
        default_factory=dict,
        description='Free-form pairs to group failures by, e.g. {"risk": "high"} (see '
        "GET /v1/failure-clusters); a later report's value of a name replaces an earlier one.",
    )


class TimelineEntry(BaseModel):
    at: dt.datetime
    what: str = Field(description="The step (incident) or status (change) reported.")
    event_key: str
    recorded_at: dt.datetime
    delivery_id: int | None


class Incident(BaseModel):
    id: int
    source: str
    external_id: str
    service: str | None
    severity: Severity | None
    priority: str | None
    status: IncidentStatus
    title: str | None
    url: str | None
    started_at: dt.datetime | None
    detected_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    users_affected: int | None
    cost_estimate: float | None
    problem_key: str | None
    caused_by: str | None = Field(description="What the incident named as its cause.")
    caused_by_change_id: int | None
    link_kind: Literal["explicit", "inferred"] | None
    service_id: int | None = Field(default=None, exclude=True)


class Change(BaseModel):
    id: int
    source: str
    external_id: str
    service: str | None
    environment: str | None
    is_production: bool
    kind: ChangeKind
    status: ChangeStatus
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    commit_sha: str | None
    commit_time: dt.datetime | None = Field(description="When the deployed commit was made.")
    title: str | None
    url: str | None
    rolled_back_change_id: int | None = Field(
        default=None, description="The deploy this rollback undid (see rollback_link_kind)."
    )
    rollback_link_kind: Literal["explicit", "inferred"] | None = Field(
        default=None,
        description="How the deploy a rollback undid was found: inferred, the last successful "
        "production deploy of its service in its environment before it.",
    )
    labels: dict[str, str] = Field(default_factory=dict, description="The change's labels.")
    service_id: int | None = Field(default=None, exclude=True)


class IncidentDetail(Incident):
    timeline: list[TimelineEntry]


class ChangeDetail(Change):
    timeline: list[TimelineEntry]
    incidents: list[int] = Field(description="Incidents linked to this change as their cause.")
    reverted_by: str | None = Field(
        default=None,
        description="Why the change counts as failed whatever its status: a later merged "
        "request reverted a commit this was the first production change to ship.",
    )
    reverts: str | None = Field(
        default=None,
        description="Why the change counts as rework: it shipped a revert of earlier work.",
    )
