"""The base of every model, the timezone rule for instants, and the service's vocabularies.

Models allow fields they do not declare, so an answer from a newer service still parses (the
new fields are kept as extras). Request models use the vocabularies below as `Literal`s so a
type checker catches a typo; answer models keep those fields as plain strings, so a value a
newer service adds does not break parsing.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict

NAIVE_DATETIME = (
    "naive datetime: give a timezone, e.g. datetime.now(timezone.utc) or "
    "'2026-11-02T09:00:00+01:00'; the service refuses instants without one"
)


def require_aware(value: dt.datetime) -> dt.datetime:
    """The datetime itself, if it carries a timezone; else a ValueError that says so."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(NAIVE_DATETIME)
    return value


#: A point in time sent to the service: timezone-aware, or refused before sending.
Instant = Annotated[dt.datetime, AfterValidator(require_aware)]


class ApiModel(BaseModel):
    """A request or answer body; keeps fields it does not declare."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class StoredCounts(ApiModel):
    """What a batch did to the stored rows (observations or cost records)."""

    inserted: int
    updated: int
    unchanged: int


Severity = Literal["sev1", "sev2", "sev3", "sev4", "sev5"]
Direction = Literal["higher_is_better", "lower_is_better"]
Aggregation = Literal["sum", "avg", "min", "max", "last", "count"]
KpiKind = Literal["observed", "ratio", "builtin"]
InitiativeStatus = Literal["proposed", "active", "delivered", "cancelled"]
Cadence = Literal["daily", "weekly", "monthly", "quarterly", "yearly"]
Grain = Literal["hour", "day", "week", "month", "quarter", "year"]
Channel = Literal["webhook", "email"]
Scope = Literal["read", "ingest", "admin"]
# Source kinds: written by `kpi export` from service/ingest/sources.
SourceKind = Literal[
    "github",
    "gitlab",
    "pagerduty",
    "opsgenie",
    "alertmanager",
    "jira",
    "incidentio",
    "servicenow",
    "cdevents",
    "argocd",
    "api",
]
# End of source kinds.
IncidentStatus = Literal["open", "acknowledged", "resolved"]
IncidentStep = Literal[
    "triggered", "acknowledged", "unacknowledged", "resolved", "reopened", "updated"
]
ChangeKind = Literal["deploy", "config", "patch", "rollback", "hotfix"]
ChangeStatus = Literal["in_progress", "success", "failed", "rolled_back", "canceled"]
EscalationState = Literal["open", "acknowledged", "resolved"]
DeliveryStatus = Literal["applied", "unmapped", "invalid", "rejected", "discarded"]
NotificationState = Literal["pending", "delivered", "failed"]
BuiltinMetric = Literal[
    "availability",
    "error_budget_remaining",
    "mttd",
    "mtta",
    "mttr",
    "time_to_restore",
    "incident_count",
    "recurrence_rate",
    "users_affected",
    "downtime_cost",
    "planned_downtime",
    "deployment_frequency",
    "lead_time",
    "change_failure_rate",
    "recovery_time",
    "rework_rate",
    "it_spend",
    "budget_variance",
    "budget_variance_share",
    "spend_forecast",
    "opex_stability",
]
