"""SLIs from Prometheus: setting a ratio KPI's SLI when the KPI is written, and the round
that evaluates every SLI's due buckets into observations (service/kpi/sli.py has the rules).

A round asks the data source for the good-events and the total-events query over the due
buckets (query_range, one bucket per step), stores each settled bucket's two counts as
observations of the ratio's numerator and denominator (at the bucket's start, for the SLI's
service), and moves the SLI's next bucket on; all of one SLI's round in one transaction. A
bucket evaluated again replaces its points (the observation key is KPI, service and instant).
The first round of a new SLI backfills KPI_PROMETHEUS_BACKFILL_DAYS through the admin path
of ingestion, which the ingest window does not limit. A failed query is counted on its data
source with its error, and the buckets it was for are asked again next round.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from service import outbound
from service.config import Settings
from service.datasources.prometheus import QueryFailed, query_range
from service.db import Connection, Database
from service.errors import invalid
from service.kpi import sli as rules
from service.models.catalog import KpiIn
from service.models.data_sources import DataSourceSecret
from service.models.enums import Aggregation, KpiKind
from service.models.observations import Numbered, ObservationIn
from service.store import data_sources as store
from service.store import kpis as kpi_store
from service.store import leases, services
from service.store.data_sources import SliRow
from service.usecases import evaluation, observations

log = logging.getLogger(__name__)

#: Points written per chunk of a round's ingestion.
CHUNK_POINTS = 5_000
#: The lease of the process evaluating SLIs (apart from the leader's: a slow Prometheus holds
#: up no period evaluation).
SLI_LEASE = "kpi-slis"


# Setting a KPI's SLI ----------------------------------------------------------------------------


async def set_sli(con: Connection, kpi_id: int, kpi: KpiIn) -> None:
    """Stores (or removes) the ratio KPI's SLI, after checking what it names: the data
    source, the service, and sides that are observed KPIs summing their points and written by
    no other SLI."""
    sli = kpi.prometheus
    if sli is None:
        await store.delete_sli(con, kpi_id)
        return
    source_id = await store.data_source_id(con, sli.data_source)
    if source_id is None:
        raise invalid("prometheus.data_source", f"unknown data source {sli.data_source!r}")
    service_id = None
    if sli.service is not None:
        found = await services.service_ids_by_slug(con, [sli.service])
        if sli.service not in found:
            raise invalid("prometheus.service", f"unknown service {sli.service!r}")
        service_id = found[sli.service]
    assert kpi.numerator is not None and kpi.denominator is not None
    sides = {
        k.key: k for k in await kpi_store.list_kpis(con, keys=[kpi.numerator, kpi.denominator])
    }
    for side, events in (("numerator", "good"), ("denominator", "total")):
        found_kpi = sides[getattr(kpi, side)]
        if found_kpi.kind is not KpiKind.OBSERVED or found_kpi.aggregation is not Aggregation.SUM:
            raise invalid(
                side, f"{found_kpi.key!r} must be an observed KPI with aggregation sum to hold "
                f"the SLI's {events} events",
            )  # fmt: skip
    other = await store.sli_sharing_sides(con, kpi_id, [k.id for k in sides.values()])
    if other is not None:
        raise invalid(
            "prometheus", f"the SLI of KPI {other!r} already writes into its numerator or "
            "denominator: give each SLI KPIs of its own",
        )  # fmt: skip
    await store.upsert_sli(con, kpi_id=kpi_id, source_id=source_id, service_id=service_id, sli=sli)


# The evaluation round ---------------------------------------------------------------------------


@dataclass
class SliReport:
    """What a round did: buckets stored, buckets given up on, queries that failed."""

    points: int = 0
    gaps: int = 0
    failed: int = 0


@dataclass(frozen=True)
class RoundSettings:
    delay: dt.timedelta
    gap_after: dt.timedelta
    backfill: dt.timedelta
    timeout: float

    @classmethod
    def of(cls, settings: Settings) -> RoundSettings:
        return cls(
            delay=dt.timedelta(seconds=settings.prometheus_delay_seconds),
            gap_after=dt.timedelta(seconds=settings.prometheus_gap_after_seconds),
            backfill=dt.timedelta(days=settings.prometheus_backfill_days),
            timeout=settings.prometheus_timeout_seconds,
        )


async def evaluate_due(
    db: Database, http: httpx.AsyncClient, *, now: dt.datetime, settings: Settings,
    allow: outbound.AllowList,
) -> SliReport:  # fmt: skip
    """Every SLI's due buckets, by one process at a time: the holder of the SLI lease (a row
    with an expiry like the leader's, so no session state); does nothing when another process
    holds it. Points replace their bucket's, so a round run twice stores nothing twice."""
    report = SliReport()
    async with db.acquire() as con:
        holder = evaluation.process_holder()
        if not await leases.take_lease(con, SLI_LEASE, holder, settings.leader_lease_seconds):
            return report
        rows = await store.list_slis(con)
        sources = await store.data_sources_with_secret(
            con, sorted({r.data_source_id for r in rows})
        )
        for row in rows:
            try:
                await evaluate_sli(
                    con, http, row, sources[row.data_source_id], now=now,
                    round_settings=RoundSettings.of(settings), settings=settings,
                    allow=allow, report=report,
                )  # fmt: skip
            except Exception:
                log.exception("evaluating the SLI of %s failed; retried next round", row.key)
    return report


async def evaluate_sli(
    con: Connection, http: httpx.AsyncClient, row: SliRow, source: DataSourceSecret, *,
    now: dt.datetime, round_settings: RoundSettings, settings: Settings,
    allow: outbound.AllowList, report: SliReport,
) -> None:  # fmt: skip
    """One SLI's round: ask for its due buckets, store what settles, record the rest."""
    seconds = rules.BUCKET_SECONDS[row.bucket]
    starts = rules.due_window(
        row.next_bucket, seconds, now, delay=round_settings.delay, backfill=round_settings.backfill
    )
    if not starts:
        return
    asked = _Asked(con, http, row, source, now, round_settings.timeout, allow)
    answered: list[dt.datetime] = []
    failure = None
    for chunk in rules.chunks(starts):
        failure = await asked.chunk(chunk)
        if failure is not None:
            report.failed += 1
            break
        answered.extend(chunk)
    settled = rules.settle(
        answered, seconds, asked.good, asked.total, now, gap_after=round_settings.gap_after
    )
    async with con.transaction():
        if settled.points:
            await observations.ingest(
                con, _observations(row, source, settled.points), now=now, settings=settings,
                backfill=True,
            )  # fmt: skip
        await store.record_sli_round(
            con, row.kpi_id, next_bucket=settled.next_bucket, points=len(settled.points),
            gaps=settled.gaps, problem=failure or settled.problem, at=now,
        )  # fmt: skip
    report.points += len(settled.points)
    report.gaps += settled.gaps


@dataclass
class _Asked:
    """The samples an SLI's queries gave this round, by bucket start."""

    con: Connection
    http: httpx.AsyncClient
    row: SliRow
    source: DataSourceSecret
    now: dt.datetime
    timeout: float
    allow: outbound.AllowList

    def __post_init__(self) -> None:
        self.good: dict[dt.datetime, float] = {}
        self.total: dict[dt.datetime, float] = {}

    async def chunk(self, starts: list[dt.datetime]) -> str | None:
        """Asks both queries for the buckets of `starts`; what failed, if one did (counted
        on the data source either way)."""
        for events, query, into in (
            ("good", self.row.good_query, self.good), ("total", self.row.total_query, self.total)
        ):  # fmt: skip
            try:
                samples = await self._ask(query, starts)
            except QueryFailed as exc:
                failure = f"{events}-events query: {exc}"
                await store.record_query(self.con, self.source.source.id, error=failure,
                                         at=self.now)  # fmt: skip
                return failure
            await store.record_query(self.con, self.source.source.id, error=None, at=self.now)
            into.update(samples)
        return None

    async def _ask(self, query: str, starts: list[dt.datetime]) -> dict[dt.datetime, float]:
        """The query's sample for each bucket, asked at the bucket's end, by bucket start."""
        seconds = rules.BUCKET_SECONDS[self.row.bucket]
        step = dt.timedelta(seconds=seconds)
        samples = await query_range(
            self.http, self.source, rules.query_for(query, self.row.bucket),
            first_end=starts[0] + step, last_end=starts[-1] + step, step_seconds=seconds,
            allow=self.allow, timeout=self.timeout,
        )  # fmt: skip
        return {at - step: value for at, value in samples.items()}


async def _observations(
    row: SliRow, source: DataSourceSecret, points: list[rules.BucketPoint]
) -> AsyncIterator[list[Numbered]]:
    """The points as observations of the numerator (good) and denominator (total)."""
    tag = f"prometheus:{source.source.name}"
    batch: list[Numbered] = []
    position = 0
    for point in points:
        for kpi, value in ((row.numerator, point.good), (row.denominator, point.total)):
            observation = ObservationIn.model_validate({
                "kpi": kpi, "service": row.service, "ts": point.start, "value": float(value),
                "source": tag,
            })  # fmt: skip
            batch.append((position, observation))
            position += 1
        if len(batch) >= CHUNK_POINTS:
            yield batch
            batch = []
    if batch:
        yield batch
