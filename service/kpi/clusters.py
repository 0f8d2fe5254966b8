"""Where failures cluster: the shares of failed changes and of restore time that each group
(of services, teams, change kinds ...) accounts for. Pure: counts in, shares out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class GroupCounts:
    """What one group holds: its production changes and how many failed, its incidents and
    how many are resolved, with their restore times summed (seconds)."""

    key: str | None
    changes: int
    failures: int
    incidents: int
    resolved: int
    restore_seconds: float


@dataclass(frozen=True)
class Cluster:
    counts: GroupCounts
    change_failure_rate: float | None  # failures / changes
    failure_share: float | None  # failures / all failures
    restore_share: float | None  # restore time / all restore time
    mean_restore_seconds: float | None  # restore time / resolved incidents


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def clusters(groups: Iterable[GroupCounts], *, by_restore_time: bool = False) -> list[Cluster]:
    """Each group with its shares, the largest share of failures first (of restore time
    first when `by_restore_time`); ties by the other share, then by key (no key last)."""
    groups = list(groups)
    failures = sum(g.failures for g in groups)
    restore = sum(g.restore_seconds for g in groups)
    out = [
        Cluster(
            counts=g,
            change_failure_rate=_ratio(g.failures, g.changes),
            failure_share=_ratio(g.failures, failures),
            restore_share=_ratio(g.restore_seconds, restore),
            mean_restore_seconds=_ratio(g.restore_seconds, g.resolved),
        )
        for g in groups
    ]

    def rank(c: Cluster) -> tuple[float, float, bool, str]:
        first, second = float(c.counts.failures), c.counts.restore_seconds
        if by_restore_time:
            first, second = second, first
        return (-first, -second, c.counts.key is None, c.counts.key or "")

    return sorted(out, key=rank)
