"""A KPI value against its target: met, at risk, breached or no data, and its trend.

For a higher-is-better KPI, a value at or above the warning threshold is met, at or above
the target (but under the warning) at risk, and under the target breached; lower-is-better
mirrors it. Without a warning threshold there is no "at risk": at or beyond target is met.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from service.models.enums import Direction, Status, Trend


def _at_least(value: float, bound: float, direction: Direction) -> bool:
    """Whether `value` is as good as `bound` or better."""
    if direction is Direction.HIGHER_IS_BETTER:
        return value >= bound
    return value <= bound


def evaluate(
    value: float | None, target: float | None, warning: float | None, direction: Direction
) -> Status:
    if value is None or target is None:
        return Status.NO_DATA
    if not _at_least(value, target, direction):
        return Status.BREACHED
    if warning is not None and not _at_least(value, warning, direction):
        return Status.AT_RISK
    return Status.MET


def trend(
    current: float | None, previous: float | None, direction: Direction,
    tolerance: float = 1e-9,
) -> Trend:  # fmt: skip
    """Whether the KPI moved the good way since the previous period; changes within
    `tolerance` (relative to the previous value's size, at least absolute) are steady."""
    if current is None or previous is None:
        return Trend.UNKNOWN
    delta = current - previous
    if abs(delta) <= tolerance * max(1.0, abs(previous)):
        return Trend.STEADY
    better = delta > 0 if direction is Direction.HIGHER_IS_BETTER else delta < 0
    return Trend.IMPROVING if better else Trend.WORSENING


_SEVERITY = {Status.BREACHED: 3, Status.AT_RISK: 2, Status.MET: 1, Status.NO_DATA: 0}


def worst(statuses: Iterable[Status]) -> Status:
    """The worst of several statuses (breached, then at risk, then met); no data if none has
    data."""
    return max(statuses, key=_SEVERITY.__getitem__, default=Status.NO_DATA)


def gap(value: float | None, target: float | None, direction: Direction) -> float:
    """How far `value` lies on the bad side of `target`, relative to the target's size
    (negative when it is on the good side); 0 when either is unknown."""
    if value is None or target is None:
        return 0.0
    beyond = target - value if direction is Direction.HIGHER_IS_BETTER else value - target
    return beyond / abs(target) if target else beyond


def driver(
    items: Sequence[tuple[Status, float | None, float | None]], direction: Direction
) -> int | None:
    """Of (status, value, target) items, the index of the one that sets their worst status:
    the worst status, and of those the furthest beyond (or nearest to) its target; the
    first of equals. None when no item has data."""
    ranked = [
        (_SEVERITY[status], gap(value, target, direction), -i)
        for i, (status, value, target) in enumerate(items)
        if status is not Status.NO_DATA
    ]
    return -max(ranked)[2] if ranked else None
