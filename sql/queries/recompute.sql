-- Reads and writes of `kpi recompute`: rebuilding what earlier versions stored.

-- name: alertmanager_incidents_to_split
-- Incidents of Alertmanager sources still named by the alert's fingerprint alone (earlier
-- versions kept every firing of an alert in one incident).
select i.id, i.source_id, i.external_id, i.service_id
from incident i join source s on s.id = i.source_id
where s.kind = 'alertmanager' and strpos(i.external_id, '@') = 0
order by i.id;

-- name: incident_ids
select id from incident order by id;

-- name: incidents_with_events
-- Incidents $1 with their source and whole timeline (events in insertion order).
select i.id, i.source_id, i.external_id, i.service_id,
       coalesce(array_agg(e.id order by e.id) filter (where e.id is not null), '{}') as event_ids,
       coalesce(array_agg(e.event_key order by e.id) filter (where e.id is not null), '{}')
           as event_keys,
       coalesce(array_agg(e.data order by e.id) filter (where e.id is not null), '{}') as events
from incident i
left join incident_event e on e.incident_id = i.id
where i.id = any($1::bigint[])
group by i.id
order by i.id;

-- name: change_ids
select id from change order by id;

-- name: changes_with_events
select c.id, c.source_id, c.external_id, c.service_id,
       coalesce(array_agg(e.data order by e.id) filter (where e.id is not null), '{}') as events
from change c
left join change_event e on e.change_id = c.id
where c.id = any($1::bigint[])
group by c.id
order by c.id;

-- name: upsert_incident_for_episode
insert into incident (source_id, external_id, status, service_id)
values ($1, $2, 'open', $3)
on conflict (source_id, external_id) do update set updated_at = now()
returning id;

-- name: move_incident_event
-- Event $1 to incident $2 under key $3; false when that incident has the key already (then
-- the event, a second copy of one fact, is deleted).
with moved as (
    update incident_event set incident_id = $2, event_key = $3
    where id = $1
      and not exists (select from incident_event
                      where incident_id = $2 and event_key = $3 and id <> $1)
    returning id
), dropped as (
    delete from incident_event
    where id = $1 and not exists (select from moved)
    returning id
)
select exists (select from moved);

-- name: delete_empty_incident
-- The incident $1, once its events have moved to the incidents of its episodes.
delete from incident i
where i.id = $1 and not exists (select from incident_event e where e.incident_id = i.id);

-- name: api_deliveries_with_commits
-- Deliveries of the generic API that sent changes with their commits (the delivery keeps
-- what was applied: {"changes": [...], "commits": [...]}).
select d.source_id, d.body
from delivery d join source s on s.id = d.source_id
where s.kind = 'api' and d.status = 'applied' and d.body is not null
  and strpos(convert_from(d.body, 'UTF8'), '"commits":[{') > 0
order by d.id;

-- name: change_id_of
select id from change where source_id = $1 and external_id = $2;

-- name: delete_unfinished_statuses
-- Statuses of periods that had not ended when they were stored (earlier versions stored
-- them): a status is stored only for a closed period.
delete from kpi_status where period_end > $1;

-- name: stored_periods
-- Every KPI, cadence and period with stored statuses: what recompute evaluates again.
select distinct kpi_id, cadence, period_start, period_end
from kpi_status
order by kpi_id, cadence, period_start;
