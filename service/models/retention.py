"""Retention horizons: the instants before which observations, delivery payloads and stored
idempotent answers are dropped. Pure: the caller gives the time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from service.clock import rfc3339
from service.config import Settings
from service.errors import field_error, invalid_fields
from service.models.observations import Numbered


def month_start(ts: dt.datetime) -> dt.datetime:
    utc = ts.astimezone(dt.UTC)
    return dt.datetime(utc.year, utc.month, 1, tzinfo=dt.UTC)


def months_before(month: dt.datetime, months: int) -> dt.datetime:
    index = month.year * 12 + month.month - 1 - months
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Horizons:
    """What is older than each of these goes (None: kept for ever)."""

    #: A UTC month's start: observation points before it are dropped.
    observations: dt.datetime | None
    #: Delivery payloads received before it are cleared.
    deliveries: dt.datetime | None
    #: Idempotent answers stored before it are forgotten.
    idempotency: dt.datetime


def observations_horizon(now: dt.datetime, settings: Settings) -> dt.datetime | None:
    """The start of the month `retain_observations_months` before the current UTC month: with
    3 on 2026-12-06, 2026-09-01 (September, October and November kept with December)."""
    months = settings.retain_observations_months
    return months_before(month_start(now), months) if months else None


def horizons(now: dt.datetime, settings: Settings) -> Horizons:
    days = settings.retain_deliveries_days
    return Horizons(
        observations=observations_horizon(now, settings),
        deliveries=now - dt.timedelta(days=days) if days else None,
        idempotency=now - dt.timedelta(hours=settings.retain_idempotency_hours),
    )


def check_not_expired(chunk: list[Numbered], horizon: dt.datetime) -> None:
    """A 422 naming every point of the chunk before the observations' retention horizon: its
    month has been (or is about to be) dropped, and its day roll-ups are final."""
    expired = [at for at, point in chunk if point.ts < horizon]
    if expired:
        detail = (
            f"before {rfc3339(horizon)}: observations of earlier months are no longer kept "
            "(KPI_RETAIN_OBSERVATIONS_MONTHS)"
        )
        raise invalid_fields([field_error(f"{at}.ts", detail) for at in expired])
