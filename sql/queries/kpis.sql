-- KPI definitions and their escalation paths. Each statement is named; service/store/kpis.py wraps it under the same name.

-- name: list_kpis
select k.id, k.key, k.name, k.strategic_question, k.business_impact, k.unit, k.direction,
       k.aggregation, k.kind, k.builtin_metric as metric, n.key as numerator,
       d.key as denominator, k.cadence, k.business_owner, k.technology_owner, k.board_level,
       k.tags, nullif(k.filter, '{}') as filter, a.key as availability_kpi, k.time_zone,
       coalesce((select jsonb_agg(jsonb_build_object(
                    'who', e.who, 'channel', e.channel, 'address', e.address,
                    'after_breached_periods', e.after_breached_periods,
                    'after_unacknowledged_minutes', e.after_unacknowledged_minutes)
                  order by e.position)
                 from escalation_step e where e.kpi_id = k.id), '[]') as escalation_path,
       (select jsonb_build_object('data_source', ds.name, 'good_query', s.good_query,
                                  'total_query', s.total_query, 'bucket', s.bucket,
                                  'service', bs.slug)
        from kpi_sli s join data_source ds on ds.id = s.data_source_id
        left join business_service bs on bs.id = s.service_id
        where s.kpi_id = k.id) as prometheus
from kpi k
left join kpi n on n.id = k.numerator_kpi_id
left join kpi d on d.id = k.denominator_kpi_id
left join kpi a on a.id = k.availability_kpi_id
where ($1::text[] is null or k.key = any($1))
  and ($2::bigint[] is null or k.id = any($2))
  and ($3::bigint is null or k.id > $3)
  and ($4::boolean is null or k.board_level = $4)
order by k.id
limit $5;

-- name: kpi_ids_by_key
select key, id, direction from kpi
where key = any($1::text[]);

-- name: ratio_reaches
-- Whether following numerator/denominator edges from `start` reaches `goal` (ratio cycles).
with recursive reach(id) as (
    select unnest($1::bigint[])
    union
    select unnest(array[k.numerator_kpi_id, k.denominator_kpi_id])
    from kpi k join reach r on k.id = r.id
    where k.kind = 'ratio'
)
select exists(select 1 from reach where id = $2);

-- name: builtin_metric_of_kpi
select builtin_metric from kpi where id = $1;

-- name: kpi_used_for_error_budget
-- The error budget KPIs whose objectives are the targets of KPI $1.
select key from kpi where availability_kpi_id = $1 order by key;

-- name: kpi_used_by_ratio
select key from kpi where numerator_kpi_id = $1 or denominator_kpi_id = $1 order by key limit 1;

-- name: has_observations_for_kpi
-- Points, or day roll-ups of points retention has dropped (every point adds to its day).
select exists(select 1 from observation where kpi_id = $1)
       or exists(select 1 from observation_day where kpi_id = $1);

-- name: insert_kpi
insert into kpi (key, name, strategic_question, business_impact, unit, direction, aggregation,
                 kind, builtin_metric, numerator_kpi_id, denominator_kpi_id, cadence,
                 business_owner, technology_owner, board_level, tags, filter,
                 availability_kpi_id)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
        coalesce($17::jsonb, '{}'), $18) returning id;

-- name: update_kpi
update kpi
set name = $2, strategic_question = $3, business_impact = $4, unit = $5, direction = $6,
    aggregation = $7, kind = $8, builtin_metric = $9, numerator_kpi_id = $10,
    denominator_kpi_id = $11, cadence = $12, business_owner = $13, technology_owner = $14,
    board_level = $15, tags = $16, filter = coalesce($17::jsonb, '{}'), availability_kpi_id = $18,
    updated_at = now()
where key = $1 returning id;

-- name: lock_kpi_for_delete
select id from kpi where key = $1 for update;

-- name: delete_kpi
delete from kpi where key = $1 returning id;

-- name: delete_escalation_path
delete from escalation_step where kpi_id = $1;

-- name: insert_escalation_path
insert into escalation_step (kpi_id, position, who, channel, address, after_breached_periods,
                             after_unacknowledged_minutes)
select $1, s.position, s.who, s.channel, s.address, s.after_breached_periods,
       s.after_unacknowledged_minutes
from jsonb_to_recordset($2::jsonb) as s(position smallint, who text, channel text, address text,
                                        after_breached_periods integer,
                                        after_unacknowledged_minutes integer);
