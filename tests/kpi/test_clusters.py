"""The pure ranking of failure clusters: shares of all failures and of all restore time."""

from __future__ import annotations

import pytest

from service.kpi.clusters import GroupCounts, clusters


def group(key: str | None, changes: int, failures: int, restore: float) -> GroupCounts:
    return GroupCounts(key=key, changes=changes, failures=failures, incidents=1,
                       resolved=1 if restore else 0, restore_seconds=restore)  # fmt: skip


def test_shares_and_order() -> None:
    found = clusters([group("a", 10, 1, 600.0), group("b", 4, 3, 0.0), group(None, 0, 0, 1800.0)])
    # 4 failures in all: b 3/4, a 1/4; restore 2400 s: None 1800/2400, a 600/2400.
    assert [c.counts.key for c in found] == ["b", "a", None]
    b, a, none = found
    assert (b.failure_share, b.change_failure_rate, b.restore_share) == (0.75, 0.75, 0.0)
    assert (a.failure_share, a.change_failure_rate) == (0.25, 0.1)
    assert a.restore_share == pytest.approx(0.25)
    assert (a.mean_restore_seconds, b.mean_restore_seconds) == (600.0, None)
    # No change in the null group: no failure rate, rather than 0 %.
    assert (none.change_failure_rate, none.restore_share) == (None, 0.75)


def test_by_restore_time_and_ties() -> None:
    groups = [group("b", 2, 1, 60.0), group("a", 2, 1, 60.0), group(None, 0, 0, 120.0)]
    # By restore time: the null group (120 s) first; a and b tie on both shares: by key.
    assert [c.counts.key for c in clusters(groups, by_restore_time=True)] == [None, "a", "b"]
    # By failures: a and b (1 each) before the null group; the tie again by key.
    assert [c.counts.key for c in clusters(groups)] == ["a", "b", None]


def test_nothing_failed_gives_no_shares() -> None:
    (only,) = clusters([group("a", 3, 0, 0.0)])
    assert (only.failure_share, only.restore_share, only.change_failure_rate) == (None, None, 0.0)
