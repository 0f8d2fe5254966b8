"""Planned downtime: the outage time that falls inside maintenance windows.

Outage inside an announced maintenance window is planned downtime: it is left out of
availability and the error budget and reported on its own. What remains is unplanned:
unplanned = |union of outages| - |union of outages ∩ union of windows| (within the window).
sql/queries/maintenance.sql computes the same per service and window; tests pin both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from service.kpi.intervals import Interval, Window

Closed = tuple[dt.datetime, dt.datetime]


def merged(intervals: Iterable[Interval], window: Window, now: dt.datetime) -> list[Closed]:
    """The union of the intervals clipped to the window, as disjoint intervals in order; an
    open one (end None) runs until `now`."""
    clipped = sorted(
        (max(start, window.start), min(end if end is not None else now, window.end))
        for start, end in intervals
    )
    out: list[Closed] = []
    for begin, stop in clipped:
        if stop <= begin:
            continue
        if out and begin <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], stop))
        else:
            out.append((begin, stop))
    return out


def planned_seconds(
    outages: Iterable[Interval], windows: Iterable[Closed], window: Window, now: dt.datetime
) -> float:
    """Seconds of the window in which the service was down inside a maintenance window."""
    down = merged(outages, window, now)
    planned = merged(windows, window, now)
    total = 0.0
    i = j = 0
    while i < len(down) and j < len(planned):
        begin = max(down[i][0], planned[j][0])
        stop = min(down[i][1], planned[j][1])
        if stop > begin:
            total += (stop - begin).total_seconds()
        if down[i][1] < planned[j][1]:
            i += 1
        else:
            j += 1
    return total
