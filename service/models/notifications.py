"""Notifications in the outbox and their delivery attempts, as read back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

NotificationState = Literal["pending", "delivered", "failed"]


class Attempt(BaseModel):
    id: int
    at: dt.datetime = Field(description="When the attempt was made (its webhook-timestamp).")
    status_code: int | None = Field(description="The receiver's HTTP status, if it answered.")
    error: str | None = Field(
        description="Why no answer came: refused by the outbound rules, no answer in time, or "
        "no connection (without network detail)."
    )
    duration_ms: float


class Notification(BaseModel):
    id: int
    escalation_id: int | None
    position: int | None
    message_id: str = Field(description="The webhook-id header, the same on every attempt.")
    url: str
    event_type: str = Field(description="The envelope's `type`, e.g. kpi.escalation.step.")
    payload: dict[str, Any] = Field(
        description="The body sent, in the Standard Webhooks envelope: "
        '{"type": ..., "timestamp": ..., "data": {...}}.'
    )
    state: NotificationState
    attempts: int = Field(description="Attempts started so far.")
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime
    attempt_log: list[Attempt] = Field(description="Every attempt, oldest first.")


@dataclass(frozen=True)
class ClaimedNotification:
    """A due notification claimed for one attempt (`attempts` counts it)."""

    id: int
    message_id: str
    url: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt to send a notification came to."""

    outbox_id: int
    attempts: int
    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
