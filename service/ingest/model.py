"""What an adapter receives and returns: a delivery, its options, and everything it said
(the events of service/models/events.py), or why it could not say anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from service.models.events import ChangeEvent, CommitRecord, IncidentEvent


class Mapped(BaseModel):
    """Everything one delivery said."""

    incidents: list[IncidentEvent] = Field(default_factory=list)
    changes: list[ChangeEvent] = Field(default_factory=list)
    commits: list[CommitRecord] = Field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.incidents or self.changes or self.commits)


class Unsupported(Exception):
    """A valid delivery the service does not act on (an event type it does not use, a closed
    but unmerged pull request ...): kept as unmapped with this reason, never an error."""


class PayloadError(Exception):
    """The payload does not have the shape the tool documents: a 422 naming the field, and
    the header the shape was expected from when a header said what the body should be."""

    def __init__(self, pointer: str, detail: str, *, header: str | None = None) -> None:
        super().__init__(f"{pointer}: {detail}")
        self.pointer = pointer
        self.detail = detail
        self.header = header


@dataclass(frozen=True)
class AdapterOptions:
    """Per-source settings an adapter needs."""

    #: Jira issue types that count as incidents (case-insensitive).
    incident_issue_types: tuple[str, ...] = ("incident",)
    #: The settings of the source's own kind (its package's options model), defaults filled
    #: in: read them with `Options.model_validate(options.kind_options)`.
    kind_options: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """A delivery as the adapter sees it: lower-cased headers and the parsed JSON body."""

    headers: Mapping[str, str]
    payload: object
    received_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
