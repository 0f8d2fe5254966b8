"""`kpi doctor`: finds data stored before the API's current rules that breaks them, says how
much of each kind there is and how to fix it, and exits non-zero while any is left.

Kinds: dates and times outside 1970-2200 (a period at 'infinity', which asyncpg reads as the
last day Python has); observation partitions for months outside the horizon (such as the
thousands one point a month from 1970 to 2199 made); webhook URLs of escalation steps, and of
notifications still to send, that the outbound rules refuse; escalation events whose text
still names a webhook URL. The migration `stored_data_in_range` repaired what it could without
losing anything (open-ended targets, URLs in event text, up to 200 far partitions); what is
left needs a decision, which each finding's fix describes. `--fold-partitions` folds far
partitions into the default one, 200 to a transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from service import outbound
from service.config import Settings
from service.db import Connection
from service.models.observation_limits import partition_horizon
from service.models.urls import is_demo_receiver
from service.store import doctor as store
from service.usecases import retention

#: Partitions folded per transaction by --fold-partitions (each holds a few locks to commit).
FOLD_BATCH = 200

#: How rows with a date or time out of range are fixed, by table.
_DATE_FIXES = {
    "cost_record": "correct each record with PUT /v1/costs/{id} (admin token; its real "
    "period, from 1970 to 2200) or delete it with DELETE /v1/costs/{id}",
    "target": "replace each target with PUT /v1/targets/{id} (dates from 1970 to 2200) or "
    "delete it with DELETE /v1/targets/{id}",
    "incident": "send the incident again with its real times (POST /v1/incidents, or correct "
    "the tool's record and replay its delivery); a time nobody knows can be cleared with SQL "
    "(update incident set <column> = null where id in (...))",
    "change": "send the change again with its real times (POST /v1/changes, or correct the "
    "tool's record and replay its delivery); a time nobody knows can be cleared with SQL",
    "incident_event": "these steps came from deliveries with impossible times: delete them "
    "with SQL and send the steps again with real times",
    "change_event": "these steps came from deliveries with impossible times: delete them with "
    "SQL and send the steps again with real times",
    "commit_time": "delete these commit times with SQL (delete from commit_time where "
    "committed_at = 'infinity' or ...) and send the commits again",
}
_DEFAULT_DATE_FIX = "no request can write this since the 1970-2200 rule: correct it with SQL"


@dataclass(frozen=True)
class Finding:
    kind: str
    count: int
    what: str
    fix: str
    examples: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"PROBLEM {self.kind}: {self.what}"]
        if self.examples:
            out.append(f"  e.g. {', '.join(self.examples)}")
        out.append(f"  fix: {self.fix}")
        return out


async def _dates(con: Connection) -> list[Finding]:
    found = []
    for bad in await store.out_of_range_dates(con):
        ids = [f"id {i}" for i in bad.first_ids]
        found.append(Finding(
            f"{bad.table}.{bad.column}", bad.rows,
            f"{bad.rows} row(s) with a date or time outside 1970-2200 (such as 'infinity'); "
            "reads over them fail (a logged server error)",
            _DATE_FIXES.get(bad.table, _DEFAULT_DATE_FIX), ids,
        ))  # fmt: skip
    return found


async def _partitions(con: Connection, settings: Settings, now: dt.datetime) -> list[Finding]:
    horizon = partition_horizon(now, settings)
    outside = [
        name for name, start in await store.monthly_partitions(con)
        if start < horizon.start or start >= horizon.end
    ]  # fmt: skip
    if not outside:
        return []
    years = settings.observation_partition_years
    return [Finding(
        "observation partitions", len(outside),
        f"{len(outside)} monthly partition(s) outside the horizon {horizon.start:%Y-%m} to "
        f"{horizon.end:%Y-%m} (KPI_OBSERVATION_PARTITION_YEARS={years}); every series read "
        "without bounds visits each one",
        "`kpi doctor --fold-partitions` moves their rows into the default partition and drops "
        "them (nothing is lost); or raise KPI_OBSERVATION_PARTITION_YEARS to keep them",
        outside[:5],
    )]  # fmt: skip


async def _urls(con: Connection, settings: Settings) -> list[Finding]:
    allow = outbound.AllowList.parse(settings.outbound_allow)
    found = []
    steps = [
        (f"{key} step {position}", why)
        for key, position, url in await store.webhook_steps(con)
        if not is_demo_receiver(url)
        and (why := outbound.refusal_without_lookup(url, allow)) is not None
    ]
    if steps:
        found.append(Finding(
            "escalation webhook URLs", len(steps),
            f"{len(steps)} webhook step(s) whose URL the outbound rules refuse: their "
            "notifications are never sent",
            "replace the KPI (PUT /v1/kpis/{key}) with an http(s) URL without credentials; a "
            "receiver on a private network needs its host in KPI_OUTBOUND_ALLOW",
            [f"{where}: {why}" for where, why in steps[:5]],
        ))  # fmt: skip
    pending = [
        f"notification {outbox_id}"
        for outbox_id, url in await store.pending_notification_urls(con)
        if not is_demo_receiver(url) and outbound.refusal_without_lookup(url, allow) is not None
    ]
    if pending:
        found.append(Finding(
            "pending notification URLs", len(pending),
            f"{len(pending)} pending notification(s) to URLs the outbound rules refuse: each "
            "will be tried until it is marked failed",
            "allow the receiver in KPI_OUTBOUND_ALLOW if it is yours; otherwise let them fail "
            "(GET /v1/notifications?state=failed lists them)",
            pending[:5],
        ))  # fmt: skip
    events = await store.events_naming_urls(con)
    if events:
        found.append(Finding(
            "escalation events naming URLs", events,
            f"{events} escalation event(s) whose text names a webhook URL, which read tokens see",
            "run `kpi migrate` (the migration stored_data_in_range keeps their host only)",
        ))  # fmt: skip
    return found


async def diagnose(con: Connection, settings: Settings, now: dt.datetime) -> list[Finding]:
    """Every kind of stored data the current rules refuse."""
    return [*await _dates(con), *await _partitions(con, settings, now), *await _urls(con, settings)]


async def fold_partitions(con: Connection, settings: Settings, now: dt.datetime) -> int:
    """Folds every monthly partition outside the horizon into the default one, FOLD_BATCH to
    a transaction; how many were folded."""
    horizon = partition_horizon(now, settings)
    total = 0
    while True:
        async with con.transaction():
            folded = await store.fold_partitions(
                con, start=horizon.start, end=horizon.end, most=FOLD_BATCH
            )
        total += folded
        if folded < FOLD_BATCH:
            return total


async def run(
    con: Connection, settings: Settings, now: dt.datetime, say: Callable[[str], None],
    *, fold: bool = False,
) -> int:  # fmt: skip
    """The command: folds first if asked, says what retention keeps and last did, then
    reports; 0 when nothing is left, else 1."""
    if fold:
        say(f"folded {await fold_partitions(con, settings, now)} partition(s) into "
            "observation_default")  # fmt: skip
    say(await retention.summary(con, settings))
    findings = await diagnose(con, settings, now)
    for finding in findings:
        for line in finding.lines():
            say(line)
    if not findings:
        say("ok: no stored data breaks the current rules")
        return 0
    kinds = len(findings)
    say(f"{kinds} kind(s) of stored data break the current rules")
    return 1
