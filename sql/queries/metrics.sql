-- Builtin metrics, computed from incidents, changes and cost records over a list of windows.
-- Every query takes the services in scope ($1, bigint[]) and the windows as two parallel
-- arrays of starts and ends ($2, $3, timestamptz[]); a window is numbered n from 1 in order.

-- name: outage_seconds
-- Per window and service: seconds covered by the union of outage intervals. An outage is an
-- incident at or above the service's outage threshold (sev1 is the highest), from impact
-- start to resolution, or to $4 (now) while open. Overlaps are counted once: intervals are
-- clipped to the window, sorted, and merged into islands wherever one starts after every
-- earlier one has ended.
with w as (
    select w_start, w_end, n::int
    from unnest($2::timestamptz[], $3::timestamptz[]) with ordinality as w(w_start, w_end, n)
),
outage as (
    select i.service_id, i.started_at as o_start, coalesce(i.resolved_at, $4) as o_end
    from incident i
    join business_service s on s.id = i.service_id
    where i.service_id = any($1::bigint[])
      and i.severity <= s.outage_threshold
      and i.started_at < (select max(w_end) from w)
      and (i.resolved_at is null or i.resolved_at > (select min(w_start) from w))
      and coalesce(i.resolved_at, $4) > i.started_at  -- no negative downtime
),
clipped as (
    select w.n, o.service_id,
           greatest(o.o_start, w.w_start) as c_start, least(o.o_end, w.w_end) as c_end
    from outage o
    join w on o.o_start < w.w_end and o.o_end > w.w_start
),
marked as (
    select n, service_id, c_start, c_end,
           c_start > max(c_end) over (
               partition by n, service_id order by c_start, c_end
               rows between unbounded preceding and 1 preceding) as starts_island
    from clipped
),
islands as (
    select n, service_id, c_start, c_end,
           count(*) filter (where starts_island is not false) over (
               partition by n, service_id order by c_start, c_end
               rows unbounded preceding) as island
    from marked
),
merged as (
    select n, service_id, max(c_end) - min(c_start) as length, count(*) as incidents
    from islands
    group by n, service_id, island
)
select n, service_id,
       extract(epoch from sum(length))::double precision as seconds,
       sum(incidents)::bigint as incidents
from merged
group by n, service_id
order by n, service_id;

-- name: incident_stats
-- Per window (incidents whose impact started in it), overall, by severity and by service:
-- counts and the mean, median and p90 of detection (detected - started), acknowledgement
-- (acknowledged - detected), resolution (resolved - detected) and restore (resolved - started)
-- times in seconds; recurrences (an earlier incident of the same service and problem key
-- started within 30 days before); users affected; explicit cost estimates.
with w as (
    select w_start, w_end, n::int
    from unnest($2::timestamptz[], $3::timestamptz[]) with ordinality as w(w_start, w_end, n)
),
inc as (
    select w.n, i.severity, i.service_id, i.users_affected, i.cost_estimate,
           extract(epoch from i.detected_at - i.started_at)::double precision as ttd,
           extract(epoch from i.acknowledged_at - i.detected_at)::double precision as tta,
           extract(epoch from i.resolved_at - i.detected_at)::double precision as ttr,
           extract(epoch from i.resolved_at - i.started_at)::double precision as restore,
           i.problem_key is not null and exists (
               select 1 from incident e
               where e.service_id = i.service_id and e.problem_key = i.problem_key
                 and e.started_at >= i.started_at - interval '30 days'
                 and (e.started_at, e.id) < (i.started_at, i.id)
           ) as recurring
    from incident i
    join w on i.started_at >= w.w_start and i.started_at < w.w_end
    where i.service_id = any($1::bigint[])
)
select n, severity, service_id,
       grouping(severity, service_id) as level,
       count(*) as incidents,
       count(*) filter (where recurring) as recurring,
       sum(users_affected)::double precision as users_affected,
       sum(cost_estimate) as cost_estimate,
       count(ttd) as ttd_n, avg(ttd) as ttd_mean,
       percentile_cont(0.5) within group (order by ttd) as ttd_median,
       percentile_cont(0.9) within group (order by ttd) as ttd_p90,
       count(tta) as tta_n, avg(tta) as tta_mean,
       percentile_cont(0.5) within group (order by tta) as tta_median,
       percentile_cont(0.9) within group (order by tta) as tta_p90,
       count(ttr) as ttr_n, avg(ttr) as ttr_mean,
       percentile_cont(0.5) within group (order by ttr) as ttr_median,
       percentile_cont(0.9) within group (order by ttr) as ttr_p90,
       count(restore) as restore_n, avg(restore) as restore_mean,
       percentile_cont(0.5) within group (order by restore) as restore_median,
       percentile_cont(0.9) within group (order by restore) as restore_p90
from inc
group by grouping sets ((n), (n, severity), (n, service_id))
order by n, level desc, severity, service_id;

-- name: change_stats
-- Per window, DORA over production changes that finished in it with a final status (success,
-- failed, rolled back): deployments; failures (failed or rolled back, or named as the cause of
-- an incident); rework (hotfixes and rollbacks); median lead time (finished - commit time) in
-- seconds; median recovery time (the last resolution among the incidents a failed change
-- caused - its finish) in seconds, over failed changes whose incidents are all resolved.
with w as (
    select w_start, w_end, n::int
    from unnest($2::timestamptz[], $3::timestamptz[]) with ordinality as w(w_start, w_end, n)
),
deploy as (
    select w.n, c.id, c.kind, c.status, c.finished_at,
           extract(epoch from c.finished_at - ct.committed_at)::double precision as lead,
           caused.incidents, caused.open, caused.last_resolved
    from change c
    join w on c.finished_at >= w.w_start and c.finished_at < w.w_end
    left join commit_time ct on ct.sha = c.commit_sha
    left join lateral (
        select count(*) as incidents, count(*) filter (where i.resolved_at is null) as open,
               max(i.resolved_at) as last_resolved
        from incident i where i.caused_by_change_id = c.id
    ) caused on true
    where c.service_id = any($1::bigint[])
      and c.is_production
      and c.status in ('success', 'failed', 'rolled_back')
)
select n,
       count(*) as deployments,
       count(*) filter (where status in ('failed', 'rolled_back') or incidents > 0) as failures,
       count(*) filter (where kind in ('hotfix', 'rollback')) as rework,
       count(lead) as lead_n,
       percentile_cont(0.5) within group (order by lead) as lead_median,
       count(*) filter (where incidents > 0 and open = 0) as recovery_n,
       percentile_cont(0.5) within group (
           order by case when incidents > 0 and open = 0
                         then extract(epoch from last_resolved - finished_at)::double precision
                    end) as recovery_median
from deploy
group by n
order by n;

-- name: spend
-- Per window, spend in one currency ($4): each cost record's amount spread evenly over the
-- days of its period, counted for the days that fall in the window. $5 includes records that
-- belong to no service (the estate as a whole).
with w as (
    select w_start, w_end, n::int
    from unnest($2::timestamptz[], $3::timestamptz[]) with ordinality as w(w_start, w_end, n)
),
cost as (
    select c.amount::double precision as amount, c.category,
           c.period_start::timestamp at time zone 'UTC' as p_start,
           c.period_end::timestamp at time zone 'UTC' as p_end
    from cost_record c
    where c.currency = $4
      and (c.service_id = any($1::bigint[]) or ($5 and c.service_id is null))
      and c.period_start < ((select max(w_end) from w) at time zone 'UTC')::date + 1
      and c.period_end > ((select min(w_start) from w) at time zone 'UTC')::date
)
select w.n, c.category,
       sum(c.amount * extract(epoch from least(c.p_end, w.w_end) - greatest(c.p_start, w.w_start))
           / extract(epoch from c.p_end - c.p_start)) as amount,
       count(*) as records
from cost c
join w on c.p_start < w.w_end and c.p_end > w.w_start
group by w.n, c.category
order by w.n, c.category;

-- name: currencies_in_scope
select distinct currency from cost_record
where service_id = any($1::bigint[]) or ($2 and service_id is null)
order by currency;

-- name: scope_all_services
select coalesce(array_agg(id order by id), '{}') from business_service;

-- name: scope_team_services
select coalesce(array_agg(id order by id), '{}') from business_service where team_id = $1;

-- name: scope_tier_services
select coalesce(array_agg(id order by id), '{}') from business_service where tier = $1;

-- name: availability_kpi
-- The KPI whose targets are the services' availability targets: the first builtin one.
select id from kpi where builtin_metric = 'availability' order by id limit 1;
