-- Catalog reads and writes. Each statement is named; service/store/catalog.py wraps it.

-- name: list_teams
select id, slug, name, email from team
where ($1::text[] is null or slug = any($1)) order by slug;

-- name: teams_by_id
select id, slug, name, email from team where id = any($1::bigint[]);

-- name: insert_team
insert into team (slug, name, email) values ($1, $2, $3) returning id;

-- name: update_team
update team set name = $2, email = $3, updated_at = now() where slug = $1 returning id;

-- name: delete_team
delete from team where slug = $1 returning id;

-- name: team_id_by_slug
select id from team where slug = $1;

-- name: list_services
select s.id, s.slug, s.name, s.tier, t.slug as team, s.team_id, s.business_owner,
       s.technology_owner, s.revenue_per_hour::float8 as revenue_per_hour,
       s.user_count as users, s.outage_threshold,
       array(select d.slug from service_dependency sd
             join business_service d on d.id = sd.depends_on_id
             where sd.service_id = s.id order by d.slug) as depends_on
from business_service s left join team t on t.id = s.team_id
where ($1::text[] is null or s.slug = any($1))
  and ($2::smallint is null or s.tier = $2)
  and ($3::text is null or t.slug = $3)
  and ($4::bigint is null or s.id > $4)
order by s.id
limit $5;

-- name: services_by_id
select s.id, s.slug, s.name, s.tier, t.slug as team, s.team_id, s.business_owner,
       s.technology_owner, s.revenue_per_hour::float8 as revenue_per_hour,
       s.user_count as users, s.outage_threshold,
       array(select d.slug from service_dependency sd
             join business_service d on d.id = sd.depends_on_id
             where sd.service_id = s.id order by d.slug) as depends_on
from business_service s left join team t on t.id = s.team_id
where s.id = any($1::bigint[]);

-- name: service_ids_by_slug
select slug, id from business_service where slug = any($1::text[]);

-- name: insert_service
insert into business_service (slug, name, tier, team_id, business_owner, technology_owner,
                              revenue_per_hour, user_count, outage_threshold)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id;

-- name: update_service
update business_service
set name = $2, tier = $3, team_id = $4, business_owner = $5, technology_owner = $6,
    revenue_per_hour = $7, user_count = $8, outage_threshold = $9, updated_at = now()
where slug = $1 returning id;

-- name: delete_service
delete from business_service where slug = $1 returning id;

-- name: delete_dependencies
delete from service_dependency where service_id = $1;

-- name: insert_dependencies
insert into service_dependency (service_id, depends_on_id)
select $1, unnest($2::bigint[]);

-- name: dependency_reaches
-- Whether `start` reaches `goal` by following depends_on edges (used to refuse cycles).
with recursive reach(id) as (
    select unnest($1::bigint[])
    union
    select sd.depends_on_id from service_dependency sd join reach r on sd.service_id = r.id
)
select exists(select 1 from reach where id = $2);

-- name: dependencies_by_service
select sd.service_id as key, sd.depends_on_id as id
from service_dependency sd where sd.service_id = any($1::bigint[]);

-- name: dependents_by_service
select sd.depends_on_id as key, sd.service_id as id
from service_dependency sd where sd.depends_on_id = any($1::bigint[]);

-- name: services_by_team
select team_id as key, id from business_service where team_id = any($1::bigint[]) order by slug;

-- name: list_outcomes
select id, slug, name, description, owner from business_outcome
where ($1::text[] is null or slug = any($1)) order by slug;

-- name: outcomes_by_id
select id, slug, name, description, owner from business_outcome where id = any($1::bigint[]);

-- name: insert_outcome
insert into business_outcome (slug, name, description, owner) values ($1, $2, $3, $4) returning id;

-- name: update_outcome
update business_outcome set name = $2, description = $3, owner = $4, updated_at = now()
where slug = $1 returning id;

-- name: delete_outcome
delete from business_outcome where slug = $1 returning id;

-- name: list_kpis
select k.id, k.key, k.name, k.strategic_question, k.business_impact, k.unit, k.direction,
       k.aggregation, k.kind, k.builtin_metric as metric, n.key as numerator,
       d.key as denominator, k.cadence, k.business_owner, k.technology_owner, k.board_level,
       k.tags, nullif(k.filter, '{}') as filter, a.key as availability_kpi,
       coalesce((select jsonb_agg(jsonb_build_object(
                    'who', e.who, 'channel', e.channel, 'address', e.address,
                    'after_breached_periods', e.after_breached_periods,
                    'after_unacknowledged_minutes', e.after_unacknowledged_minutes)
                  order by e.position)
                 from escalation_step e where e.kpi_id = k.id), '[]') as escalation_path
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
select key, id, kind, numerator_kpi_id, denominator_kpi_id, direction from kpi
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

-- name: delete_kpi
delete from kpi where key = $1 returning id;

-- name: builtin_metric_of_kpi
select builtin_metric from kpi where id = $1;

-- name: kpi_used_for_error_budget
-- The error budget KPIs whose objectives are the targets of KPI $1.
select key from kpi where availability_kpi_id = $1 order by key;

-- name: kpi_used_by_ratio
select key from kpi where numerator_kpi_id = $1 or denominator_kpi_id = $1 order by key limit 1;

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

-- name: escalation_by_kpi
select kpi_id as key, who, channel, address, after_breached_periods, after_unacknowledged_minutes
from escalation_step where kpi_id = any($1::bigint[]) order by kpi_id, position;

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

-- name: upsert_kpi_outcome
insert into kpi_outcome (kpi_id, outcome_id, weight, rationale) values ($1, $2, $3, $4)
on conflict (kpi_id, outcome_id) do update set weight = excluded.weight,
                                               rationale = excluded.rationale;

-- name: delete_kpi_outcome
delete from kpi_outcome where kpi_id = $1 and outcome_id = $2 returning kpi_id;

-- name: list_kpi_outcomes
select k.key as kpi, o.slug as outcome, ko.weight, ko.rationale
from kpi_outcome ko join kpi k on k.id = ko.kpi_id join business_outcome o on o.id = ko.outcome_id
where ($1::text is null or k.key = $1) and ($2::text is null or o.slug = $2)
order by k.key, o.slug;

-- name: outcome_links_by_kpi
select ko.kpi_id as key, ko.outcome_id as id, ko.weight, ko.rationale
from kpi_outcome ko where ko.kpi_id = any($1::bigint[]);

-- name: kpi_links_by_outcome
select ko.outcome_id as key, ko.kpi_id as id, ko.weight, ko.rationale
from kpi_outcome ko where ko.outcome_id = any($1::bigint[]);

-- name: insert_kpi_service
insert into kpi_service (kpi_id, service_id) values ($1, $2) on conflict do nothing;

-- name: delete_kpi_service
delete from kpi_service where kpi_id = $1 and service_id = $2 returning kpi_id;

-- name: list_kpi_services
select k.key as kpi, s.slug as service
from kpi_service ks join kpi k on k.id = ks.kpi_id join business_service s on s.id = ks.service_id
where ($1::text is null or k.key = $1) order by k.key, s.slug;

-- name: services_by_kpi
select kpi_id as key, service_id as id from kpi_service where kpi_id = any($1::bigint[]);

-- name: kpis_by_service
select service_id as key, kpi_id as id from kpi_service where service_id = any($1::bigint[]);

-- name: outcomes_by_service
-- Outcomes a service serves: through the KPIs that apply to it.
select distinct ks.service_id as key, ko.outcome_id as id
from kpi_service ks join kpi_outcome ko on ko.kpi_id = ks.kpi_id
where ks.service_id = any($1::bigint[]);

-- name: services_by_outcome
select distinct ko.outcome_id as key, ks.service_id as id
from kpi_outcome ko join kpi_service ks on ks.kpi_id = ko.kpi_id
where ko.outcome_id = any($1::bigint[]);

-- name: has_observations_for_kpi
select exists(select 1 from observation where kpi_id = $1);

-- name: has_observations_for_service
select exists(select 1 from observation where service_id = $1);

-- name: lock_service_for_delete
select id from business_service where slug = $1 for update;

-- name: lock_kpi_for_delete
select id from kpi where key = $1 for update;

-- name: lock_name
-- Serialises writers of one name (a dependency graph, a slug being upserted) until commit.
select pg_advisory_xact_lock(hashtext($1));

-- name: page_teams
select id, slug, name, email from team where id > $1 order by id limit $2;

-- name: page_outcomes
select id, slug, name, description, owner from business_outcome where id > $1 order by id limit $2;
