"""SLIs from Prometheus, the rules without I/O: which buckets are due, how a query names its
bucket, and which of a bucket's answers become points and which stay gaps.

A bucket [start, start + bucket) is evaluated by asking Prometheus for the queries' values at
its end (query_range with start = the first bucket's end and step = the bucket), so
`increase(x[$__bucket])` at the end covers exactly the bucket. Buckets start at multiples of
their length since the epoch, hence at UTC midnight for every length dividing a day. A bucket
is due once `delay` has passed since its end (Prometheus scrapes and rules lag a little). A
due bucket with both samples becomes a point; one without them is asked again each round until
`gap_after` has passed since its end, then left as a gap (nothing is invented for it).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

#: What a query writes where it means the bucket's length, as in Grafana's `$__interval`.
PLACEHOLDER = "$__bucket"

#: Prometheus durations a bucket may have, in seconds: each divides a day.
BUCKET_SECONDS = {
    "1m": 60, "5m": 300, "10m": 600, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200,
    "3h": 10_800, "6h": 21_600, "12h": 43_200, "1d": 86_400,
}  # fmt: skip

#: Most buckets asked for in one query_range (Prometheus refuses more than 11,000 points).
BUCKETS_PER_QUERY = 1_000
#: Most buckets one SLI evaluates in one round; the rest follow in the next rounds.
BUCKETS_PER_ROUND = 10_000

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def query_for(query: str, bucket: str) -> str:
    """The query as sent: the placeholder replaced by the bucket's duration (e.g. `1h`)."""
    return query.replace(PLACEHOLDER, bucket)


def floor_bucket(instant: dt.datetime, seconds: int) -> dt.datetime:
    """The start of the bucket holding `instant`."""
    elapsed = int((instant - EPOCH).total_seconds())
    return EPOCH + dt.timedelta(seconds=elapsed - elapsed % seconds)


def due_window(
    next_bucket: dt.datetime | None, seconds: int, now: dt.datetime, *,
    delay: dt.timedelta, backfill: dt.timedelta,
) -> list[dt.datetime]:  # fmt: skip
    """The starts of the buckets to evaluate this round: from the first one not settled (or,
    for a new SLI, the bucket holding now - backfill) to the last one whose end lies `delay`
    before now, at most BUCKETS_PER_ROUND of them."""
    step = dt.timedelta(seconds=seconds)
    first = next_bucket if next_bucket is not None else floor_bucket(now - backfill, seconds)
    last_end = floor_bucket(now - delay, seconds)
    count = min(int((last_end - first) / step), BUCKETS_PER_ROUND)
    return [first + i * step for i in range(max(count, 0))]


def chunks(starts: list[dt.datetime], size: int = BUCKETS_PER_QUERY) -> list[list[dt.datetime]]:
    return [starts[i : i + size] for i in range(0, len(starts), size)]


@dataclass(frozen=True)
class BucketPoint:
    """A settled bucket's good and total events."""

    start: dt.datetime
    good: float
    total: float


@dataclass
class Settled:
    """What a round makes of the buckets it asked for."""

    points: list[BucketPoint] = field(default_factory=list)
    #: Buckets given up on (no usable samples, and older than gap_after).
    gaps: int = 0
    #: The start of the first bucket still to evaluate next round.
    next_bucket: dt.datetime | None = None
    #: Why the last bucket not stored was not, if any.
    problem: str | None = None


def _usable(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value >= 0


def settle(
    starts: list[dt.datetime], seconds: int, good: Mapping[dt.datetime, float],
    total: Mapping[dt.datetime, float], now: dt.datetime, *, gap_after: dt.timedelta,
) -> Settled:  # fmt: skip
    """Each bucket of `starts` (in order) with its samples, keyed by the bucket's start:
    stored when both are finite, not negative and good <= total; otherwise a gap once its end
    lies `gap_after` before now, else asked again next round (and so is every bucket after
    the first such one, so that the next round starts there)."""
    step = dt.timedelta(seconds=seconds)
    out = Settled()
    waiting = False
    for start in starts:
        g, t = good.get(start), total.get(start)
        problem = _problem(g, t)
        if problem is None:
            assert g is not None and t is not None
            out.points.append(BucketPoint(start, g, t))
        else:
            out.problem = f"bucket {start.isoformat()}: {problem}"
            if start + step + gap_after > now:
                waiting = True
            elif not waiting:
                out.gaps += 1
        if not waiting:
            out.next_bucket = start + step
    return out


def _problem(good: float | None, total: float | None) -> str | None:
    for name, value in (("good-events", good), ("total-events", total)):
        if value is None:
            return f"the {name} query gave no sample"
        if not _usable(value):
            return f"the {name} query gave {value}, not a finite count of at least 0"
    assert good is not None and total is not None
    if good > total:
        return f"more good events ({good:g}) than events ({total:g})"
    return None
