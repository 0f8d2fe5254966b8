-- Escalations that breaches open, advance and close, and their events.

-- name: lock_open_escalation
select id, kpi_id, service_id, state, opened_at, last_period, breached_periods, steps_fired
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
