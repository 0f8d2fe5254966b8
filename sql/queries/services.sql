-- Business services and their dependencies. Each statement is named; service/store/services.py wraps it under the same name.

-- name: list_services
select s.id, s.slug, s.name, s.tier, t.slug as team, s.team_id, s.business_owner,
       s.technology_owner, s.revenue_per_hour::float8 as revenue_per_hour,
       s.user_count as users, s.outage_threshold, s.attributes, s.entity_ref,
       array(select d.slug from service_dependency sd
             join business_service d on d.id = sd.depends_on_id
             where sd.service_id = s.id order by d.slug) as depends_on
from business_service s left join team t on t.id = s.team_id
where ($1::text[] is null or s.slug = any($1))
  and ($2::smallint is null or s.tier = $2)
  and ($3::text is null or t.slug = $3)
  and ($4::bigint is null or s.id > $4)
  and ($6::text[] is null or s.entity_ref = any($6))
order by s.id
limit $5;

-- name: services_by_id
select s.id, s.slug, s.name, s.tier, t.slug as team, s.team_id, s.business_owner,
       s.technology_owner, s.revenue_per_hour::float8 as revenue_per_hour,
       s.user_count as users, s.outage_threshold, s.attributes, s.entity_ref,
       array(select d.slug from service_dependency sd
             join business_service d on d.id = sd.depends_on_id
             where sd.service_id = s.id order by d.slug) as depends_on
from business_service s left join team t on t.id = s.team_id
where s.id = any($1::bigint[]);

-- name: service_ids_by_slug
select slug, id from business_service where slug = any($1::text[]);

-- name: services_by_team
select team_id as key, id from business_service where team_id = any($1::bigint[]) order by slug;

-- name: insert_service
insert into business_service (slug, name, tier, team_id, business_owner, technology_owner,
                              revenue_per_hour, user_count, outage_threshold, attributes,
                              entity_ref)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning id;

-- name: update_service
update business_service
set name = $2, tier = $3, team_id = $4, business_owner = $5, technology_owner = $6,
    revenue_per_hour = $7, user_count = $8, outage_threshold = $9, attributes = $10,
    entity_ref = $11, updated_at = now()
where slug = $1 returning id;

-- name: lock_service_for_delete
select id from business_service where slug = $1 for update;

-- name: has_observations_for_service
-- Points, or day roll-ups of points retention has dropped (every point adds to its day).
select exists(select 1 from observation where service_id = $1)
       or exists(select 1 from observation_service_day where service_id = $1);

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
