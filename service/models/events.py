"""What the tools tell: tool-neutral incident and change events, and commits.

An adapter (service/ingest/) turns one delivery into these events; ingestion maps each
event's service reference to a business service, stores the event in the incident's (or
change's) timeline, and rebuilds the incident from its whole timeline (models/timeline.py),
so the order in which events arrive does not matter.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field

from service.models.enums import ChangeKind, ChangeStatus, IncidentStatus, IncidentStep, Severity


class IncidentEvent(BaseModel):
    """One step in an incident's life, with whatever fields the tool told at that step."""

    external_id: str = Field(min_length=1, max_length=200)
    event_key: str = Field(
        min_length=1, max_length=300,
        description="Unique per step of this incident (the tool's event id, or one derived "
        "from the step and its time): the same step sent twice is stored once.",
    )  # fmt: skip
    step: IncidentStep
    occurred_at: AwareDatetime = Field(description="When the step happened in the tool.")
    status: IncidentStatus | None = Field(
        default=None,
        description="The incident's status as the tool states it as of this step (PagerDuty "
        "sends it with every event); when given it wins over what the step implies.",
    )
    service_ref: str | None = Field(
        default=None, description="The tool's name or id for the affected service."
    )
    service_labels: dict[str, str] = Field(
        default_factory=dict, description="Other attributes mapping rules may match on."
    )
    title: str | None = None
    url: str | None = None
    severity: Severity | None = Field(default=None, description="Normalised by tool defaults.")
    severity_raw: str | None = Field(
        default=None, description="The tool's own severity or priority name, for source maps."
    )
    priority: str | None = None
    impact_start: AwareDatetime | None = None
    detected_at: AwareDatetime | None = None
    users_affected: int | None = Field(default=None, ge=0)
    cost_estimate: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    problem_key: str | None = None
    caused_by: str | None = Field(
        default=None, description="A change's external id or a commit sha, given explicitly."
    )
    text: str | None = Field(
        default=None, description="Free text searched for 'root cause: <sha>' / 'caused by: <id>'."
    )
    firing_until: AwareDatetime | None = Field(
        default=None,
        description="An alerting tool's word that the alert is firing as of this delivery, "
        "and until when it holds unless refreshed: a resolution before that time has been "
        "retracted (Alertmanager re-sends a resolved alert firing to say so).",
    )


class ChangeEvent(BaseModel):
    """One report about a change (deployment, pipeline ...), e.g. running, then succeeded."""

    external_id: str = Field(min_length=1, max_length=200)
    event_key: str = Field(min_length=1, max_length=300)
    status: ChangeStatus
    occurred_at: AwareDatetime
    service_ref: str | None = None
    service_labels: dict[str, str] = Field(default_factory=dict)
    environment: str | None = None
    kind: ChangeKind = ChangeKind.DEPLOY
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None
    commit_sha: str | None = None
    commits: list[str] = Field(
        default_factory=list, description="Shas of every commit the change shipped."
    )
    title: str | None = None
    url: str | None = None
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="The change's own labels (risk, change type ...), to group failures by.",
    )
    rolls_back_previous: bool = Field(
        default=False,
        description="A rollback that names no deploy (CDEvents' service.rolledback): it counts "
        "against the last successful production deploy of its service in its environment "
        "before it, linked as inferred.",
    )


class CommitRecord(BaseModel):
    """A commit and when it was made: the start of lead time for changes."""

    sha: str = Field(min_length=4, max_length=64)
    committed_at: AwareDatetime
    repo: str | None = None
    request: str | None = Field(
        default=None, max_length=300,
        description="The pull or merge request that merged it: owner/repo#N, group/project!N.",
    )  # fmt: skip
    reverts: list[str] = Field(
        default_factory=list, max_length=50,
        description="What it reverts: commit shas, or requests as `request` names them. The "
        "production change that shipped the reverted work counts as failed, and the change "
        "that ships this commit as rework.",
    )  # fmt: skip
    revert_reason: str | None = Field(
        default=None, max_length=300, description="Why it is a revert, shown on the change."
    )
