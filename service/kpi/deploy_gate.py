"""The deploy gate's rule: whether a change may go out, from the service's error budget.

budget (allowed downtime) = (1 - target) x window; spent = unplanned outage in the window
(maintenance windows excluded); remaining = allowed - spent. Under a policy that freezes when
the budget is exhausted, a change is frozen while remaining <= 0 (a target of 100 % has no
budget: any outage freezes), unless its type passes (hotfix and rollback by default).
Without a policy, or with freezing off, the gate allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Decision = Literal["allow", "freeze"]


@dataclass(frozen=True)
class Budget:
    target: float  # share, 0..1
    window_seconds: float
    spent_seconds: float

    @property
    def allowed_seconds(self) -> float:
        return (1 - self.target) * self.window_seconds

    @property
    def remaining_seconds(self) -> float:
        return self.allowed_seconds - self.spent_seconds

    @property
    def exhausted(self) -> bool:
        return self.spent_seconds > 0 and self.remaining_seconds <= 0


def decide(
    budget: Budget, change_type: str, *, has_policy: bool, freeze: bool, passing: frozenset[str]
) -> tuple[Decision, str]:
    """(allow or freeze, why) for a change of `change_type`."""
    if not has_policy:
        return "allow", "the service has no error-budget policy"
    if not freeze:
        return "allow", "the service's policy does not freeze on an exhausted budget"
    if not budget.exhausted:
        return "allow", "error budget remaining"
    if change_type in passing:
        return "allow", f"error budget exhausted, but a {change_type} passes the freeze"
    kinds = ", ".join(sorted(passing)) or "none"
    return "freeze", (
        f"error budget exhausted: production changes are frozen until it recovers (types "
        f"that pass: {kinds})"
    )
