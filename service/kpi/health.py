"""An outcome's health: the statuses of its KPIs rolled up by the weights of their links.

Each KPI with data scores met 1, at risk 0.5, breached 0; the outcome's score is the weighted
mean. A score of 0.9 or more is met, 0.6 or more at risk, anything lower breached; with no
KPI reporting data the outcome has no data.
"""

from __future__ import annotations

from collections.abc import Iterable

from service.models.enums import Status

POINTS = {Status.MET: 1.0, Status.AT_RISK: 0.5, Status.BREACHED: 0.0}
MET_FROM = 0.9
AT_RISK_FROM = 0.6


def score(items: Iterable[tuple[float, Status]]) -> float | None:
    weighted = [(w, POINTS[s]) for w, s in items if s in POINTS]
    total = sum(w for w, _ in weighted)
    if not weighted or total <= 0:
        return None
    return sum(w * p for w, p in weighted) / total


def status(value: float | None) -> Status:
    if value is None:
        return Status.NO_DATA
    if value >= MET_FROM:
        return Status.MET
    if value >= AT_RISK_FROM:
        return Status.AT_RISK
    return Status.BREACHED
