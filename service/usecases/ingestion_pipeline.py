"""From a delivery to incidents and changes: verify, log, dedupe, parse, map, apply.

Every delivery is logged with its outcome in the same transaction as its effect. A delivery
whose signature fails is refused, and counted in a bounded record rather than logged
(service/usecases/ingestion_rejections.py); so is one whose signed time lies outside the
tolerance of its arrival (a delivery replayed late). One that is not JSON, or not shaped as
the tool documents, is logged as invalid and refused with a 422 naming the field; a valid one
that names an unknown service or an event the service does not use is kept as unmapped, to be
replayed once a mapping exists.

A delivery is a duplicate when it shares with one logged before its delivery id (an unsigned
header), its signed key (the tool's id inside a signed body) or, for tools that sign the body,
the body's SHA-256: a captured delivery sent again under a fresh delivery id changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import asyncpg
import orjson

from service.clock import utc_now
from service.db import Connection
from service.errors import Conflict, NotFound, ValidationFailed, invalid
from service.errors import FieldError as ProblemField
from service.ingest import freshness, mapping, sources
from service.ingest.adapter import Adapter
from service.ingest.model import AdapterOptions, Delivery, Mapped, PayloadError, Unsupported
from service.models.sources import Source, SourceSecret
from service.store import deliveries
from service.store import ingest as store
from service.store.deliveries import LoggedDelivery
from service.usecases.ingestion_apply import (
    DeliveryOutcome,
    all_resolved,
    applied_events,
    apply_mapped,
    apply_resolved,
    service_slugs,
)

# Re-exported: recompute rebuilds records through them.
from service.usecases.ingestion_apply import save_change as save_change
from service.usecases.ingestion_apply import save_incident as save_incident
from service.usecases.ingestion_rejections import Rejections

#: How far from its arrival a time the tool signs may lie, unless the caller says otherwise
#: (KPI_WEBHOOK_EVENT_TIME_TOLERANCE_SECONDS): a day, well past PagerDuty's retries.
DEFAULT_SIGNED_TIME_TOLERANCE = dt.timedelta(days=1)
#: The setting a refusal for a signed time outside the tolerance names.
SIGNED_TIME_SETTING = "KPI_WEBHOOK_EVENT_TIME_TOLERANCE_SECONDS"

#: Text a tool may send that Postgres text cannot hold (a NUL character, say).
_UNSTORABLE_TEXT = (
    asyncpg.UntranslatableCharacterError,
    asyncpg.CharacterNotInRepertoireError,
    # A value too long for an index (a commit sha, an alert name of thousands of bytes).
    asyncpg.ProgramLimitExceededError,
)


@dataclass(frozen=True)
class Received:
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes
    #: The client's address, kept with a sample of a rejected delivery.
    client: str | None = None
    #: When it arrived, by the service's clock: the tool's signed times are checked against it.
    at: dt.datetime = field(default_factory=utc_now)


def adapter_for(kind: str) -> Adapter:
    """The adapter reading deliveries of this source kind."""
    return sources.source_for(kind).adapter


async def receive(
    con: Connection, source: SourceSecret, received: Received,
    rejections: Rejections | None = None, *,
    signed_time_tolerance: dt.timedelta = DEFAULT_SIGNED_TIME_TOLERANCE,
) -> DeliveryOutcome:  # fmt: skip
    """Handle one webhook delivery; the caller gives a connection outside any transaction,
    says how a delivery failing its signature check or the tolerance of its signed times is
    refused (default: recorded, then 401 or 422), and the tolerance (zero: not checked)."""
    src = source.source
    refusals = rejections or Rejections()
    headers = sources.loggable_headers(received.headers)
    if not sources.verify(
        src.kind, received.headers, received.query, received.body, source.secret, src.username
    ):
        await refusals.refuse(con, src, headers, received.client)
    digest = sources.body_digest(src.kind, received.body)
    try:
        payload = orjson.loads(received.body)
    except orjson.JSONDecodeError as exc:
        async with con.transaction():
            unread = LoggedDelivery(src.id, None, None, headers, received.body, None, digest)
            await deliveries.claim_delivery(
                con, unread, status="invalid", detail=f"not JSON: {exc}"
            )
        raise ValidationFailed(f"the body is not JSON: {exc}", errors=[
            ProblemField("#", "not valid JSON")]) from exc  # fmt: skip
    source_kind = sources.source_for(src.kind)
    adapter, replay_ids = source_kind.adapter, source_kind.replay
    delivery = Delivery(headers=received.headers, payload=payload, received_at=received.at)
    for signed in replay_ids.signed_times(delivery):
        if freshness.outside_tolerance(signed.at, signed_time_tolerance, received.at):
            problem = freshness.stale_problem(signed, signed_time_tolerance, SIGNED_TIME_SETTING)
            await refusals.refuse_late(con, src, headers, received.client, problem)
    failure: PayloadError | None = None
    try:
        key, event_type = replay_ids.delivery_key(delivery), adapter.event_type(delivery)
    except PayloadError as exc:
        key, event_type, failure = None, None, exc
    log = LoggedDelivery(
        src.id, key, event_type, headers, received.body, replay_ids.signed_key(delivery), digest
    )
    # Parsing reads nothing from the database, so it is done before the delivery is logged:
    # the log then gets its outcome when the delivery is claimed, without a second write.
    parsed: Mapped | Unsupported | None = None
    if failure is None:
        try:
            parsed = adapter.parse(delivery, adapter_options(src))
        except Unsupported as exc:
            parsed = exc
        except PayloadError as exc:
            failure = exc
    logged = _Logged(src, log, parsed, failure)
    # A source limited to a team goes the way with a savepoint: a record mapped to a service
    # of another team leaves the delivery unmapped, as an unknown service does.
    try:
        return await _log_and_apply(con, logged, quick=src.team is None)
    except _UNSTORABLE_TEXT:
        # The quick way has no savepoint to keep the delivery's log entry through a failed
        # write; the transaction was rolled back whole, and the delivery goes the usual way.
        return await _log_and_apply(con, logged, quick=False)


@dataclass(frozen=True)
class _Logged:
    """A delivery ready to be logged: what the adapter made of it, or why it could not."""

    src: Source
    log: LoggedDelivery
    parsed: Mapped | Unsupported | None
    failure: PayloadError | None


async def _log_and_apply(con: Connection, d: _Logged, *, quick: bool) -> DeliveryOutcome:
    """Log the delivery, dropping a duplicate, and apply it, in one transaction.

    Quick: the log entry and the business services the delivery names are written and read in
    one statement; when every record of the delivery maps to a service, it is applied without
    the savepoint an unmapped one needs (a failed write then aborts the whole transaction)."""
    status, detail = _status_of(d)
    mapped = d.parsed if isinstance(d.parsed, Mapped) else None
    quick = quick and mapped is not None and not mapped.is_empty()
    failure = d.failure
    outcome: DeliveryOutcome | None = None
    async with con.transaction():
        claim = await _claim(con, d, status, detail, mapped, quick=quick)
        if claim.delivery_id is None:
            return await _duplicate(con, d.log)
        if status == "unmapped":
            outcome = DeliveryOutcome(
                delivery_id=claim.delivery_id, status="unmapped", detail=detail
            )
        elif mapped is not None:
            outcome, unstorable = await _apply(con, d.src, claim, mapped)
            failure = failure or unstorable
    if failure is not None:
        raise _refusal(d.src, failure)
    assert outcome is not None, "a delivery without a failure is unmapped or mapped"
    return outcome


def _status_of(d: _Logged) -> tuple[str, str | None]:
    """The delivery log's status and detail for what the adapter made of a delivery."""
    if d.failure is not None:
        return "invalid", str(d.failure)
    if isinstance(d.parsed, Unsupported):
        return "unmapped", str(d.parsed)
    return "applied", None


@dataclass
class _Claim:
    """A delivery's place in the log (None: a duplicate), with what the quick paths read
    in the same statement."""

    delivery_id: int | None
    known: dict[str, int] | None = None
    incident: store.IncidentDelivery | None = None


async def _claim(
    con: Connection, d: _Logged, status: str, detail: str | None, mapped: Mapped | None,
    *, quick: bool,
) -> _Claim:  # fmt: skip
    """Log the delivery unless one logged before holds one of its claims. Quick: the log
    entry and the business services the delivery names are written and read in one
    statement."""
    src = d.src
    if quick and mapped is not None and _one_incident_event(mapped):
        event = mapped.incidents[0]
        candidate = mapping.candidate_service(
            event.service_ref, event.service_labels, src.service_rules
        )
        claimed = await store.claim_incident_delivery(
            con, d.log, candidates=[candidate], event=event
        )
        return _Claim(claimed.delivery_id, incident=claimed)
    if quick and mapped is not None:
        slugs = service_slugs(src, [*mapped.incidents, *mapped.changes])
        delivery_id, known = await deliveries.claim_applied_delivery(con, d.log, slugs=slugs)
        return _Claim(delivery_id, known=known)
    delivery_id = await deliveries.claim_delivery(con, d.log, status=status, detail=detail)
    return _Claim(delivery_id)


async def _apply(
    con: Connection, src: Source, claim: _Claim, mapped: Mapped
) -> tuple[DeliveryOutcome | None, PayloadError | None]:
    """Apply a logged delivery: without the savepoint an unmapped record needs when every
    record maps to a service (a failed write then aborts the whole transaction)."""
    delivery_id = claim.delivery_id
    assert delivery_id is not None
    claimed = claim.incident
    if claimed is not None and claimed.service_id is not None:
        incident_id = await save_incident(
            con, src, claimed.incident_id, claimed.service_id, claimed.timeline,
            mapped.incidents, delivery_id,
        )  # fmt: skip
        outcome = DeliveryOutcome(
            delivery_id=delivery_id, status="applied", incidents=[incident_id]
        )
        outcome._applied = applied_events(src, mapped)
        return outcome, None
    if claim.known is not None and all_resolved(src, mapped, claim.known):
        outcome = await apply_resolved(con, src, delivery_id, mapped, claim.known)
        outcome._applied = applied_events(src, mapped)
        return outcome, None
    try:
        async with con.transaction():
            return await apply_mapped(con, src, delivery_id, mapped), None
    except _UNSTORABLE_TEXT as exc:
        failure = PayloadError("#", f"text Postgres cannot store: {exc.args[0]}")
        await deliveries.set_outcome(con, delivery_id, "invalid", str(failure))
        return None, failure


def _refusal(src: Source, failure: PayloadError) -> ValidationFailed:
    """The 422 for a delivery that is not what its tool sends, naming the field."""
    pointer = failure.pointer if failure.pointer.startswith("#") else f"#{failure.pointer}"
    problem = ValidationFailed(
        f"the payload is not a valid {src.kind} delivery: {failure}",
        errors=[ProblemField(pointer, failure.detail)],
    )
    if failure.header is not None:  # the header that said what the body should be
        problem.extra["header"] = failure.header
    return problem


async def _duplicate(con: Connection, log: LoggedDelivery) -> DeliveryOutcome:
    """The answer to a delivery holding a claim of one logged before: that one's id."""
    first = await deliveries.delivery_claiming(con, log)
    assert first is not None, "a claim was refused, so the delivery holding it is logged"
    under = "" if first.same_key else "; the same signed delivery under another delivery id"
    return DeliveryOutcome(
        delivery_id=first.id, status="duplicate",
        detail=f"already received (first outcome: {first.status}){under}",
    )  # fmt: skip


def adapter_options(src: Source) -> AdapterOptions:
    """What the adapter is told of its source: the Jira issue types, the kind's options."""
    return AdapterOptions(
        incident_issue_types=tuple(t.casefold() for t in src.incident_issue_types),
        kind_options=src.options,
    )


def _one_incident_event(mapped: Mapped) -> bool:
    return len(mapped.incidents) == 1 and not mapped.changes and not mapped.commits


async def _process(
    con: Connection, src: Source, delivery_id: int, adapter: Adapter, delivery: Delivery
) -> DeliveryOutcome:
    try:
        mapped = adapter.parse(delivery, adapter_options(src))
    except Unsupported as exc:
        await deliveries.set_outcome(con, delivery_id, "unmapped", str(exc))
        return DeliveryOutcome(delivery_id=delivery_id, status="unmapped", detail=str(exc))
    return await apply_mapped(con, src, delivery_id, mapped)


async def replay(con: Connection, delivery_id: int) -> DeliveryOutcome:
    """Process a kept delivery again (after a service rule or a catalog entry was added)."""
    from service.store import sources as stored_sources

    async with con.transaction():
        row = await deliveries.delivery_for_replay(con, delivery_id)
        if row is None:
            raise NotFound(f"no delivery {delivery_id}")
        if row.status not in ("unmapped",):
            raise Conflict(f"delivery {delivery_id} is {row.status}; only unmapped ones replay")
        src = (await stored_sources.get_source_with_secret(con, name=row.source)).source
        await deliveries.set_outcome(con, delivery_id, "unmapped", None, attempt=True)
        payload = orjson.loads(row.body)
        delivery = Delivery(headers=row.headers, payload=payload, received_at=row.received_at)
        try:
            return await _process(con, src, delivery_id, adapter_for(src.kind), delivery)
        except PayloadError as exc:
            raise invalid("body", str(exc)) from exc
