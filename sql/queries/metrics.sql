-- Builtin metrics, computed from incidents and changes over a list of windows (spend and
-- budgets: money.sql).
-- Every query takes the services in scope ($1, bigint[]) and the windows as two parallel
-- arrays of starts and ends ($2, $3, timestamptz[]); a window is numbered n from 1 in order.
-- The incident and change queries also take the span of all windows (its start and end, as
-- plain timestamptz): rows are read over the span, so the planner can estimate them from its
-- statistics, and only then spread over the windows.

-- name: outage_seconds
-- Per window and service: seconds covered by the union of outage intervals. An outage is an
-- incident at or above the service's outage threshold (sev1 is the highest), over the
-- stretches it was down (`outage`: from impact start to resolution, and from each reopening to
-- the next resolution), the last one to $4 (now) while open ($5, $6: the span). Overlaps are
-- counted once: stretches are clipped to the window and taken in order of start; each adds
-- only what reaches past every earlier one of its service and window (the union's length,
-- in one window pass). $7: the severities counted (null: every one).
with w as (
    select w_start, w_end, n::int
    from unnest($2::timestamptz[], $3::timestamptz[]) with ordinality as w(w_start, w_end, n)
),
stretch as (
    select i.id, i.service_id, lower(o.r) as o_start, coalesce(upper(o.r), $4) as o_end
    from business_service s
    join incident i on i.service_id = s.id
    cross join lateral unnest(incident_outage(i.outage, i.started_at, i.resolved_at)) as o (r)
    where s.id = any($1::bigint[])
      and i.severity <= s.outage_threshold
      and ($7::text[] is null or i.severity = any($7))
      and i.started_at < $6
      and (i.resolved_at is null or i.resolved_at > $5)
),
clipped as (
    select w.n, t.service_id, t.id,
           greatest(t.o_start, w.w_start) as c_start,
           least(t.o_end, w.w_end) as c_end
    from stretch t
    join w on t.o_start < w.w_end and t.o_end > w.w_start
    where t.o_end > t.o_start  -- no negative downtime
),
reach as (
    select n, service_id, id, c_start, c_end,
           max(c_end) over (
               partition by n, service_id order by c_start
               rows between unbounded preceding and 1 preceding) as covered
    from clipped
)
select n, service_id,
       extract(epoch from sum(greatest(c_end - greatest(c_start, coalesce(covered, c_start)),
                                       interval '0')))::double precision as seconds,
       count(distinct id) as incidents
from reach
group by n, service_id
order by n, service_id;

-- name: incident_stats
-- Per window (incidents whose impact started in it), overall, by severity and by service:
-- counts and the mean, median and p90 of detection (detected - started), acknowledgement
-- (acknowledged - detected), resolution (resolved - detected) and restore (resolved - started)
-- times in seconds; recurrences (an earlier incident of the same service and problem key
-- started within 30 days before); users affected; explicit cost estimates.
-- ($4, $5: the span.) A recurrence is found in one ordered pass over the incidents with a
-- problem key, from 30 days before the span: the latest one that started strictly earlier (an
-- incident starting at the same instant is not an earlier one), if within 30 days, makes it
-- recur. Means are sum / count: what avg() returns to the
-- last bit (the same running sum), without its running sum of squares. $6: the severities
-- counted (null: every one); an earlier incident of any severity makes one recur. $7, when
-- given, names a service for each window: that window counts that service's incidents only
-- (so one statement gives every service's figures). $8, when given, numbers a group for each
-- window: windows of one group (disjoint stretches, each of one service: a team's services as
-- it owned them) are counted together as one, numbered n by the group.
with w as (
    select w_start, w_end, sid, coalesce(g, n)::int as n
    from unnest($2::timestamptz[], $3::timestamptz[], $7::bigint[], $8::int[])
         with ordinality as w(w_start, w_end, sid, g, n)
    where w_start is not null
),
keyed as (
    select i.id, i.started_at,
           max(i.started_at) over (
               partition by i.service_id, i.problem_key order by i.started_at
               range between unbounded preceding and interval '1 microsecond' preceding)
               as previous
    from incident i
    where i.service_id = any($1::bigint[])
      and i.problem_key is not null
      and i.started_at >= $4::timestamptz - interval '30 days'
      and i.started_at < $5
),
-- Read as a hashed set (`in`): computed once, whatever join order the planner picks.
recurrence as (
    select id from keyed where previous >= started_at - interval '30 days'
),
inc as (
    select i.started_at, i.severity, i.service_id, i.users_affected, i.cost_estimate,
           interval_seconds(i.detected_at - i.started_at) as ttd,
           interval_seconds(i.acknowledged_at - i.detected_at) as tta,
           interval_seconds(i.resolved_at - i.detected_at) as ttr,
           interval_seconds(i.resolved_at - i.started_at) as restore,
           i.id in (select id from recurrence) as recurring
    from incident i
    where i.service_id = any($1::bigint[])
      and i.started_at >= $4 and i.started_at < $5
      and ($6::text[] is null or i.severity = any($6))
)
select n, severity, service_id,
       grouping(severity, service_id) as level,
       count(*) as incidents,
       count(*) filter (where recurring) as recurring,
       sum(users_affected)::double precision as users_affected,
       sum(cost_estimate) as cost_estimate,
       count(ttd) as ttd_n, sum(ttd) / count(ttd) as ttd_mean,
       percentile_cont(0.5) within group (order by ttd) as ttd_median,
       percentile_cont(0.9) within group (order by ttd) as ttd_p90,
       count(tta) as tta_n, sum(tta) / count(tta) as tta_mean,
       percentile_cont(0.5) within group (order by tta) as tta_median,
       percentile_cont(0.9) within group (order by tta) as tta_p90,
       count(ttr) as ttr_n, sum(ttr) / count(ttr) as ttr_mean,
       percentile_cont(0.5) within group (order by ttr) as ttr_median,
       percentile_cont(0.9) within group (order by ttr) as ttr_p90,
       count(restore) as restore_n, sum(restore) / count(restore) as restore_mean,
       percentile_cont(0.5) within group (order by restore) as restore_median,
       percentile_cont(0.9) within group (order by restore) as restore_p90
from inc
join w on inc.started_at >= w.w_start and inc.started_at < w.w_end
      and (w.sid is null or inc.service_id = w.sid)
group by grouping sets ((n), (n, severity), (n, service_id))
order by n, level desc, severity, service_id;

-- name: incident_resolution_by_severity
-- What a caller asking for MTTR by severity alone needs, and no more: per window and severity
-- (incidents whose impact started in the window, with a severity), the count, and the count,
-- mean, median and p90 of resolution times (resolved - detected) in seconds, exactly as
-- incident_stats gives them at its severity level. Both percentiles come from one sort
-- (percentile_cont over an array of fractions). $1 .. $8 as in incident_stats.
with w as (
    select w_start, w_end, sid, coalesce(g, n)::int as n
    from unnest($2::timestamptz[], $3::timestamptz[], $7::bigint[], $8::int[])
         with ordinality as w(w_start, w_end, sid, g, n)
    where w_start is not null
),
inc as (
    select i.started_at, i.severity, i.service_id,
           interval_seconds(i.resolved_at - i.detected_at) as ttr
    from incident i
    where i.service_id = any($1::bigint[])
      and i.started_at >= $4 and i.started_at < $5
      and i.severity is not null
      and ($6::text[] is null or i.severity = any($6))
),
grouped as (
    select w.n, inc.severity, count(*) as incidents,
           count(ttr) as ttr_n, sum(ttr) / count(ttr) as ttr_mean,
           percentile_cont(array[0.5, 0.9]) within group (order by ttr) as ttr_pct
    from inc
    join w on inc.started_at >= w.w_start and inc.started_at < w.w_end
          and (w.sid is null or inc.service_id = w.sid)
    group by w.n, inc.severity
)
select n, severity, incidents, ttr_n, ttr_mean,
       ttr_pct[1] as ttr_median, ttr_pct[2] as ttr_p90
from grouped
order by n, severity;

-- name: change_stats
-- Per window, DORA over production changes that finished in it with a final status (success,
-- failed, rolled back): deployments; failures (failed or rolled back, undone by a later
-- rollback, named as the cause of an incident, or the first production change to ship a
-- commit a later commit reverted); rework (hotfixes, rollbacks and changes that shipped a
-- revert); lead time: the median, over every commit
-- each deployment shipped (its `commit_sha` and the commits sent with it) whose commit time
-- is known, of finished - commit time, in seconds (lead_n: those commits); median recovery
-- time (the last resolution among the incidents a failed change caused - its finish) in
-- seconds, over failed changes whose incidents are all resolved.
-- ($4, $5: the span.) Changes meet the incidents they caused in a join planned for the rows
-- the span holds, are summed per change, and only then are spread over the windows (kept
-- apart, so the windows' join does not distort the estimates). $6: the environments counted
-- (lower case; null: the production ones), $7: the change kinds (null: every one). $8, when
-- given, names a service for each window: that window counts that service's changes only
-- (so one statement gives every service's figures). $9, when given, numbers a group for each
-- window, counted together as in incident_stats (a change is in one window of its group at
-- most, so it is counted once).
with w as (
    select w_start, w_end, sid, coalesce(g, n)::int as n
    from unnest($2::timestamptz[], $3::timestamptz[], $8::bigint[], $9::int[])
         with ordinality as w(w_start, w_end, sid, g, n)
    where w_start is not null
),
deploy as materialized (
    select c.id, c.service_id, c.kind, c.status, c.finished_at, c.commit_sha,
           count(i.caused_by_change_id) as incidents,
           count(i.caused_by_change_id) filter (where i.resolved_at is null) as open,
           max(i.resolved_at) as last_resolved,
           exists (select from change r
                   where r.rolled_back_change_id = c.id
                     and r.rolled_back_change_id is not null) as undone
    from change c
    left join incident i on i.caused_by_change_id = c.id
    where c.service_id = any($1::bigint[])
      and (case when $6::text[] is null then c.is_production
                else lower(c.environment) = any($6) end)
      and ($7::text[] is null or c.kind = any($7))
      and c.status in ('success', 'failed', 'rolled_back')
      and c.finished_at >= $4 and c.finished_at < $5
    group by c.id
),
-- Each commit a deployment shipped, once: its own commit, and the other commits sent with it
-- (change_commit holds a commit once per change), without a per-change union to deduplicate.
deploy_sha as (
    select d.id, d.service_id, d.finished_at, d.commit_sha as sha
    from deploy d
    where d.commit_sha is not null
    union all
    select d.id, d.service_id, d.finished_at, cc.sha
    from deploy d
    join change_commit cc on cc.change_id = d.id
    where cc.sha is distinct from d.commit_sha
),
-- Materialized: the commit times are joined for the span's rows (a hash join for a fleet),
-- not once per row the windows' join is wrongly estimated to leave.
shipped as materialized (
    select ds.service_id, ds.finished_at,
           interval_seconds(ds.finished_at - ct.committed_at) as lead
    from deploy_sha ds
    join commit_time ct on ct.sha = ds.sha
),
reverted as (
    select distinct ds.id
    from deploy_sha ds
    join revert_target t on t.sha = ds.sha
    where first_production_change(t.sha) = ds.id
),
reverting as (
    select distinct ds.id from deploy_sha ds join commit_revert r on r.revert_sha = ds.sha
),
lead as (
    select w.n, count(*) as lead_n,
           percentile_cont(0.5) within group (order by s.lead) as lead_median
    from shipped s
    join w on s.finished_at >= w.w_start and s.finished_at < w.w_end
              and (w.sid is null or s.service_id = w.sid)
    group by w.n
),
counted as (
    select w.n,
           count(*) as deployments,
           count(*) filter (where d.status in ('failed', 'rolled_back') or d.undone
                                  or d.incidents > 0 or rd.id is not null) as failures,
           count(*) filter (where d.kind in ('hotfix', 'rollback') or rg.id is not null)
               as rework,
           count(*) filter (where d.incidents > 0 and d.open = 0) as recovery_n,
           percentile_cont(0.5) within group (
               order by case when d.incidents > 0 and d.open = 0
                             then interval_seconds(d.last_resolved - d.finished_at)
                        end) as recovery_median
    from deploy d
    left join reverted rd on rd.id = d.id
    left join reverting rg on rg.id = d.id
    join w on d.finished_at >= w.w_start and d.finished_at < w.w_end
              and (w.sid is null or d.service_id = w.sid)
    group by w.n
)
select c.n, c.deployments, c.failures, c.rework,
       coalesce(l.lead_n, 0) as lead_n, l.lead_median,
       c.recovery_n, c.recovery_median
from counted c
left join lead l on l.n = c.n
order by c.n;

-- name: scope_all_services
select coalesce(array_agg(id order by id), '{}') from business_service;

-- name: scope_team_services
select coalesce(array_agg(id order by id), '{}') from business_service where team_id = $1;

-- name: scope_tier_services
select coalesce(array_agg(id order by id), '{}') from business_service where tier = $1;

-- name: availability_kpis_of_services
-- For each service among $1, the builtin availability KPI whose targets apply to it: the one
-- that applies to it (linked; the first by key when several do), else the only builtin
-- availability KPI when there is exactly one. Services with none are absent (tier default).
select s.id as service_id, coalesce(linked.kpi_id, sole.id) as kpi_id
from unnest($1::bigint[]) as s (id)
left join lateral (
    select k.id as kpi_id
    from kpi_service ks join kpi k on k.id = ks.kpi_id
    where ks.service_id = s.id and k.builtin_metric = 'availability'
    order by k.key
    limit 1
) linked on true
left join (
    select min(id) as id from kpi where builtin_metric = 'availability' having count(*) = 1
) sole on true
where coalesce(linked.kpi_id, sole.id) is not null;

-- name: services_of_kpi
select coalesce(array_agg(service_id order by service_id), '{}') from kpi_service
where kpi_id = $1;
