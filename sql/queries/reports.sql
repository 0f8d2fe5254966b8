-- Reads for leaders: governance gaps, outages under way, dependency closure.

-- name: governance_gaps
-- KPIs missing an owner, a cadence, a target (none ever set; builtin availability has the
-- tier defaults) or an escalation path.
select k.key,
       array_remove(array[
           case when k.business_owner is null then 'business_owner' end,
           case when k.technology_owner is null then 'technology_owner' end,
           case when k.cadence is null then 'cadence' end,
           case when not exists (select 1 from target t where t.kpi_id = k.id)
                     and k.builtin_metric is distinct from 'availability' then 'target' end,
           case when not exists (select 1 from escalation_step e where e.kpi_id = k.id)
                then 'escalation_path' end
       ], null) as missing
from kpi k
order by k.key;

-- name: outages_now
-- Services among $1 with an outage under way at $2: incidents at or above the threshold down
-- at that instant (`since`: the start of the stretch under way).
select i.service_id, min(i.severity) as worst, count(*) as incidents,
       min(lower(o.r)) as since
from incident i
join business_service s on s.id = i.service_id
cross join lateral unnest(incident_outage(i.outage, i.started_at, i.resolved_at)) as o (r)
where i.service_id = any($1::bigint[])
  and i.severity <= s.outage_threshold
  and i.started_at <= $2
  and (i.resolved_at is null or i.resolved_at > $2)
  and o.r @> $2::timestamptz
group by i.service_id;

-- name: dependency_closure
-- Every service the given ones depend on, directly or not, with the one it was reached from.
with recursive reach(root, id) as (
    select sd.service_id, sd.depends_on_id
    from service_dependency sd where sd.service_id = any($1::bigint[])
    union
    select r.root, sd.depends_on_id
    from reach r join service_dependency sd on sd.service_id = r.id
)
select root, id from reach where id <> root;

-- name: breached_latest
-- The latest stored status of each (KPI, service) among the given KPIs and services that is
-- breached.
select l.kpi_id, k.key, l.service_id, l.period_start
from (select distinct on (kpi_id, service_id) kpi_id, service_id, period_start, status
      from kpi_status
      where kpi_id = any($1::bigint[]) and service_id = any($2::bigint[])
      order by kpi_id, service_id, period_start desc) l
join kpi k on k.id = l.kpi_id
where l.status = 'breached';
