"""Sources (the tools that send incidents and changes) and the delivery log."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, JsonValue, SecretStr, field_serializer

from kpi_client.models.base import ApiModel, Severity, SourceKind


class ServiceRule(ApiModel):
    """Maps a tool's service to a business service when every `match` entry equals the event's
    attribute (`ref` is the tool's service name; other keys are labels)."""

    match: dict[str, str]
    service: str


class SourceFields(ApiModel):
    """A source's settings, in requests and answers alike (never its secret)."""

    name: str
    kind: str
    username: str | None = None
    service_rules: list[ServiceRule] = Field(default_factory=list)
    production_envs: list[str] = Field(default_factory=list)
    incident_issue_types: list[str] = Field(default_factory=list)
    infer_links: bool = True
    infer_window_minutes: int = 240
    open_to_api: bool = Field(
        default=False,
        description="Let the generic incident and change endpoints write to this source "
        "(sources of kind api always are).",
    )
    options: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="Settings of the source's own kind (see the service README's 'Setting up "
        "each tool'); unknown names are refused.",
    )
    team: str | None = Field(
        default=None,
        description="Limit the source to this team's services (and its sub-teams'): a "
        "delivery for another service is kept as unmapped, with the reason.",
    )


class SourceIn(SourceFields):
    kind: SourceKind
    secret: SecretStr | None = Field(
        default=None, description="Write-only; omit on replace to keep the current one."
    )
    severity_map: dict[str, Severity] = Field(default_factory=dict)
    production_envs: list[str] = Field(default_factory=lambda: ["production", "prod"])
    incident_issue_types: list[str] = Field(default_factory=lambda: ["incident"])

    @field_serializer("secret", when_used="json")
    def _reveal_on_the_wire(self, secret: SecretStr | None) -> str | None:
        # Hidden in repr and logs, sent in the request body.
        return None if secret is None else secret.get_secret_value()


class Source(SourceFields):
    id: int
    has_secret: bool
    webhook_path: str
    severity_map: dict[str, str] = Field(default_factory=dict)


class DeliveryRow(ApiModel):
    id: int
    source: str
    received_at: dt.datetime
    status: str
    attempts: int
    delivery_key: str | None = None
    event_type: str | None = None
    detail: str | None = None
    applied_at: dt.datetime | None = None
    body_bytes: int | None = None


class DeliveryDetail(DeliveryRow):
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None


class RejectionSample(ApiModel):
    """A webhook delivery refused for not proving its source: when, from which address, and
    its headers (without those carrying secrets, cut short); never its body."""

    received_at: dt.datetime
    client: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)


class WebhookRejections(ApiModel):
    """How many deliveries to a source were refused for a reason (`signature`), since when,
    with the last few as samples, newest first."""

    source: str
    kind: str
    reason: str
    count: int
    first_at: dt.datetime
    last_at: dt.datetime
    samples: list[RejectionSample] = Field(default_factory=list)


class DeliveryOutcome(ApiModel):
    """What a delivery (or its replay) did. `status` is applied, unmapped or duplicate."""

    delivery_id: int
    status: str
    detail: str | None = None
    incidents: list[int] = Field(default_factory=list)
    changes: list[int] = Field(default_factory=list)
    commits: int = 0


class ReplayReport(ApiModel):
    applied: list[int] = Field(default_factory=list)
    still_unmapped: list[int] = Field(default_factory=list)
