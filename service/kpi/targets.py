"""Which target applies: the service's own, else its tier's, else the global one.

Availability KPIs without any target fall back to the tier defaults of the SLO convention.
A target applies to a period when it is in effect on the period's first day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from service.models.enums import TargetScope


class Target(Protocol):
    """What the rules read of a target."""

    @property
    def service(self) -> str | None: ...
    @property
    def tier(self) -> int | None: ...
    @property
    def value(self) -> float: ...
    @property
    def warning(self) -> float | None: ...
    @property
    def effective_from(self) -> dt.date: ...
    @property
    def effective_to(self) -> dt.date | None: ...


T = TypeVar("T", bound=Target)

#: Default availability targets by tier, as shares.
DEFAULT_AVAILABILITY = {1: 0.9995, 2: 0.999, 3: 0.995, 4: 0.99}


@dataclass(frozen=True)
class Effective:
    value: float
    warning: float | None
    scope: TargetScope


def in_effect(target: Target, day: dt.date) -> bool:
    return target.effective_from <= day and (
        target.effective_to is None or day < target.effective_to
    )


def effective(
    targets: Iterable[T], *, service: str | None, tier: int | None, day: dt.date
) -> Effective | None:
    """The most specific target in effect on `day` for a service (slug and tier), or for the
    KPI overall when `service` is None (only a global target applies then)."""
    best: dict[TargetScope, T] = {}
    for t in targets:
        if not in_effect(t, day):
            continue
        if t.service is not None:
            if service is not None and t.service == service:
                scope = TargetScope.SERVICE
            else:
                continue
        elif t.tier is not None:
            if service is not None and t.tier == tier:
                scope = TargetScope.TIER
            else:
                continue
        else:
            scope = TargetScope.GLOBAL
        current = best.get(scope)
        if current is None or t.effective_from > current.effective_from:
            best[scope] = t
    for scope in (TargetScope.SERVICE, TargetScope.TIER, TargetScope.GLOBAL):
        if scope in best:
            return Effective(best[scope].value, best[scope].warning, scope)
    return None
