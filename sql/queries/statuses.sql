-- KPI statuses per period, the services each KPI is evaluated for, and the leader that
-- evaluates them.

-- name: kpi_scopes
-- The services each KPI applies to, with their tier (a KPI is also evaluated overall).
select ks.kpi_id as key, s.id, s.slug, s.tier
from kpi_service ks join business_service s on s.id = ks.service_id
where ks.kpi_id = any($1::bigint[])
order by s.slug;

-- name: insert_status
-- Stores an evaluation made at $14; $13 = true replaces a stored one (on demand), else the
-- first stays. $15-$18: the driving service of a rolled-up status, its value, target and
-- the target's scope.
insert into kpi_status as k (kpi_id, service_id, cadence, period_start, period_end, value, target,
                             warning, target_scope, status, previous_value, trend, evaluated_at,
                             driver_service_id, driver_value, driver_target,
                             driver_target_scope)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $14, $15, $16, $17, $18)
on conflict on constraint kpi_status_uq do update
    set period_end = excluded.period_end, value = excluded.value, target = excluded.target,
        warning = excluded.warning, target_scope = excluded.target_scope,
        status = excluded.status, previous_value = excluded.previous_value,
        trend = excluded.trend, evaluated_at = excluded.evaluated_at,
        driver_service_id = excluded.driver_service_id, driver_value = excluded.driver_value,
        driver_target = excluded.driver_target,
        driver_target_scope = excluded.driver_target_scope
    where $13
returning evaluated_at;

-- name: stored_overall_statuses
-- The stored overall status of each KPI ($1) for one period each (cadence $2, start $3).
select s.kpi_id, s.service_id, s.cadence, s.period_start, s.period_end, s.value, s.target,
       s.warning, s.target_scope, s.status, s.previous_value, s.trend, s.evaluated_at,
       s.driver_service, s.driver_value, s.driver_target, s.driver_target_scope
from unnest($1::bigint[], $2::text[], $3::timestamptz[]) as w (kpi_id, cadence, period_start)
join kpi_status_read s on s.kpi_id = w.kpi_id and s.service_id is null
                      and s.cadence = w.cadence and s.period_start = w.period_start;

-- name: stored_service_statuses
-- The stored status of each (KPI $1, service $2) for one period each (cadence $3, start $4).
select s.kpi_id, s.service_id, s.cadence, s.period_start, s.period_end, s.value, s.target,
       s.warning, s.target_scope, s.status, s.previous_value, s.trend, s.evaluated_at,
       s.driver_service, s.driver_value, s.driver_target, s.driver_target_scope
from unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[])
     as w (kpi_id, service_id, cadence, period_start)
join kpi_status_read s on s.kpi_id = w.kpi_id and s.service_id = w.service_id
                      and s.cadence = w.cadence and s.period_start = w.period_start;

-- name: status_history
select kpi_id, service_id, cadence, period_start, period_end, value, target, warning,
       target_scope, status, previous_value, trend, evaluated_at, driver_service, driver_value,
       driver_target, driver_target_scope
from kpi_status_read
where kpi_id = $1 and service_id is not distinct from $2
  and ($3::timestamptz is null or period_start < $3)
order by period_start desc
limit $4;

-- name: has_status
select exists(select 1 from kpi_status
              where kpi_id = $1 and service_id is null and cadence = $2 and period_start = $3);

-- name: kpis_with_cadence
select id from kpi where cadence is not null order by id;

-- name: status_of_period
select kpi_id, service_id, cadence, period_start, period_end, value, target, warning,
       target_scope, status, previous_value, trend, evaluated_at, driver_service, driver_value,
       driver_target, driver_target_scope
from kpi_status_read
where kpi_id = $1 and service_id is not distinct from $2 and period_start = $3
order by evaluated_at desc
limit 1;

