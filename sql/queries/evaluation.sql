-- KPI statuses per period, the leader that evaluates them, and the escalations breaches open.

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

-- name: stored_status
select kpi_id, service_id, cadence, period_start, period_end, value, target, warning,
       target_scope, status, previous_value, trend, evaluated_at, driver_service, driver_value,
       driver_target, driver_target_scope
from kpi_status_read
where kpi_id = $1 and service_id is not distinct from $2 and cadence = $3 and period_start = $4;

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

-- name: try_leader_lock
-- The evaluating leader's lock, one per schema (deployments sharing a database stay apart).
select pg_try_advisory_lock(hashtext(current_schema()), hashtext('kpi-evaluation'));

-- name: leader_unlock
select pg_advisory_unlock(hashtext(current_schema()), hashtext('kpi-evaluation'));

-- name: lock_open_escalation
select id, state, opened_at, last_period, breached_periods, steps_fired
from escalation
where kpi_id = $1 and coalesce(service_id, 0) = coalesce($2::bigint, 0) and state <> 'resolved'
for update;

-- name: open_escalation
insert into escalation (kpi_id, service_id, opened_at, opened_period, last_period)
values ($1, $2, $3, $4, $4)
on conflict (kpi_id, coalesce(service_id, 0)) where state <> 'resolved' do nothing
returning id;

-- name: breached_again
update escalation set breached_periods = breached_periods + 1, last_period = $2
where id = $1;

-- name: record_event
insert into escalation_event (escalation_id, kind, position, at, detail)
values ($1, $2, $3, $4, $5)
on conflict (escalation_id, kind, position) do nothing
returning id;

-- name: set_steps_fired
update escalation set steps_fired = greatest(steps_fired, $2) where id = $1;

-- name: recover
-- Closes an escalation; its last period becomes the period that recovered ($3).
update escalation set state = 'resolved', resolved_at = $2, resolved_by = 'recovery',
                      resolution = 'recovered', last_period = $3
where id = $1;

-- name: last_resolved_period
-- The latest period a resolved escalation of (KPI, service) covered: its recovery, or its last
-- breach when resolved by hand. Breaches up to it are settled.
select max(last_period) from escalation
where kpi_id = $1 and coalesce(service_id, 0) = coalesce($2::bigint, 0) and state = 'resolved';

-- name: waiting_escalations
-- Open, unacknowledged escalations that still have steps to fire (time-based steps).
select e.id, e.kpi_id, e.service_id, e.state, e.opened_at, e.last_period, e.breached_periods,
       e.steps_fired
from escalation e
where e.state = 'open'
  and e.steps_fired < (select count(*) from escalation_step s where s.kpi_id = e.kpi_id)
order by e.id
for update of e skip locked;

-- name: list_escalations
select e.id, k.key as kpi, s.slug as service, e.state, e.opened_at, e.opened_period,
       e.last_period, e.breached_periods, e.steps_fired, e.acknowledged_at, e.acknowledged_by,
       e.resolved_at, e.resolved_by, e.resolution
from escalation e join kpi k on k.id = e.kpi_id
left join business_service s on s.id = e.service_id
where ($1::text is null or e.state = $1)
  and ($2::text is null or k.key = $2)
  and ($3::bigint is null or e.id = $3)
  and ($5::bigint is null or e.id < $5)
order by e.id desc
limit $4;

-- name: escalation_events
select escalation_id as key, kind, position, at, detail
from escalation_event where escalation_id = any($1::bigint[]) order by escalation_id, id;

-- name: acknowledge
update escalation set state = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3
where id = $1 and state = 'open'
returning id;

-- name: resolve
update escalation set state = 'resolved', resolved_at = $2, resolved_by = $3,
                      resolution = 'manual'
where id = $1 and state <> 'resolved'
returning id;

-- name: escalation_state
select state from escalation where id = $1;
