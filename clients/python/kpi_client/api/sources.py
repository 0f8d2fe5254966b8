"""Sources (the tools that send incidents and changes) and the delivery log with replay."""

from __future__ import annotations

import json
from typing import Unpack

import httpx

from kpi_client.api.collection import Collection, EditableCollection
from kpi_client.models import (
    DeliveryDetail,
    DeliveryOutcome,
    DeliveryRow,
    ReplayReport,
    Source,
    SourceIn,
    WebhookRejections,
)
from kpi_client.models.base import DeliveryStatus
from kpi_client.operation import Body, Operation, Page, answer, query

SOURCES = EditableCollection("/v1/sources", Source, list[Source], SourceIn)
DELIVERIES = Collection("/v1/deliveries", DeliveryRow, list[DeliveryRow])


def list_sources() -> Operation[list[Source]]:
    """Every registered source (secrets are never returned; `has_secret` says if one is set)."""
    return SOURCES.list_all()


def get_source(name: str) -> Operation[Source]:
    return SOURCES.get(name)


def create_source(
    source: Body[SourceIn], *, idempotency_key: str | None = None
) -> Operation[Source]:
    return SOURCES.create(source, idempotency_key)


def replace_source(
    name: str, source: Body[SourceIn], *, idempotency_key: str | None = None
) -> Operation[Source]:
    """Replaces a source's settings; without `secret` the current one is kept."""
    return SOURCES.replace(name, source, idempotency_key)


def delete_source(name: str, *, idempotency_key: str | None = None) -> Operation[None]:
    return SOURCES.delete(name, idempotency_key)


def list_deliveries(
    *, status: DeliveryStatus | None = None, source: str | None = None, **page: Unpack[Page]
) -> Operation[list[DeliveryRow]]:
    """The delivery log, newest first; `before` (an id) pages."""
    return DELIVERIES.list_all(query(status=status, source=source, **page))


def get_delivery(delivery_id: int) -> Operation[DeliveryDetail]:
    """One delivery with its headers and raw body."""
    return Operation("GET", DELIVERIES.member(delivery_id), answer(DeliveryDetail))


def list_webhook_rejections(*, source: str | None = None) -> Operation[list[WebhookRejections]]:
    """Webhook deliveries refused for not proving their source: per source and reason, the
    count since the first and the last few as samples (headers cut short, never the body)."""
    return Operation(
        "GET", "/v1/webhook-rejections", answer(list[WebhookRejections]),
        query=query(source=source),
    )  # fmt: skip


def _replay_outcome(response: httpx.Response) -> DeliveryOutcome:
    # Still unmapped is a 202 problem+json naming the reason: a report, not an error.
    data = json.loads(response.content)
    if response.status_code == 202:
        delivery_id = int(data.get("delivery_id", 0))
        return DeliveryOutcome(
            delivery_id=delivery_id, status="unmapped", detail=data.get("detail")
        )
    return DeliveryOutcome.model_validate(data)


def discard_delivery(delivery_id: int, *, idempotency_key: str | None = None) -> Operation[None]:
    """Discards an unmapped delivery nobody will map: its payload is cleared and it stays in
    the log as `discarded` (a retry of it is still a duplicate)."""
    return DELIVERIES.delete(delivery_id, idempotency_key)


def replay_delivery(
    delivery_id: int, *, idempotency_key: str | None = None
) -> Operation[DeliveryOutcome]:
    """Applies an unmapped delivery again (after adding a service rule, say). `status` says
    whether it is now applied or still unmapped."""
    path = f"{DELIVERIES.member(delivery_id)}/replay"
    return Operation("POST", path, _replay_outcome, idempotency_key=idempotency_key)


def replay_unmapped(
    *, source: str | None = None, idempotency_key: str | None = None
) -> Operation[ReplayReport]:
    """Replays every unmapped delivery (of one source), oldest first."""
    return Operation(
        "POST",
        "/v1/deliveries/replay",
        answer(ReplayReport),
        query=query(source=source),
        idempotency_key=idempotency_key,
    )
