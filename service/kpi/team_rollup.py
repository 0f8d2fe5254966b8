"""Team roll-ups: a team's figures over its own services and those of every team below it,
each service counted only for the stretches of the window its team owned it.

A stretch of ownership is a `Segment`; the figures of a segment are the service's own over
that stretch (the same definitions as a service's report), and a team's figure combines its
segments: availability as service-minutes (outage minutes over window minutes, summed over
segments, optionally weighted by tier), counts and sums added, medians taken over the records
of every segment together (in SQL, one group per team).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from service.kpi.periods import Period

#: Weight of a service-minute of each tier in the tier-weighted availability: a minute of a
#: tier 1 service counts four times a minute of a tier 4 one.
TIER_WEIGHTS: Mapping[int, int] = {1: 4, 2: 3, 3: 2, 4: 1}


@dataclass(frozen=True)
class Segment:
    """`team` (the team a figure is for) owned `service` through a team at or below it
    during `period`."""

    team: int
    service: int
    period: Period
    tier: int
    users: int | None = None

    @property
    def seconds(self) -> float:
        return self.period.seconds


def merged(segments: Iterable[Segment]) -> list[Segment]:
    """The segments with those of one team and service that touch or overlap joined (a
    service moving between two sub-teams stays one stretch for their parent), ordered by
    team, service and start."""
    out: list[Segment] = []
    for s in sorted(segments, key=lambda s: (s.team, s.service, s.period.start)):
        last = out[-1] if out else None
        if (
            last
            and (last.team, last.service) == (s.team, s.service)
            and (s.period.start <= last.period.end)
        ):
            end = max(last.period.end, s.period.end)
            out[-1] = replace(last, period=Period(last.period.start, end))
        else:
            out.append(s)
    return out


def clipped(segments: Iterable[Segment], window: Period) -> list[Segment]:
    """The parts of the segments inside `window` (segments outside it dropped)."""
    out = []
    for s in segments:
        start, end = max(s.period.start, window.start), min(s.period.end, window.end)
        if end > start:
            out.append(replace(s, period=Period(start, end)))
    return out


@dataclass(frozen=True)
class Availability:
    """A team's availability over its segments."""

    #: 1 - outage seconds / service seconds; None without any service-time.
    share: float | None
    #: The same with each service's seconds weighted by TIER_WEIGHTS.
    weighted: float | None
    service_seconds: float
    outage_seconds: float


def availability(segments: Sequence[Segment], outage: Sequence[float]) -> Availability:
    """The availability of a team's segments, `outage[i]` the merged outage seconds of
    segments[i]'s service within its period."""
    total = sum(s.seconds for s in segments)
    down = sum(outage)
    w_total = sum(TIER_WEIGHTS[s.tier] * s.seconds for s in segments)
    w_down = sum(TIER_WEIGHTS[s.tier] * o for s, o in zip(segments, outage, strict=True))
    return Availability(
        share=1 - down / total if total > 0 else None,
        weighted=1 - w_down / w_total if w_total > 0 else None,
        service_seconds=total,
        outage_seconds=down,
    )


def users(segments: Sequence[Segment], window: Period) -> float | None:
    """The users a team serves over the window: each service's user count weighted by the
    share of the window the team owned it (None when no service states a count)."""
    counted = [s for s in segments if s.users is not None]
    if not counted or window.seconds <= 0:
        return None
    return sum((s.users or 0) * s.seconds / window.seconds for s in counted)


def per_user(amount: float, served: float | None) -> float | None:
    """Unit cost: spend per user served (None without users)."""
    return amount / served if served else None


def bucket_windows(buckets: Sequence[Period], start: dt.datetime, end: dt.datetime) -> list[Period]:
    """The parts of the buckets inside [start, end)."""
    return [
        Period(max(b.start, start), min(b.end, end))
        for b in buckets
        if min(b.end, end) > max(b.start, start)
    ]
