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
