"""Observation batches (JSON) and KPI series. Streams (NDJSON) are sent by the clients
themselves, from `ndjson.py`, since a sync and an async stream differ."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from kpi_client.api.catalog import KPIS
from kpi_client.models import IngestResult, ObservationIn, Series
from kpi_client.models.base import Grain
from kpi_client.operation import NDJSON, Body, Operation, answer, post_batch, query

OBSERVATIONS = "/v1/observations"


def ingest_observations(
    points: Iterable[Body[ObservationIn]], *, idempotency_key: str | None = None
) -> Operation[IngestResult]:
    """Stores a batch (at most 10,000 points by default; stream more) atomically. Sending a
    point again changes nothing, so a retried batch is never counted twice."""
    parse = answer(IngestResult)
    return post_batch(OBSERVATIONS, ObservationIn, points, "point", parse, idempotency_key)


def stream_observations_head(*, idempotency_key: str | None = None) -> Operation[IngestResult]:
    """The operation an NDJSON stream is sent with; the clients attach the body."""
    return Operation(
        "POST",
        OBSERVATIONS,
        answer(IngestResult),
        content_type=NDJSON,
        idempotency_key=idempotency_key,
    )


def get_series(
    key: str,
    *,
    service: str | None = None,
    team: str | None = None,
    tier: int | None = None,
    from_: dt.datetime | None = None,
    to: dt.datetime | None = None,
    grain: Grain | None = None,
) -> Operation[Series]:
    """A KPI's series bucketed by `grain` (UTC; `from_` inclusive, `to` exclusive), for one
    service, a team's services, a tier's services or (none given) the fleet."""
    params = query(service=service, team=team, tier=tier, from_=from_, to=to, grain=grain)
    return Operation("GET", f"{KPIS.member(key)}/series", answer(Series), query=params)
