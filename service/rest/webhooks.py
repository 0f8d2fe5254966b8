"""Webhook receivers (one URL per registered source), source administration, and the
delivery log with replay."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field
from starlette.responses import Response

from service import webhook_guard
from service.errors import (
    Conflict,
    LateDelivery,
    NotFound,
    RateLimited,
    Unauthorized,
    Unmapped,
    ValidationFailed,
    problem_response,
)
from service.models.catalog import RowId
from service.models.enums import Scope
from service.models.sources import Source, SourceIn, SourceSecret
from service.rest.endpoint import Call, Endpoint, id_param, path_param, read_body
from service.rest.prometheus import delivery_received, events_applied, webhook_rate_limited
from service.store import deliveries, sources
from service.store import rejections as rejections_store
from service.store.rejections import WebhookRejections
from service.usecases import ingestion
from service.usecases import sources as source_cases
from service.usecases.ingestion_apply import DeliveryOutcome
from service.usecases.ingestion_pipeline import Received
from service.usecases.ingestion_rejections import Rejections

WEBHOOK_DOC = (
    "Point the tool's webhook at this URL. GitHub: set a secret (X-Hub-Signature-256 is "
    "verified). GitLab: set the secret token (X-Gitlab-Token). PagerDuty v3: the signing "
    "secret (X-PagerDuty-Signature; any of several v1= values may match). Opsgenie, "
    "Alertmanager, Jira: Authorization: Bearer <secret>, basic auth with the source's username, "
    "or ?token=<secret>. 200: applied (or a duplicate of an earlier delivery: the same "
    "delivery id, or for GitHub and PagerDuty the same signed body or event id under any "
    "delivery id); 202 problem+json: kept as unmapped, with the reason (replay it after adding "
    "a mapping); 401: not signed with the secret (counted, see /v1/webhook-rejections; body "
    "not processed); 422: malformed, or a GitHub body not of the X-GitHub-Event it is sent as "
    "(logged), or a PagerDuty event time more than KPI_WEBHOOK_EVENT_TIME_TOLERANCE_SECONDS "
    "from now (a replay; counted, see /v1/webhook-rejections); 429: the client address or the "
    "source is over its limit of refused requests (Retry-After says when to retry)."
)


REJECTIONS_DOC = (
    "Per source and reason (`signature`: the signature or token did not verify; `timestamp`: "
    "it did, but the time the tool signed is outside the tolerance, a replay), how many "
    "deliveries were refused since the first and when, with the last few as samples: the "
    "client's address and the headers, without those carrying secrets and cut short; never "
    "the body. Counted in place, so the record stays the same size however many arrive; "
    "rejections past a source's rate limit are answered 429 and only counted in /metrics."
)


def _answer(outcome: DeliveryOutcome) -> Response:
    if outcome.status == "unmapped":
        problem = Unmapped(outcome.detail or "not mapped", delivery_id=outcome.delivery_id)
        return problem_response(problem)
    return Response(outcome.model_dump_json(), media_type="application/json")


async def receive_webhook(call: Call) -> Response:
    """A delivery from a tool; nothing acknowledged is lost."""
    guard = webhook_guard.guard(call.request.app.state)
    client = call.request.client.host if call.request.client else None
    name = path_param(call, "source")
    try:
        # The client's limit and the source, in one round trip, before the body is read.
        async with call.connection() as con:
            found = await guard.source_for_client(con, client, name)
    except RateLimited:
        webhook_rate_limited(call, "client", None)
        raise
    try:
        return await _receive(call, guard, client, name, found)
    except (Unauthorized, NotFound, Conflict, RateLimited):
        async with call.connection() as con:
            await guard.client_refused(con, client)
        raise


async def _receive(
    call: Call, guard: webhook_guard.WebhookGuard, client: str | None, name: str,
    found: SourceSecret | None,
) -> Response:  # fmt: skip
    raw = await read_body(call.request, call.settings.max_body_bytes)
    received = Received(
        headers={k.lower(): v for k, v in call.request.headers.items()},
        query=dict(call.request.query_params),
        body=raw,
        client=client,
        at=call.now(),
    )
    rejections = Rejections(call.settings.webhook_rejection_samples, guard)
    tolerance = dt.timedelta(seconds=call.settings.webhook_event_time_tolerance_seconds)
    source = ingestion.webhook_source(found, name)
    async with call.connection() as con:
        try:
            outcome = await ingestion.receive_webhook(
                con, source, received, rejections, signed_time_tolerance=tolerance
            )
        except (Unauthorized, ValidationFailed) as exc:
            # Recorded (and committed) as rejected (signature, late) or invalid before being
            # refused.
            refused = "rejected" if isinstance(exc, Unauthorized | LateDelivery) else "invalid"
            delivery_received(call, source.source, refused)
            raise
        except RateLimited:
            webhook_rate_limited(call, "source", source.source)
            raise
    delivery_received(call, source.source, outcome.status)
    events_applied(call, outcome)
    return _answer(outcome)


async def list_sources(call: Call) -> list[Source]:
    async with call.connection() as con:
        return await sources.list_sources(con)


async def get_source(call: Call) -> Source:
    async with call.connection() as con:
        return await sources.get_source(con, name=path_param(call, "name"))


async def create_source(call: Call) -> Source:
    async with call.transaction() as con:
        return await source_cases.create_source(con, source=call.body)


async def replace_source(call: Call) -> Source:
    async with call.transaction() as con:
        name = path_param(call, "name")
        return await source_cases.update_source(con, name=name, source=call.body)


async def delete_source(call: Call) -> None:
    async with call.transaction() as con:
        await source_cases.delete_source(con, name=path_param(call, "name"))


class DeliveryQuery(BaseModel):
    status: Literal["applied", "unmapped", "invalid", "rejected", "discarded"] | None = None
    source: str | None = None
    before: RowId | None = Field(default=None, description="Page: ids below this.")
    limit: int = Field(default=100, ge=1, le=1000)


class RejectionQuery(BaseModel):
    source: str | None = Field(default=None, description="Only this source's rejections.")


class DeliveryDetail(deliveries.DeliveryRow):
    headers: dict[str, str]
    body: str | None = Field(description="The raw body as received (UTF-8).")


async def list_deliveries(call: Call) -> list[deliveries.DeliveryRow]:
    query: DeliveryQuery = call.query
    async with call.connection() as con:
        return await deliveries.list_deliveries(
            con, status=query.status, source=query.source, before_id=query.before,
            limit=query.limit,
        )  # fmt: skip


async def get_delivery(call: Call) -> DeliveryDetail:
    async with call.connection() as con:
        stored = await deliveries.delivery_body(con, id_param(call))
    body = None if stored.body is None else stored.body.decode("utf-8", "replace")
    return DeliveryDetail(**stored.row.model_dump(), headers=stored.headers, body=body)


async def list_webhook_rejections(call: Call) -> list[WebhookRejections]:
    query: RejectionQuery = call.query
    async with call.connection() as con:
        return await rejections_store.list_webhook_rejections(
            con, source=query.source, samples=call.settings.webhook_rejection_samples
        )


async def replay_delivery(call: Call) -> Response:
    """Process an unmapped delivery again, e.g. after adding a service rule."""
    async with call.connection() as con:
        outcome = await ingestion.replay_delivery(con, id_param(call))
    events_applied(call, outcome)
    return _answer(outcome)


async def discard_delivery(call: Call) -> None:
    """Discard an unmapped delivery nobody will map (audited)."""
    async with call.transaction() as con:
        await ingestion.discard_delivery(con, id_param(call))


class ReplayQuery(BaseModel):
    source: str | None = Field(default=None, description="Only this source's deliveries.")


class ReplayReport(BaseModel):
    applied: list[int]
    still_unmapped: list[int]


async def replay_unmapped(call: Call) -> ReplayReport:
    """Replay every unmapped delivery (of one source), oldest first."""
    report = ReplayReport(applied=[], still_unmapped=[])
    async with call.connection() as con:
        for delivery_id in await ingestion.unmapped_delivery_ids(con, source=call.query.source):
            outcome = await ingestion.replay_delivery(con, delivery_id)
            events_applied(call, outcome)
            bucket = report.applied if outcome.status == "applied" else report.still_unmapped
            bucket.append(delivery_id)
    return report


DISCARD_DOC = (
    "An unmapped delivery nobody will map (a test event, a retired service) is discarded: "
    "its headers and body are cleared and it stays in the log as `discarded`, with its "
    "delivery key and body digest, so a retry of it is still a duplicate. Recorded in the "
    "audit trail (entity `delivery`). Only unmapped deliveries: 409 for the others. "
    "Unmapped deliveries are otherwise kept, payload and all, whatever "
    "KPI_RETAIN_DELIVERIES_DAYS says."
)


#: A delivery as an Alertmanager source receives it (each tool sends its own payload).
ALERTMANAGER_DELIVERY = {
    "version": "4", "groupKey": '{}:{alertname="CheckoutDown"}', "status": "firing",
    "receiver": "kpi", "groupLabels": {"alertname": "CheckoutDown"},
    "commonLabels": {"alertname": "CheckoutDown", "service": "checkout", "severity": "critical"},
    "commonAnnotations": {"summary": "Checkout answers 502 to card payments"},
    "externalURL": "http://alertmanager.example.com:9093",
    "alerts": [{
        "status": "firing",
        "labels": {"alertname": "CheckoutDown", "service": "checkout", "severity": "critical"},
        "annotations": {"summary": "Checkout answers 502 to card payments"},
        "startsAt": "2026-11-02T09:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example.com:9090/graph",
        "fingerprint": "5f2d3b1c9a7e4d21",
    }],
}  # fmt: skip

ENDPOINTS = [
    Endpoint("POST", "/v1/webhooks/{source}", receive_webhook, None,
             "Receive a webhook delivery from a registered source", "webhooks",
             body=dict, response=DeliveryOutcome, errors=(202, 401, 404, 409, 413, 422, 429),
             description=WEBHOOK_DOC, auth="source", stream_body=True,
             request_example=ALERTMANAGER_DELIVERY),
    Endpoint("GET", "/v1/sources", list_sources, Scope.ADMIN, "List sources (no secrets)",
             "sources", response=list[Source]),
    Endpoint("GET", "/v1/sources/{name}", get_source, Scope.ADMIN, "Get a source", "sources",
             response=Source, errors=(404,)),
    Endpoint("POST", "/v1/sources", create_source, Scope.ADMIN, "Register a source", "sources",
             body=SourceIn, response=Source, status=201, errors=(409, 413, 415, 422)),
    Endpoint("PUT", "/v1/sources/{name}", replace_source, Scope.ADMIN,
             "Replace a source's settings (omit secret to keep it)", "sources", body=SourceIn,
             response=Source, errors=(404, 413, 415, 422)),
    Endpoint("DELETE", "/v1/sources/{name}", delete_source, Scope.ADMIN, "Delete a source",
             "sources", status=204, errors=(404, 409)),
    Endpoint("GET", "/v1/deliveries", list_deliveries, Scope.ADMIN,
             "The delivery log, newest first", "deliveries", response=list[deliveries.DeliveryRow],
             query=DeliveryQuery),
    Endpoint("GET", "/v1/deliveries/{id:int}", get_delivery, Scope.ADMIN,
             "One delivery with its headers and raw body", "deliveries",
             response=DeliveryDetail, errors=(404,)),
    Endpoint("GET", "/v1/webhook-rejections", list_webhook_rejections, Scope.ADMIN,
             "Webhook deliveries refused for not proving their source: counts and samples",
             "deliveries", response=list[WebhookRejections], query=RejectionQuery,
             description=REJECTIONS_DOC),
    Endpoint("DELETE", "/v1/deliveries/{id:int}", discard_delivery, Scope.ADMIN,
             "Discard an unmapped delivery", "deliveries", status=204, errors=(404, 409),
             description=DISCARD_DOC),
    Endpoint("POST", "/v1/deliveries/{id:int}/replay", replay_delivery, Scope.ADMIN,
             "Replay an unmapped delivery", "deliveries", response=DeliveryOutcome,
             errors=(202, 404, 409, 422)),
    Endpoint("POST", "/v1/deliveries/replay", replay_unmapped, Scope.ADMIN,
             "Replay every unmapped delivery", "deliveries", response=ReplayReport,
             query=ReplayQuery),
]  # fmt: skip
