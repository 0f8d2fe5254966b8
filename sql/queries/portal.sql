-- Batched reads behind the GraphQL graph: one statement for many parents.

-- name: status_histories
-- The stored statuses of each KPI for one scope (a service, or overall when $2 is null),
-- newest period first, at most $4 per KPI, before $3 if given.
select s.kpi_id as key, s.cadence, s.period_start, s.period_end, s.value, s.target, s.warning,
       s.target_scope, s.status, s.previous_value, s.trend, s.evaluated_at
from unnest($1::bigint[]) as k (id)
cross join lateral (
    select kpi_id, cadence, period_start, period_end, value, target, warning, target_scope,
           status, previous_value, trend, evaluated_at
    from kpi_status
    where kpi_id = k.id and service_id is not distinct from $2
      and ($3::timestamptz is null or period_start < $3)
    order by period_start desc, cadence
    limit $4
) as s
order by s.kpi_id, s.period_start desc, s.cadence;
