"""The baseline of kpi-compute: one hand-written SQL statement computing exactly the figures
the service's reads give a portal's service page, for one scope and one window.

Arguments: $1 the services (bigint[]), $2 and $3 the window's start and end, $4 now.
"""

from __future__ import annotations

#: The baseline: exactly the figures the service's call returns for a portal's service page
#: (availability; the count and MTTR mean, median and p90 by severity; the four DORA keys and
#: rework), by the same rules, in one statement written for speed.
#: Availability: an incident's outage is its stored stretches (a reopened incident was up in
#: between), else impact start to resolution; only incidents with stored stretches pay for
#: unnesting them. The stretches are merged per service in one window pass, ordered by start:
#: each adds only what reaches past every earlier one. Outage inside a maintenance window is
#: planned downtime, left out: for the services that have any, the union of their stretches
#: intersected with the union of their maintenance windows (multiranges) is subtracted.
#: MTTR takes one sort per severity for both percentiles (percentile_cont over an array of
#: fractions), and its mean as sum / count (avg() also keeps a running sum of squares).
#: DORA: changes meet the incidents they caused in a join the planner may hash (fleet) or probe
#: (one service); a change fails when its status says so, a later rollback undid it, it caused
#: an incident or it first shipped a commit a revert names; it is rework as a hotfix or rollback
#: or when it ships a revert; lead time is over every commit it shipped with a known commit
#: time. Seconds come from date_part (float8, no numeric detour); they may differ from
#: extract(epoch) in the last bit.
BASELINE = """
with stretch as (
    select i.service_id, i.started_at as o_start, coalesce(i.resolved_at, $4) as o_end
    from incident i
    join business_service s on s.id = i.service_id
    where s.id = any($1::bigint[]) and i.outage is null
      and i.severity <= s.outage_threshold
      and i.started_at < $3 and (i.resolved_at is null or i.resolved_at > $2)
    union all
    select i.service_id, lower(o.r), coalesce(upper(o.r), $4)
    from incident i
    join business_service s on s.id = i.service_id
    cross join lateral unnest(i.outage) as o (r)
    where s.id = any($1::bigint[]) and i.outage is not null
      and i.severity <= s.outage_threshold
      and i.started_at < $3 and (i.resolved_at is null or i.resolved_at > $2)
),
clipped as (
    select service_id, greatest(o_start, $2) as c_start, least(o_end, $3) as c_end
    from stretch
    where least(o_end, $3) > greatest(o_start, $2)
),
reach as (
    select service_id, c_start, c_end,
           max(c_end) over (partition by service_id order by c_start
                            rows between unbounded preceding and 1 preceding) as covered
    from clipped
),
down as (
    select coalesce(sum(greatest(c_end - greatest(c_start, coalesce(covered, c_start)),
                                 interval '0')), interval '0') as outage
    from reach
),
maintained as (
    select m.service_id,
           range_agg(tstzrange(greatest(m.starts_at, $2), least(m.ends_at, $3))) as r
    from maintenance_window m
    where m.service_id = any($1::bigint[]) and m.starts_at < $3 and m.ends_at > $2
    group by m.service_id
),
planned as (
    select coalesce(sum(date_part('epoch', upper(x) - lower(x))), 0) as seconds
    from (
        select c.service_id, range_agg(tstzrange(c.c_start, c.c_end)) as r
        from clipped c
        where c.service_id in (select service_id from maintained)
        group by c.service_id
    ) d
    join maintained m using (service_id)
    cross join lateral unnest(d.r * m.r) as x
),
mttr as (
    select severity, count(*) as incidents, count(x) as n, sum(x) / count(x) as mean,
           percentile_cont(array[0.5, 0.9]) within group (order by x) as pct
    from (
        select i.severity, date_part('epoch', i.resolved_at - i.detected_at) as x
        from incident i
        join business_service s on s.id = i.service_id
        where s.id = any($1::bigint[])
          and i.started_at >= $2 and i.started_at < $3 and i.severity is not null
    ) t
    group by severity
),
deploy as materialized (
    select c.id, c.kind, c.status, c.finished_at, c.commit_sha,
           count(i.caused_by_change_id) as incidents, count(i.resolved_at) as resolved,
           max(i.resolved_at) as last_resolved
    from change c
    join business_service s on s.id = c.service_id
    left join incident i on i.caused_by_change_id = c.id
    where s.id = any($1::bigint[])
      and c.is_production and c.status in ('success', 'failed', 'rolled_back')
      and c.finished_at >= $2 and c.finished_at < $3
    group by c.id
),
shipped as (
    select d.id, d.finished_at, d.commit_sha as sha from deploy d where d.commit_sha is not null
    union all
    select d.id, d.finished_at, cc.sha from deploy d join change_commit cc on cc.change_id = d.id
    where cc.sha is distinct from d.commit_sha
),
lead as (
    select count(*) as lead_n,
           percentile_cont(0.5) within group (
               order by date_part('epoch', x.finished_at - ct.committed_at)) as lead_median
    from shipped x
    join commit_time ct on ct.sha = x.sha
),
undone as (
    select distinct r.rolled_back_change_id as id
    from change r join deploy d on d.id = r.rolled_back_change_id
),
reverted as (
    select distinct x.id
    from shipped x join revert_target t on t.sha = x.sha
    where first_production_change(t.sha) = x.id
),
reverting as (
    select distinct x.id from shipped x join commit_revert r on r.revert_sha = x.sha
),
judged as (
    select d.*,
           d.status <> 'success' or d.incidents > 0 or u.id is not null
           or rd.id is not null as failed,
           d.kind in ('hotfix', 'rollback') or rg.id is not null as rework
    from deploy d
    left join undone u on u.id = d.id
    left join reverted rd on rd.id = d.id
    left join reverting rg on rg.id = d.id
),
dora as (
    select count(*) as deployments,
           count(*) filter (where failed) as failures,
           count(*) filter (where rework) as rework,
           count(*) filter (where incidents > 0 and resolved = incidents) as recovery_n,
           percentile_cont(0.5) within group (
               order by case when incidents > 0 and resolved = incidents
                             then date_part('epoch', last_resolved - finished_at)
                        end) as recovery_median
    from judged
)
select 1 - (date_part('epoch', down.outage) - planned.seconds)
           / (cardinality($1::bigint[]) * date_part('epoch', $3 - $2)) as availability,
       (select coalesce(array_agg(severity order by severity), '{}') from mttr) as severities,
       (select coalesce(array_agg(incidents order by severity), '{}') from mttr) as incidents,
       (select coalesce(array_agg(n order by severity), '{}') from mttr) as mttr_n,
       (select coalesce(array_agg(mean order by severity), '{}') from mttr) as mttr_mean,
       (select coalesce(array_agg(pct[1] order by severity), '{}') from mttr) as mttr_median,
       (select coalesce(array_agg(pct[2] order by severity), '{}') from mttr) as mttr_p90,
       dora.*, lead.*
from down, planned, dora, lead
"""
