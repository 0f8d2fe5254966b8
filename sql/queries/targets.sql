-- KPI targets. Each statement is named; service/store/targets.py wraps it under the same name.

-- name: list_targets
select t.id, k.key as kpi, s.slug as service, t.tier, t.value, t.warning, t.effective_from,
       t.effective_to, t.kpi_id
from target t join kpi k on k.id = t.kpi_id left join business_service s on s.id = t.service_id
where ($1::text is null or k.key = $1) and ($2::bigint is null or t.id = $2)
order by k.key, t.service_id nulls first, t.tier nulls first, t.effective_from;

-- name: targets_by_kpi
select t.id, k.key as kpi, s.slug as service, t.tier, t.value, t.warning, t.effective_from,
       t.effective_to, t.kpi_id as key
from target t join kpi k on k.id = t.kpi_id left join business_service s on s.id = t.service_id
where t.kpi_id = any($1::bigint[])
order by t.service_id nulls first, t.tier nulls first, t.effective_from;

-- name: insert_target
insert into target (kpi_id, service_id, tier, value, warning, effective_from, effective_to)
values ($1, $2, $3, $4, $5, $6, $7) returning id;

-- name: update_target
update target set kpi_id = $2, service_id = $3, tier = $4, value = $5, warning = $6,
                  effective_from = $7, effective_to = $8
where id = $1 returning id;

-- name: delete_target
delete from target where id = $1 returning id;
