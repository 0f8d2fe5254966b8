"""Sources: the tools that send incidents and changes, with their secret and mapping rules."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, JsonValue, SecretStr, StringConstraints

from service.models.catalog import Body, Name, NoNul, Slug
from service.models.enums import Severity


# The kinds a source may be registered with: the tools of SOURCES, and the generic API. (No
# docstring: it would become the enum's description in the OpenAPI document.)
class SourceKind(StrEnum):
    # Source kinds: written by `kpi export` from service/ingest/sources.
    GITHUB = "github"
    GITLAB = "gitlab"
    PAGERDUTY = "pagerduty"
    OPSGENIE = "opsgenie"
    ALERTMANAGER = "alertmanager"
    JIRA = "jira"
    INCIDENTIO = "incidentio"
    SERVICENOW = "servicenow"
    CDEVENTS = "cdevents"
    ARGOCD = "argocd"
    API = "api"
    # End of source kinds.


def _no_nul_secret(secret: SecretStr) -> SecretStr:
    if "\x00" in secret.get_secret_value() or not secret.get_secret_value():
        raise ValueError("must be non-empty and without the NUL character")
    return secret


Word = Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul]


class ServiceRule(Body):
    """Maps what a tool calls a service to a business service: every `match` entry must equal
    the event's attribute (`ref` is the tool's service name or id; other keys are labels such
    as repository, environment, service_id, component:<name>)."""

    match: dict[Word, Annotated[str, StringConstraints(max_length=500), NoNul]] = Field(
        min_length=1
    )
    service: Slug


class SourceIn(Body):
    name: Slug
    kind: SourceKind
    secret: (
        Annotated[
            SecretStr, AfterValidator(_no_nul_secret), Field(json_schema_extra={"minLength": 1})
        ]
        | None
    ) = Field(
        default=None,
        description="HMAC key (GitHub, PagerDuty), token (GitLab, bearer) or password (basic "
        "auth). Write-only: never returned. Omit on replace to keep the current one.",
    )
    username: Name | None = Field(default=None, description="For basic auth.")
    severity_map: dict[Word, Severity] = Field(
        default_factory=dict,
        description="The tool's severity or priority names -> sev1..sev5, over the defaults.",
    )
    service_rules: list[ServiceRule] = Field(default_factory=list, max_length=500)
    production_envs: list[Word] = Field(default_factory=lambda: ["production", "prod"])
    incident_issue_types: list[Word] = Field(
        default_factory=lambda: ["incident"], description="Jira issue types that are incidents."
    )
    infer_links: bool = Field(
        default=True,
        description="Link an incident to the last successful production change of its service "
        "within infer_window_minutes before impact start, marked inferred.",
    )
    infer_window_minutes: int = Field(default=240, ge=1, le=43_200)
    open_to_api: bool = Field(
        default=False,
        description="Let the generic endpoints (POST /v1/incidents, /v1/incidents/{id}/events, "
        "/v1/changes) write to this source with an ingest token. Off by default: what a "
        "signed tool reported is changed only by the tool. Sources of kind api are always open.",
    )
    options: dict[Word, JsonValue] = Field(
        default_factory=dict,
        max_length=50,
        description="Settings of the source's own kind (e.g. a Jira custom field id), checked "
        "against the kind's options: the README's Sources lists them per kind. Unknown names "
        "are refused; those left out take their defaults.",
    )
    team: Slug | None = Field(
        default=None,
        description="Limit the source to this team's services (those the team or any team "
        "under it owns): a delivery whose service maps to another is kept as unmapped, with "
        "the reason, and answered 202 like any unmapped delivery (replay it later).",
    )


class Source(BaseModel):
    id: int
    name: str
    kind: SourceKind
    has_secret: bool
    username: str | None
    severity_map: dict[str, Severity]
    service_rules: list[ServiceRule]
    production_envs: list[str]
    incident_issue_types: list[str]
    infer_links: bool
    infer_window_minutes: int
    open_to_api: bool
    options: dict[str, JsonValue] = Field(
        default_factory=dict, description="The kind's settings, defaults filled in."
    )
    team: str | None = Field(default=None, description="The team the source is limited to.")
    webhook_path: str


class SourceSecret(BaseModel):
    """A source as the webhook pipeline needs it: with its secret. Never sent to a client."""

    source: Source
    secret: str | None
