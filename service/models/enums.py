"""The closed vocabularies of the domain, shared by REST, GraphQL and the SQL checks."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class Aggregation(StrEnum):
    """How the points of one bucket are combined into one value."""

    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    LAST = "last"
    COUNT = "count"


class KpiKind(StrEnum):
    OBSERVED = "observed"
    RATIO = "ratio"
    BUILTIN = "builtin"


class Cadence(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class InitiativeStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class Severity(StrEnum):
    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"
    SEV4 = "sev4"
    SEV5 = "sev5"


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


class Grain(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class Scope(StrEnum):
    READ = "read"
    INGEST = "ingest"
    ADMIN = "admin"


class BuiltinMetric(StrEnum):
    """Metrics the KPI engine computes from incidents, changes and costs."""

    AVAILABILITY = "availability"
    ERROR_BUDGET_REMAINING = "error_budget_remaining"
    MTTD = "mttd"
    MTTA = "mtta"
    MTTR = "mttr"
    TIME_TO_RESTORE = "time_to_restore"
    INCIDENT_COUNT = "incident_count"
    RECURRENCE_RATE = "recurrence_rate"
    USERS_AFFECTED = "users_affected"
    DOWNTIME_COST = "downtime_cost"
    PLANNED_DOWNTIME = "planned_downtime"
    DEPLOYMENT_FREQUENCY = "deployment_frequency"
    LEAD_TIME = "lead_time"
    CHANGE_FAILURE_RATE = "change_failure_rate"
    RECOVERY_TIME = "recovery_time"
    REWORK_RATE = "rework_rate"
    IT_SPEND = "it_spend"
    BUDGET_VARIANCE = "budget_variance"
    BUDGET_VARIANCE_SHARE = "budget_variance_share"
    SPEND_FORECAST = "spend_forecast"
    OPEX_STABILITY = "opex_stability"


class Status(StrEnum):
    """A KPI's value against its target for a period."""

    MET = "met"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    NO_DATA = "no_data"


class Trend(StrEnum):
    """Whether a KPI moved the good way since the period before."""

    IMPROVING = "improving"
    STEADY = "steady"
    WORSENING = "worsening"
    UNKNOWN = "unknown"


class TargetScope(StrEnum):
    """Where a status's target came from."""

    SERVICE = "service"
    TIER = "tier"
    GLOBAL = "global"
    DEFAULT = "default"
    #: No target of its own: the KPI overall takes the worst status of its services.
    SERVICES = "services"


class ClusterDimension(StrEnum):
    """What failures are grouped by (GET /v1/failure-clusters)."""

    SERVICE = "service"
    TIER = "tier"
    TEAM = "team"
    KIND = "kind"
    ENVIRONMENT = "environment"
    SERVICE_ATTRIBUTE = "service_attribute"
    CHANGE_LABEL = "change_label"

    @property
    def needs_name(self) -> bool:
        """Whether the dimension needs the name of an attribute or label."""
        return self in (ClusterDimension.SERVICE_ATTRIBUTE, ClusterDimension.CHANGE_LABEL)

    @property
    def of_changes(self) -> bool:
        """Whether incidents group by the change named as their cause."""
        return self in (
            ClusterDimension.KIND,
            ClusterDimension.ENVIRONMENT,
            ClusterDimension.CHANGE_LABEL,
        )


class ClusterOrder(StrEnum):
    """How failure clusters are sorted: by share of failed changes or of restore time."""

    FAILURES = "failures"
    RESTORE_TIME = "restore_time"


class Band(StrEnum):
    """A DORA 2023 performance band."""

    ELITE = "elite"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class IncidentStep(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    #: Back to open without a resolution: unacknowledged, or reassigned to someone who has
    #: not acknowledged it yet (PagerDuty puts a reassigned incident back to triggered).
    UNACKNOWLEDGED = "unacknowledged"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    UPDATED = "updated"  # fields changed (priority, title ...); the status only if `status` says


#: An incident's status: open (triggered, not acknowledged), acknowledged, or resolved.
IncidentStatus = Literal["open", "acknowledged", "resolved"]


class ChangeStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    SUCCESS = "success"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    CANCELED = "canceled"


class ChangeKind(StrEnum):
    DEPLOY = "deploy"
    CONFIG = "config"
    PATCH = "patch"
    ROLLBACK = "rollback"
    HOTFIX = "hotfix"
