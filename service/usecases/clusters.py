"""Where failures cluster: production changes, their failures and the incidents' restore
time, grouped by one dimension and sorted by each group's share (GET /v1/failure-clusters,
the graph's `failureClusters`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from service.db import Connection
from service.errors import invalid
from service.kpi import clusters as rules
from service.kpi.periods import Period
from service.models.enums import ClusterDimension, ClusterOrder, Severity
from service.models.reports import FailureCluster, FailureClusters
from service.store import clusters as store
from service.store.metrics import MetricScope
from service.usecases.reports import percent, report_window


def _checked_name(by: ClusterDimension, name: str | None) -> str | None:
    if by.needs_name and not name:
        raise invalid("name", f"grouping by {by.value} needs the name of the attribute or label")
    if not by.needs_name and name is not None:
        raise invalid("name", "only service_attribute and change_label take a name")
    return name


def _cluster(c: rules.Cluster) -> FailureCluster:
    g = c.counts
    return FailureCluster(
        key=g.key,
        changes=g.changes,
        failures=g.failures,
        change_failure_rate=percent(c.change_failure_rate),
        share_of_failures=percent(c.failure_share),
        incidents=g.incidents,
        resolved_incidents=g.resolved,
        restore_hours=g.restore_seconds / 3600,
        share_of_restore_time=percent(c.restore_share),
        mean_time_to_restore=None if c.mean_restore_seconds is None
        else c.mean_restore_seconds / 60,
    )  # fmt: skip


async def failure_clusters(
    con: Connection, scope: MetricScope, window: Period, now: dt.datetime, *,
    by: ClusterDimension, name: str | None = None,
    severities: Sequence[Severity] | None = None, order: ClusterOrder = ClusterOrder.FAILURES,
) -> FailureClusters:  # fmt: skip
    """The scope's changes and incidents of the window grouped by `by`, the largest share
    first."""
    name = _checked_name(by, name)
    counts = await store.failure_clusters(
        con, scope.service_ids, window, by, name,
        None if severities is None else [s.value for s in severities],
    )  # fmt: skip
    ranked = rules.clusters(counts, by_restore_time=order is ClusterOrder.RESTORE_TIME)
    changes = sum(g.changes for g in counts)
    failures = sum(g.failures for g in counts)
    return FailureClusters(
        window=report_window(window, now),
        by=by,
        name=name,
        order=order,
        changes=changes,
        failures=failures,
        change_failure_rate=percent(failures / changes if changes else None),
        incidents=sum(g.incidents for g in counts),
        restore_hours=sum(g.restore_seconds for g in counts) / 3600,
        clusters=[_cluster(c) for c in ranked],
    )
