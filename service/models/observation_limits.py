"""Where observations may go: the window around now that ingest tokens may write in, and the
horizon of months that get a partition of their own. Pure: the caller gives the time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from service.clock import rfc3339
from service.config import Settings
from service.errors import field_error, invalid_fields
from service.models.observations import Numbered


@dataclass(frozen=True)
class Window:
    """Instants [start, end) a token without the admin scope may send points for."""

    start: dt.datetime
    end: dt.datetime

    def check(self, chunk: list[Numbered]) -> None:
        """A 422 naming every point of the chunk outside the window."""
        start, end = self.start, self.end
        outside = [at for at, point in chunk if not start <= point.ts < end]
        if outside:
            detail = (
                f"outside the window ingest tokens may write in ({rfc3339(start)} to "
                f"{rfc3339(end)}, KPI_OBSERVATION_WINDOW_PAST_DAYS / _FUTURE_DAYS); older or "
                "later points go through an admin token or `kpi import`"
            )
            raise invalid_fields([field_error(f"{at}.ts", detail) for at in outside])


def ingest_window(now: dt.datetime, settings: Settings) -> Window:
    return Window(
        now - dt.timedelta(days=settings.observation_window_past_days),
        now + dt.timedelta(days=settings.observation_window_future_days),
    )


@dataclass(frozen=True)
class Horizon:
    """Months starting at or after `start` and ending by `end` get a partition of their own;
    points of other months go to the default partition."""

    start: dt.datetime
    end: dt.datetime


def _month_start(ts: dt.datetime) -> dt.datetime:
    utc = ts.astimezone(dt.UTC)
    return dt.datetime(utc.year, utc.month, 1, tzinfo=dt.UTC)


def _add_months(month: dt.datetime, months: int) -> dt.datetime:
    index = month.year * 12 + month.month - 1 + months
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


#: Years before now whose months get partitions of their own, unless configured.
DEFAULT_PARTITION_YEARS = 5


def partition_horizon(now: dt.datetime, settings: Settings | None = None) -> Horizon:
    """From the month `years` before now (or the month the ingest window starts in, if
    earlier) to the end of the month a year after now (or the window's end, if later)."""
    years = DEFAULT_PARTITION_YEARS if settings is None else settings.observation_partition_years
    start = _add_months(_month_start(now), -12 * years)
    end = _add_months(_month_start(now), 13)
    if settings is not None:
        window = ingest_window(now, settings)
        start = min(start, _month_start(window.start))
        end = max(end, _add_months(_month_start(window.end), 1))
    return Horizon(start, end)
