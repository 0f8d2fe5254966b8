"""What the tools state about services, incidents and changes: the reference's input.

Every instant is the tool's own time (aware, UTC). A history may hold a step or a report more
than once and in any order: that is how deliveries arrive, and the fold in `timeline` must give
the same record whatever the order and however many copies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: Steps of an incident's life; `unacknowledged` sends it back to open (PagerDuty reassign or
#: unacknowledge), `updated` changes no status.
STEPS = ("triggered", "acknowledged", "unacknowledged", "resolved", "reopened", "updated")
#: Final change statuses: a change with one of them has finished.
FINAL_STATUSES = ("success", "failed", "rolled_back", "canceled")
#: Statuses a deployment counts with in DORA (a canceled change never reached production).
DEPLOYED_STATUSES = ("success", "failed", "rolled_back")
PRODUCTION_ENVIRONMENTS = ("production", "prod")


def severity_rank(severity: str) -> int:
    """sev1 -> 1 ... sev5 -> 5: the lower, the more severe."""
    if len(severity) != 4 or not severity.startswith("sev") or severity[3] not in "12345":
        raise ValueError(f"not a severity: {severity!r}")
    return int(severity[3])


@dataclass(frozen=True)
class Service:
    slug: str
    tier: int
    outage_threshold: str = "sev2"
    revenue_per_hour: float = 0.0


@dataclass(frozen=True)
class Step:
    kind: str
    at: dt.datetime

    def __post_init__(self) -> None:
        if self.kind not in STEPS:
            raise ValueError(f"not an incident step: {self.kind!r}")


@dataclass(frozen=True)
class Incident:
    """An incident as stated: its fields and every step sent (duplicates and all)."""

    external_id: str
    service: str
    severity: str
    steps: tuple[Step, ...]
    detected_at: dt.datetime | None = None  # stated detection time
    started_at: dt.datetime | None = None  # stated impact start
    problem_key: str | None = None
    caused_by: str | None = None  # a change's external id or commit sha
    users_affected: int | None = None
    cost_estimate: float | None = None


@dataclass(frozen=True)
class Commit:
    sha: str
    committed_at: dt.datetime


@dataclass(frozen=True)
class ChangeReport:
    """One report of a change: `in_progress` at its start, or a final status at its finish."""

    status: str
    at: dt.datetime

    def __post_init__(self) -> None:
        if self.status != "in_progress" and self.status not in FINAL_STATUSES:
            raise ValueError(f"not a change status: {self.status!r}")


@dataclass(frozen=True)
class Change:
    """A change as stated: its fields, every report sent, and the commits it shipped."""

    external_id: str
    service: str
    environment: str
    kind: str
    reports: tuple[ChangeReport, ...]
    started_at: dt.datetime | None = None
    commit_sha: str | None = None  # the head commit deployed
    commits: tuple[Commit, ...] = ()
