"""kpi-compute's hand-written baseline gives exactly the service's figures on data that
exercises every rule the service applies and the generated data set leaves out: reopened
incidents (stored outage stretches), maintenance windows, rollbacks that undo a deployment,
reverts, and deployments shipping several commits."""

from __future__ import annotations

import datetime as dt

from bench.dataset import generate
from bench.kpi_compute import Figures, baseline, mismatches, ours
from service import db as dbmod
from service.kpi.periods import Period
from service.store import metrics

END = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
WINDOW = Period(END - dt.timedelta(days=365), END)

#: Each rule the generated data set does not exercise, added on top of it.
RULES = [
    # Reopened: up between an hour after impact start and two hours after it.
    """update incident set outage = tstzmultirange(
           tstzrange(started_at, started_at + interval '1 hour'),
           tstzrange(started_at + interval '2 hours', resolved_at))
       where resolved_at > started_at + interval '3 hours' and id % 5 = 0""",
    # A week of maintenance a quarter for every third service (announced ahead: the clock
    # the schema checks them against is set before the year, in this transaction).
    "select set_config('kpi.clock', '2025-01-01T00:00:00Z', true)",
    """insert into maintenance_window (service_id, starts_at, ends_at, reason, created_by)
       select s.id, q, q + interval '7 days', 'upgrade', 'test'
       from business_service s,
            generate_series(timestamptz '2025-01-15', '2025-12-15', interval '3 months') q
       where s.id % 3 = 0""",
    # Every third rollback undoes the production deployment of its service before it.
    """update change r set rolled_back_change_id = (
           select c.id from change c
           where c.service_id = r.service_id and c.is_production and c.finished_at < r.started_at
           order by c.finished_at desc limit 1)
       where r.kind = 'rollback' and r.is_production and r.id % 3 = 0""",
    # Every fourth production deployment also ships two more commits, one with a known time.
    """insert into change_commit (change_id, sha)
       select id, md5(id::text || n) from change, generate_series(1, 2) n
       where is_production and commit_sha is not null and id % 4 = 0""",
    """insert into commit_time (sha, committed_at, repo)
       select md5(id::text || 1), started_at - interval '3 hours', 'example/extra'
       from change where is_production and commit_sha is not null and id % 4 = 0""",
    # Every tenth hotfix reverts the commit the production change before it shipped.
    """insert into commit_revert (revert_sha, target, reason)
       select h.commit_sha, p.commit_sha, 'broke checkout'
       from change h
       join lateral (select c.commit_sha from change c
                     where c.service_id = h.service_id and c.is_production
                       and c.commit_sha is not null and c.finished_at < h.started_at
                       and c.commit_sha <> h.commit_sha
                     order by c.finished_at desc limit 1) p on true
       where h.kind = 'hotfix' and h.is_production and h.commit_sha is not null
         and h.id % 10 = 0
       on conflict do nothing""",
]


async def _both(con: dbmod.Connection) -> list[tuple[Figures, Figures]]:
    busiest = await con.fetchval(
        "select s.slug from incident i join business_service s on s.id = i.service_id "
        "group by s.slug order by count(*) desc, s.slug limit 1"
    )
    out = []
    for scope in (await metrics.resolve_scope(con, service=busiest),
                  await metrics.resolve_scope(con)):  # fmt: skip
        out.append((await ours(con, scope, WINDOW, END), await baseline(con, scope, WINDOW, END)))
    return out


async def test_the_baseline_computes_the_services_figures_by_every_rule(
    con: dbmod.Connection,
) -> None:
    await generate(con, services=12, incidents=4_000, changes=4_000, seed=7, end=END)
    plain = await _both(con)
    for mine, theirs in plain:
        assert not mismatches(mine, theirs)
    for statement in RULES:
        await con.execute(statement)
    ruled = await _both(con)
    for mine, theirs in ruled:
        assert not mismatches(mine, theirs), mismatches(mine, theirs)
    # The rules changed the fleet's figures, so the comparison above is not vacuous: less
    # downtime (reopened gaps, maintenance), more failures (rollbacks, reverts), more rework
    # (reverts) and more commits with a lead time.
    before, after = plain[1][0], ruled[1][0]
    assert after.availability is not None and before.availability is not None
    assert after.availability > before.availability
    assert after.failures > before.failures
    assert after.rework > before.rework
    assert after.lead_n > before.lead_n
