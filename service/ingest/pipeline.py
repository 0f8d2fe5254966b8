"""From a delivery to incidents and changes: verify, log, dedupe, parse, map, apply.

Every delivery is logged with its outcome in the same transaction as its effect. A delivery
whose signature fails is refused, and counted in a bounded record rather than logged
(service/ingest/rejections.py); so is one whose signed time lies outside the tolerance of its
arrival (a delivery replayed late). One that is not JSON, or not shaped as the tool documents,
is logged as invalid and refused with a 422 naming the field; a valid one that names an unknown
service or an event the service does not use is kept as unmapped, to be replayed once a mapping
exists.

A delivery is a duplicate when it shares with one logged before its delivery id (an unsigned
header), its signed key (the tool's id inside a signed body) or, for tools that sign the body,
the body's SHA-256: a captured delivery sent again under a fresh delivery id changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import asyncpg
import orjson
from pydantic import BaseModel, Field, PrivateAttr

from service.clock import utc_now
from service.db import Connection
from service.errors import Conflict, NotFound, ValidationFailed, invalid
from service.errors import FieldError as ProblemField
from service.ingest import freshness, mapping, sources
from service.ingest.adapter import Adapter
from service.ingest.model import AdapterOptions, Delivery, Mapped, PayloadError, Unsupported
from service.ingest.rejections import Rejections
from service.models.events import ChangeEvent, IncidentEvent
from service.models.sources import Source, SourceSecret
from service.models.timeline import build_change, build_incident, retraction
from service.store import deliveries
from service.store import ingest as store

Status = Literal["applied", "unmapped", "duplicate"]

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
class AppliedEvents:
    """What an applied delivery carried, by source: counted by the service's metrics."""

    source: str
    kind: str
    incidents: int
    changes: int
    commits: int


class DeliveryOutcome(BaseModel):
    delivery_id: int
    status: Status
    detail: str | None = None
    incidents: list[int] = Field(default_factory=list, description="Incident ids touched.")
    changes: list[int] = Field(default_factory=list, description="Change ids touched.")
    commits: int = 0
    _applied: AppliedEvents | None = PrivateAttr(default=None)

    @property
    def applied(self) -> AppliedEvents | None:
        """The events applied, when the status is applied (not part of the answer)."""
        return self._applied


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


class _Unmapped(Exception):
    pass


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
            await deliveries.claim_delivery(
                con, source_id=src.id, key=None, event_type=None, headers=headers,
                body=received.body, status="invalid", detail=f"not JSON: {exc}",
                body_sha256=digest,
            )  # fmt: skip
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
    claims = _Claims(key, replay_ids.signed_key(delivery), digest)
    # Parsing reads nothing from the database, so it is done before the delivery is logged:
    # the log then gets its outcome when the delivery is claimed, without a second write.
    parsed: Mapped | Unsupported | None = None
    if failure is None:
        try:
            parsed = adapter.parse(delivery, _options(src))
        except Unsupported as exc:
            parsed = exc
        except PayloadError as exc:
            failure = exc
    logged = _Logged(src, claims, event_type, headers, received.body, parsed, failure)
    try:
        return await _log_and_apply(con, logged, quick=True)
    except _UNSTORABLE_TEXT:
        # The quick way has no savepoint to keep the delivery's log entry through a failed
        # write; the transaction was rolled back whole, and the delivery goes the usual way.
        return await _log_and_apply(con, logged, quick=False)


@dataclass(frozen=True)
class _Claims:
    """What makes a delivery the same as one logged before: its delivery key (a header the
    tool repeats on retries, unsigned), its signed key and its signed body's digest."""

    key: str | None
    signed_key: str | None
    body_sha256: bytes | None


@dataclass(frozen=True)
class _Logged:
    """A delivery ready to be logged: what the adapter made of it, or why it could not."""

    src: Source
    claims: _Claims
    event_type: str | None
    headers: dict[str, str]
    body: bytes
    parsed: Mapped | Unsupported | None
    failure: PayloadError | None


async def _log_and_apply(con: Connection, d: _Logged, *, quick: bool) -> DeliveryOutcome:
    """Log the delivery, dropping a duplicate, and apply it, in one transaction.

    Quick: the log entry and the business services the delivery names are written and read in
    one statement; when every record of the delivery maps to a service, it is applied without
    the savepoint an unmapped one needs (a failed write then aborts the whole transaction)."""
    src, failure, parsed = d.src, d.failure, d.parsed
    if failure is not None:
        status, detail = "invalid", str(failure)
    elif isinstance(parsed, Unsupported):
        status, detail = "unmapped", str(parsed)
    else:
        status, detail = "applied", None
    mapped = parsed if isinstance(parsed, Mapped) else None
    quick = quick and mapped is not None and not mapped.is_empty()
    c = d.claims
    async with con.transaction():
        known: dict[str, int] | None = None
        one_event = quick and mapped is not None and _one_incident_event(mapped)
        if one_event:
            assert mapped is not None
            event = mapped.incidents[0]
            claimed = await store.claim_incident_delivery(
                con, source_id=src.id, key=c.key, event_type=d.event_type, headers=d.headers,
                body=d.body, event=event, candidates=[
                    mapping.candidate_service(event.service_ref, event.service_labels,
                                              src.service_rules)],
                signed_key=c.signed_key, body_sha256=c.body_sha256,
            )  # fmt: skip
            delivery_id = claimed.delivery_id
        elif quick:
            assert mapped is not None
            delivery_id, known = await deliveries.claim_applied_delivery(
                con, source_id=src.id, key=c.key, event_type=d.event_type, headers=d.headers,
                body=d.body, slugs=_slugs(src, [*mapped.incidents, *mapped.changes]),
                signed_key=c.signed_key, body_sha256=c.body_sha256,
            )  # fmt: skip
        else:
            delivery_id = await deliveries.claim_delivery(
                con, source_id=src.id, key=c.key, event_type=d.event_type, headers=d.headers,
                body=d.body, status=status, detail=detail, signed_key=c.signed_key,
                body_sha256=c.body_sha256,
            )  # fmt: skip
        if delivery_id is None:
            return await _duplicate(con, src, c)
        if status == "unmapped":
            outcome = DeliveryOutcome(delivery_id=delivery_id, status="unmapped", detail=detail)
        elif one_event and claimed.service_id is not None:
            assert mapped is not None
            incident_id = await save_incident(
                con, src, claimed.incident_id, claimed.service_id, claimed.timeline,
                mapped.incidents, delivery_id,
            )  # fmt: skip
            outcome = DeliveryOutcome(
                delivery_id=delivery_id, status="applied", incidents=[incident_id]
            )
            outcome._applied = _applied_events(src, mapped)
        elif mapped is not None and known is not None and _resolved(src, mapped, known):
            outcome = await _apply(con, src, delivery_id, mapped, known)
            outcome._applied = _applied_events(src, mapped)
        elif mapped is not None:
            try:
                async with con.transaction():
                    outcome = await apply_mapped(con, src, delivery_id, mapped)
            except _UNSTORABLE_TEXT as exc:
                failure = PayloadError("#", f"text Postgres cannot store: {exc.args[0]}")
                await deliveries.set_outcome(con, delivery_id, "invalid", str(failure))
    if failure is not None:
        pointer = failure.pointer if failure.pointer.startswith("#") else f"#{failure.pointer}"
        problem = ValidationFailed(
            f"the payload is not a valid {src.kind} delivery: {failure}",
            errors=[ProblemField(pointer, failure.detail)],
        )
        if failure.header is not None:  # the header that said what the body should be
            problem.extra["header"] = failure.header
        raise problem
    return outcome


async def _duplicate(con: Connection, src: Source, claims: _Claims) -> DeliveryOutcome:
    """The answer to a delivery holding a claim of one logged before: that one's id."""
    first = await deliveries.delivery_claiming(
        con, source_id=src.id, key=claims.key, signed_key=claims.signed_key,
        body_sha256=claims.body_sha256,
    )  # fmt: skip
    assert first is not None, "a claim was refused, so the delivery holding it is logged"
    under = "" if first.same_key else "; the same signed delivery under another delivery id"
    return DeliveryOutcome(
        delivery_id=first.id, status="duplicate",
        detail=f"already received (first outcome: {first.status}){under}",
    )  # fmt: skip


def _options(src: Source) -> AdapterOptions:
    return AdapterOptions(
        incident_issue_types=tuple(t.casefold() for t in src.incident_issue_types)
    )


def _applied_events(src: Source, mapped: Mapped) -> AppliedEvents:
    return AppliedEvents(
        src.name, src.kind.value, len(mapped.incidents), len(mapped.changes), len(mapped.commits)
    )


def _one_incident_event(mapped: Mapped) -> bool:
    return len(mapped.incidents) == 1 and not mapped.changes and not mapped.commits


def _resolved(src: Source, mapped: Mapped, known: Mapping[str, int]) -> bool:
    """Whether every incident and change of the delivery maps to a business service by itself
    (so none can be left unmapped, whatever its record already holds)."""
    return all(
        _resolve(src, events, known) is not None
        for groups in (_grouped(mapped.incidents), _grouped(mapped.changes))
        for events in groups.values()
    )


async def _process(
    con: Connection, src: Source, delivery_id: int, adapter: Adapter, delivery: Delivery
) -> DeliveryOutcome:
    try:
        mapped = adapter.parse(delivery, _options(src))
    except Unsupported as exc:
        await deliveries.set_outcome(con, delivery_id, "unmapped", str(exc))
        return DeliveryOutcome(delivery_id=delivery_id, status="unmapped", detail=str(exc))
    return await apply_mapped(con, src, delivery_id, mapped)


async def apply_mapped(
    con: Connection, src: Source, delivery_id: int, mapped: Mapped
) -> DeliveryOutcome:
    """Apply everything or, when a service cannot be mapped, nothing (kept as unmapped)."""
    try:
        async with con.transaction():
            outcome = await _apply(con, src, delivery_id, mapped)
    except _Unmapped as exc:
        await deliveries.set_outcome(con, delivery_id, "unmapped", str(exc))
        return DeliveryOutcome(delivery_id=delivery_id, status="unmapped", detail=str(exc))
    if mapped.is_empty():
        detail = "the delivery carried no incident, change or commit"
        await deliveries.set_outcome(con, delivery_id, "unmapped", detail)
        return DeliveryOutcome(delivery_id=delivery_id, status="unmapped", detail=detail)
    await deliveries.set_outcome(con, delivery_id, "applied", None)
    outcome._applied = _applied_events(src, mapped)
    return outcome


def _slugs(src: Source, events: Sequence[IncidentEvent | ChangeEvent]) -> list[str]:
    """The business services the events may map to: the rules' and the tools' own names."""
    slugs = {r.service for r in src.service_rules} | {
        e.service_ref for e in events if e.service_ref
    }
    return sorted(slugs)


async def _service_ids(
    con: Connection, src: Source, events: Sequence[IncidentEvent | ChangeEvent]
) -> dict[str, int]:
    return await store.known_service_ids(con, _slugs(src, events))


def _resolve(
    src: Source, events: Sequence[IncidentEvent | ChangeEvent], known: Mapping[str, int]
) -> int | None:
    for e in events:
        slug = mapping.match_service(e.service_ref, e.service_labels, src.service_rules, known)
        if slug is not None and slug in known:
            return known[slug]
    return None


def _describe(events: Sequence[IncidentEvent | ChangeEvent]) -> str:
    e = events[0]
    labels = ", ".join(f"{k}={v}" for k, v in sorted(e.service_labels.items()))
    return f"{e.service_ref!r}" + (f" ({labels})" if labels else "")


async def _apply(
    con: Connection, src: Source, delivery_id: int, mapped: Mapped,
    known: Mapping[str, int] | None = None,
) -> DeliveryOutcome:  # fmt: skip
    if known is None:
        known = await _service_ids(con, src, [*mapped.incidents, *mapped.changes])
    for commit in mapped.commits:
        await store.save_commit(con, commit)
    change_ids = []
    for external_id, events in _grouped(mapped.changes).items():
        change_ids.append(await _apply_change(con, src, delivery_id, external_id, events, known))
    incident_ids = []
    for external_id, events in _grouped(mapped.incidents).items():
        incident_ids.append(
            await _apply_incident(con, src, delivery_id, external_id, events, known)
        )
    return DeliveryOutcome(
        delivery_id=delivery_id, status="applied", incidents=incident_ids, changes=change_ids,
        commits=len(mapped.commits),
    )  # fmt: skip


def _grouped(events: Sequence[Any]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for e in events:
        groups[e.external_id].append(e)
    return groups


E = TypeVar("E", IncidentEvent, ChangeEvent)


async def _record(
    con: Connection, src: Source, delivery_id: int, noun: str, events: list[E],
    known: Mapping[str, int],
    record: Callable[..., Awaitable[tuple[int, int | None, list[E]]]],
) -> tuple[int, int, list[E]]:  # fmt: skip
    """Add the events to their record's timeline; the record's id, its business service (from
    these events, else as already known) and its whole timeline."""
    row_id, current_service = 0, None
    timeline: list[E] = []
    for event in events:
        row_id, current_service, timeline = await record(
            con, source_id=src.id, event=event, delivery_id=delivery_id
        )
    service_id = _resolve(src, events, known) or current_service
    if service_id is None:
        raise _Unmapped(
            f"no business service for {noun} {events[0].external_id!r} from "
            f"{_describe(events)}: add a service rule to source {src.name!r}, then replay"
        )
    return row_id, service_id, timeline


async def _apply_change(
    con: Connection, src: Source, delivery_id: int, external_id: str,
    events: list[ChangeEvent], known: Mapping[str, int],
) -> int:  # fmt: skip
    change_id, service_id, timeline = await _record(
        con, src, delivery_id, "change", events, known, store.record_change_event
    )
    await save_change(con, src, change_id, external_id, service_id, timeline)
    return change_id


async def save_change(
    con: Connection, src: Source, change_id: int, external_id: str, service_id: int | None,
    timeline: list[ChangeEvent],
) -> None:  # fmt: skip
    """Rebuild the change from its whole timeline and save it; link the incidents that name
    it, and link again the incidents whose inferred cause it may have changed."""
    rec = build_change(timeline)
    production = mapping.is_production(rec.environment, src.production_envs)
    await store.save_change(con, change_id, rec, service_id=service_id, production=production)
    await store.link_waiting_incidents(
        con, change_id=change_id, external_id=external_id, sha=rec.commit_sha
    )
    await store.relink_inferred_around_change(con, change_id)


async def _apply_incident(
    con: Connection, src: Source, delivery_id: int, external_id: str,
    events: list[IncidentEvent], known: Mapping[str, int],
) -> int:  # fmt: skip
    incident_id, service_id, timeline = await _record(
        con, src, delivery_id, "incident", events, known, store.record_incident_event
    )
    return await save_incident(con, src, incident_id, service_id, timeline, events, delivery_id)


async def save_incident(
    con: Connection, src: Source, incident_id: int, service_id: int | None,
    timeline: list[IncidentEvent], arrived: Sequence[IncidentEvent] = (),
    delivery_id: int | None = None,
) -> int:  # fmt: skip
    """Rebuild the incident from its whole timeline, link it to its cause, and save it.

    `arrived` are the events of this delivery: an alert they say is still firing after the
    incident's resolution retracts that resolution (recorded as a reopening at it)."""
    rec = build_incident(timeline)
    retracted = retraction(rec, arrived)
    if retracted is not None:
        _, _, timeline = await store.record_incident_event(
            con, source_id=src.id, event=retracted, delivery_id=delivery_id
        )
        rec = build_incident(timeline)
    sev = mapping.severity(rec.severity, rec.severity_raw, src.severity_map)
    change_id, link_kind = None, None
    if rec.caused_by:
        change_id = await store.change_by_ref(con, rec.caused_by)
        link_kind = "explicit" if change_id else None
    elif src.infer_links and rec.started_at is not None and service_id is not None:
        await store.save_incident_inferring_change(
            con, incident_id, rec, service_id=service_id, severity=sev.value if sev else None,
            window_minutes=src.infer_window_minutes,
        )  # fmt: skip
        return incident_id
    await store.save_incident(
        con, incident_id, rec, service_id=service_id, severity=sev.value if sev else None,
        change_id=change_id, link_kind=link_kind,
    )  # fmt: skip
    return incident_id


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
