"""Building the events adapters return: what every incident or change event says first
(which incident or change, which step or report of it, that step's key, status and time), and
severities read from the tools' own names."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.ingest.jsonread import validated
from service.models.enums import ChangeStatus, IncidentStep, Severity
from service.models.events import ChangeEvent, IncidentEvent

_PRIORITY = re.compile(r"^p([1-5])$", re.IGNORECASE)


@dataclass(frozen=True)
class IncidentHead:
    """The fields every incident event has, whatever else the tool told."""

    #: The tool's id of the incident (or alert, or issue).
    external_id: str
    #: Unique per step of that incident: the same step sent twice is stored once.
    event_key: str
    step: IncidentStep
    occurred_at: dt.datetime

    def event(self, pointer: str, /, **told: object) -> IncidentEvent:
        """The event of this step with what else the tool told, or a PayloadError at `pointer`
        naming the first field whose value breaks the event's limits."""
        return validated(
            IncidentEvent,
            pointer,
            external_id=self.external_id,
            event_key=self.event_key,
            step=self.step,
            occurred_at=self.occurred_at,
            **told,
        )


@dataclass(frozen=True)
class ChangeHead:
    """The fields every change event has, whatever else the tool told."""

    #: The tool's id of the change (a deployment, a pipeline ...), prefixed with its kind.
    external_id: str
    #: Unique per report of that change: the same report sent twice is stored once.
    event_key: str
    status: ChangeStatus
    occurred_at: dt.datetime

    def event(self, **told: Any) -> ChangeEvent:
        """The event of this report with what else the tool told."""
        return ChangeEvent(
            external_id=self.external_id,
            event_key=self.event_key,
            status=self.status,
            occurred_at=self.occurred_at,
            **told,
        )


def priority_severity(priority: str | None) -> Severity | None:
    """A priority named P1 to P5 (any case), as alerting tools name them, read as sev1 to
    sev5; None for any other name."""
    match = _PRIORITY.match(priority) if priority else None
    return Severity(f"sev{match[1]}") if match else None


def named_severity(raw: str | None, names: Mapping[str, Severity | None]) -> Severity | None:
    """The severity a tool's own name for it reads as, by its lower-case name in `names`."""
    return names.get(raw.lower()) if raw else None
