"""Retention, the background leader's: observation partitions older than
KPI_RETAIN_OBSERVATIONS_MONTHS detached and dropped whole (the day roll-ups keep their
figures), delivery payloads older than KPI_RETAIN_DELIVERIES_DAYS cleared (the delivery and
its dedupe keys stay; unmapped ones keep theirs), idempotent answers older than
KPI_RETAIN_IDEMPOTENCY_HOURS forgotten. Closed-period statuses are never dropped."""

from __future__ import annotations

import datetime as dt
import logging

from service.clock import rfc3339
from service.config import Settings
from service.db import Connection
from service.kpi.periods import whole_days
from service.models.retention import horizons
from service.store import idempotency, leases
from service.store import retention as store
from service.store.retention import RetentionRun
from service.usecases import calendars, evaluation

log = logging.getLogger(__name__)

#: Partitions dropped per round at most (each holds its locks until commit); a backlog goes
#: in the following rounds.
MOST_PARTITIONS_PER_ROUND = 12


async def run_due(
    con: Connection, settings: Settings, now: dt.datetime, *, holder: str | None = None,
    lease_seconds: float = evaluation.DEFAULT_LEASE_SECONDS,
) -> RetentionRun | None:  # fmt: skip
    """One retention round, in one transaction, by the leader only: None when another
    process holds the leader lease."""
    holder = holder or evaluation.process_holder()
    if not await leases.take_lease(con, evaluation.LEADER_LEASE, holder, lease_seconds):
        return None
    h = horizons(now, settings)
    async with con.transaction():
        dropped = []
        if h.observations is not None:
            dropped = await store.drop_observations_before(
                con, h.observations, most=MOST_PARTITIONS_PER_ROUND
            )
        payloads = 0
        if h.deliveries is not None:
            payloads = await store.clear_delivery_payloads(con, before=h.deliveries)
        purged = await idempotency.purge(con, before=h.idempotency)
        run = RetentionRun(
            ran_at=now, observations_before=h.observations,
            partitions_dropped=sum(d.partition_name != "observation_default" for d in dropped),
            points_dropped=sum(d.points for d in dropped), payloads_cleared=payloads,
            idempotency_purged=purged,
        )  # fmt: skip
        await store.record_retention_run(con, run)
    if dropped and not whole_days(calendars.organisation()):
        log.warning(
            "observation partitions dropped under a calendar whose days are not UTC days: "
            "series of services, teams and tiers over those months are no longer answered "
            "(the whole estate's are, from the hour roll-ups)"
        )
    if dropped or payloads or purged:
        log.info(
            "retention dropped %d observation partitions (%d points) before %s, cleared %d "
            "delivery payloads and %d idempotent answers",
            run.partitions_dropped, run.points_dropped, h.observations, payloads, purged,
            extra={"partitions": [d.partition_name for d in dropped]},
        )  # fmt: skip
    return run


async def status(con: Connection) -> tuple[RetentionRun | None, dt.datetime | None]:
    """The last round and the oldest observation partition kept."""
    return await store.last_retention_run(con), await store.oldest_observation_partition(con)


async def summary(con: Connection, settings: Settings) -> str:
    """One line for `kpi doctor`: what is kept, the oldest partition, the last round."""
    last, oldest = await status(con)
    months = settings.retain_observations_months
    kept = f"observations {f'{months} month(s)' if months else 'for ever'}"
    days = settings.retain_deliveries_days
    kept += f", delivery payloads {f'{days:g} day(s)' if days else 'for ever'}"
    kept += f", idempotent answers {settings.retain_idempotency_hours:g} hour(s)"
    first = f"{oldest:%Y-%m}" if oldest is not None else "none"
    if last is None:
        return f"retention: {kept}; oldest observation partition {first}; no round yet"
    return (
        f"retention: {kept}; oldest observation partition {first}; last round "
        f"{rfc3339(last.ran_at)}: {last.partitions_dropped} partition(s) and "
        f"{last.points_dropped} point(s) dropped, {last.payloads_cleared} payload(s) cleared, "
        f"{last.idempotency_purged} idempotent answer(s) forgotten"
    )
