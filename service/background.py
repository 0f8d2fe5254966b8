"""Background work every process runs: evaluating Prometheus SLIs into observations, KPIs at
period close and burn-rate alerts at every round (one leader at a time, by a lease row that
expires), firing time-based escalation steps, and delivering the notification outbox (rows
claimed with skip locked, so processes share the work without sending twice), retention by the
leader (expired observation partitions, delivery payloads and Idempotency-Key answers;
service/usecases/retention.py), and forgetting rate-limit buckets that have refilled."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

import httpx

from service import outbound, webhook_guard
from service.clock import Clock
from service.config import Settings
from service.db import Database
from service.store import leases
from service.usecases import burn_alerts, evaluation, notifications, retention, slis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TickReport:
    statuses: int
    delivered: int
    retrying: int
    failed: int
    #: Burn-rate alerts fired or resolved.
    burn_alerts: int = 0


def allow_list(settings: Settings) -> outbound.AllowList:
    """KPI_OUTBOUND_ALLOW, and in demo mode the demo's own receiver (exactly that URL)."""
    demo = [settings.demo_receiver_url] if settings.demo_receiver_url else []
    return outbound.AllowList.parse(settings.outbound_allow, urls=demo)


async def tick(
    db: Database, settings: Settings, http: httpx.AsyncClient, now: dt.datetime
) -> TickReport:
    """One round: evaluate what is due (if leader), then deliver due notifications."""
    configured = settings.notify_secret.get_secret_value() if settings.notify_secret else None
    # SLIs first: a period that has just closed is evaluated with its last buckets in.
    await slis.evaluate_due(db, http, now=now, settings=settings, allow=allow_list(settings))
    async with db.acquire() as con:
        statuses = await evaluation.evaluate_due(
            con, now, lease_seconds=settings.leader_lease_seconds
        )
        alerts = await burn_alerts.evaluate_due(
            con, now, lease_seconds=settings.leader_lease_seconds
        )
        secret = await notifications.signing_secret(con, configured)
        try:
            await retention.run_due(con, settings, now, lease_seconds=settings.leader_lease_seconds)
        except Exception:
            # A partition a long read still holds: the next round tries again.
            log.exception("retention failed; retried next round")
        await webhook_guard.WebhookGuard(settings).forget_refilled(con)
    report = await notifications.deliver_due(
        db, http, secret, now=now, timeout=settings.notify_timeout_seconds,
        allow=allow_list(settings),
    )  # fmt: skip
    return TickReport(
        statuses, len(report.delivered), len(report.retrying), len(report.failed), alerts
    )


async def run(db: Database, settings: Settings, clock: Clock, stop: asyncio.Event) -> None:
    """Rounds every `background_interval_seconds` until `stop` is set; a failing round is
    logged and retried next time."""
    # trust_env off: no proxy from the environment stands between the guard and the receiver.
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as http:
        while not stop.is_set():
            try:
                report = await tick(db, settings, http, clock())
                if any(report.__dict__.values()):
                    log.info("background round", extra={"report": report.__dict__})
            except Exception:
                log.exception("background round failed; retrying next round")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.background_interval_seconds)
    # Stopping: hand the lead over now rather than when the lease expires.
    try:
        async with db.acquire() as con:
            await leases.release_lease(con, evaluation.LEADER_LEASE, evaluation.process_holder())
    except Exception:
        log.warning("leader lease not released; it expires by itself", exc_info=True)
