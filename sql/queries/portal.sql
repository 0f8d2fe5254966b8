-- Batched reads behind the GraphQL graph: one statement for many parents.

-- name: status_histories
-- The stored statuses of each pair (KPI $1, service $2; a null service: the KPI overall),
-- newest period first, at most $4 per pair, before $3 if given.
select p.n as key, s.cadence, s.period_start, s.period_end, s.value, s.target, s.warning,
       s.target_scope, s.status, s.previous_value, s.trend, s.evaluated_at, s.driver_service,
       s.driver_value, s.driver_target, s.driver_target_scope
from unnest($1::bigint[], $2::bigint[]) with ordinality as p (kpi_id, service_id, n)
cross join lateral (
    select cadence, period_start, period_end, value, target, warning, target_scope, status,
           previous_value, trend, evaluated_at, driver_service, driver_value, driver_target,
           driver_target_scope
    from kpi_status_read
    where kpi_id = p.kpi_id and service_id is not distinct from p.service_id
      and ($3::timestamptz is null or period_start < $3)
    order by period_start desc, cadence
    limit $4
) as s
order by p.n, s.period_start desc, s.cadence;

-- name: kpis_of_services
-- The KPIs that apply to each service $1 with their definitions (the columns of list_kpis in
-- kpis.sql), in creation order: the KPI level of a page of services, in one statement.
select ks.service_id as of_service, k.id, k.key, k.name, k.strategic_question, k.business_impact,
       k.unit, k.direction, k.aggregation, k.kind, k.builtin_metric as metric,
       n.key as numerator, d.key as denominator, k.cadence, k.business_owner,
       k.technology_owner, k.board_level, k.tags, nullif(k.filter, '{}') as filter,
       a.key as availability_kpi,
       coalesce((select jsonb_agg(jsonb_build_object(
                    'who', e.who, 'channel', e.channel, 'address', e.address,
                    'after_breached_periods', e.after_breached_periods,
                    'after_unacknowledged_minutes', e.after_unacknowledged_minutes)
                  order by e.position)
                 from escalation_step e where e.kpi_id = k.id), '[]') as escalation_path
from kpi_service ks
join kpi k on k.id = ks.kpi_id
left join kpi n on n.id = k.numerator_kpi_id
left join kpi d on d.id = k.denominator_kpi_id
left join kpi a on a.id = k.availability_kpi_id
where ks.service_id = any($1::bigint[])
order by ks.service_id, k.id;

-- name: outcomes_of_services
-- The outcomes each service $1 serves (through the KPIs that apply to it), in creation
-- order: the outcome level of a page of services, in one statement.
select distinct ks.service_id as of_service, o.id, o.slug, o.name, o.description, o.owner
from kpi_service ks
join kpi_outcome ko on ko.kpi_id = ks.kpi_id
join business_outcome o on o.id = ko.outcome_id
where ks.service_id = any($1::bigint[])
order by ks.service_id, o.id;
