-- Burn-rate alert policies and the alerts they fire. service/store/burn_alerts.py wraps each
-- statement.

-- name: get_policy
select p.objective, p.rules, k.key as kpi
from burn_policy p join kpi k on k.id = p.kpi_id
where p.kpi_id = $1;

-- name: put_policy
insert into burn_policy (kpi_id, objective, rules, updated_at)
values ($1, $2, $3, $4)
on conflict (kpi_id) do update
    set objective = excluded.objective, rules = excluded.rules, updated_at = excluded.updated_at;

-- name: delete_policy
delete from burn_policy where kpi_id = $1 returning kpi_id;

-- name: policies_by_kpi
-- The policies of some KPIs (the graph's loader), keyed by KPI id.
select p.kpi_id as key, p.objective, p.rules, k.key as kpi
from burn_policy p join kpi k on k.id = p.kpi_id
where p.kpi_id = any($1::bigint[]);

-- name: list_policies
select p.kpi_id, p.objective, p.rules, k.key as kpi
from burn_policy p join kpi k on k.id = p.kpi_id
order by p.kpi_id;

-- name: firing_alerts
-- Every firing alert, locked: the evaluating round resolves them or leaves them.
select id, kpi_id, rule
from burn_alert
where resolved_at is null
order by id
for update;

-- name: fire_alert
-- Nothing when the rule of the KPI is firing already (another process fired it first).
insert into burn_alert (kpi_id, rule, severity, threshold, long_window_minutes,
                        short_window_minutes, objective, fired_at, long_burn_rate,
                        short_burn_rate)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
on conflict (kpi_id, rule) where resolved_at is null do nothing
returning id;

-- name: resolve_alert
update burn_alert
set resolved_at = $2, resolved_long_burn_rate = $3, resolved_short_burn_rate = $4
where id = $1 and resolved_at is null
returning id;

-- name: list_alerts
-- Alerts newest first, by KPI ($1) and state ($2: firing, resolved or null), before id $3.
select a.id, k.key as kpi, a.rule, a.severity,
       case when a.resolved_at is null then 'firing' else 'resolved' end as state,
       a.threshold, a.long_window_minutes, a.short_window_minutes, a.objective, a.fired_at,
       a.long_burn_rate, a.short_burn_rate, a.resolved_at, a.resolved_long_burn_rate,
       a.resolved_short_burn_rate
from burn_alert a join kpi k on k.id = a.kpi_id
where ($1::bigint is null or a.kpi_id = $1)
  and ($2::text is null or (a.resolved_at is null) = ($2 = 'firing'))
  and ($3::bigint is null or a.id < $3)
  and ($5::bigint is null or a.id = $5)
order by a.id desc
limit $4;

-- name: alerts_by_kpi
-- The latest alerts ($2 at most) of each of some KPIs, newest first: one statement for a
-- page of KPIs.
select a.kpi_id as key, a.id, k.key as kpi, a.rule, a.severity,
       case when a.resolved_at is null then 'firing' else 'resolved' end as state,
       a.threshold, a.long_window_minutes, a.short_window_minutes, a.objective, a.fired_at,
       a.long_burn_rate, a.short_burn_rate, a.resolved_at, a.resolved_long_burn_rate,
       a.resolved_short_burn_rate
from unnest($1::bigint[]) as w (kpi_id)
join kpi k on k.id = w.kpi_id
cross join lateral (
    select * from burn_alert b where b.kpi_id = w.kpi_id order by b.id desc limit $2
) a
order by a.kpi_id, a.id desc;

-- name: observed_in_windows
-- Each window's (n from 1) value of an observed KPI ($1 ids, $2 aggregations), every point of
-- [$3, $4) combined by the KPI's aggregation: a ratio's good (or bad) and total events.
select w.n, w.kpi_id,
       case w.aggregation
           when 'sum' then sum(o.value)
           when 'avg' then avg(o.value)
           when 'min' then min(o.value)
           when 'max' then max(o.value)
           when 'count' then count(o.value)::double precision
           when 'last' then (array_agg(o.value order by o.ts desc) filter (where o.value is not null))[1]
       end as value
from unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::timestamptz[])
     with ordinality as w (kpi_id, aggregation, start_at, end_at, n)
left join observation o on o.kpi_id = w.kpi_id and o.ts >= w.start_at and o.ts < w.end_at
group by w.n, w.kpi_id, w.aggregation
order by w.n;
