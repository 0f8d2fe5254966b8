"""When an escalation's next steps are due: pure rules over its state and the KPI's path.

A step is due once the KPI has been breached for at least its `after_breached_periods`
consecutive periods and, when it names `after_unacknowledged_minutes`, once the escalation has
stayed unacknowledged that long since it opened. Steps fire in order: a step that is not due
holds back the ones after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class Step(Protocol):
    """What the rules read of an escalation step."""

    @property
    def after_breached_periods(self) -> int: ...

    @property
    def after_unacknowledged_minutes(self) -> int | None: ...


@dataclass(frozen=True)
class EscalationState:
    breached_periods: int
    steps_fired: int
    opened_at: dt.datetime
    acknowledged: bool


def due_steps(path: Sequence[Step], state: EscalationState, now: dt.datetime) -> list[int]:
    """Positions (from 1) of the steps to fire now, in order."""
    due = []
    for position, step in enumerate(path, start=1):
        if position <= state.steps_fired:
            continue
        if state.breached_periods < step.after_breached_periods:
            break
        if step.after_unacknowledged_minutes is not None:
            waited = now - state.opened_at
            if state.acknowledged or waited < dt.timedelta(
                minutes=step.after_unacknowledged_minutes
            ):
                break
        due.append(position)
    return due
