-- Teams. Each statement is named; service/store/teams.py wraps it under the same name.

-- name: list_teams
-- Every team, or those of the slugs $1 or of the entity references $2.
select t.id, t.slug, t.name, t.email, t.entity_ref, p.slug as parent, t.parent_id
from team t left join team p on p.id = t.parent_id
where ($1::text[] is null or t.slug = any($1))
  and ($2::text[] is null or t.entity_ref = any($2))
order by t.slug;

-- name: page_teams
select t.id, t.slug, t.name, t.email, t.entity_ref, p.slug as parent, t.parent_id
from team t left join team p on p.id = t.parent_id
where t.id > $1 order by t.id limit $2;

-- name: teams_by_id
select t.id, t.slug, t.name, t.email, t.entity_ref, p.slug as parent, t.parent_id
from team t left join team p on p.id = t.parent_id
where t.id = any($1::bigint[]);

-- name: team_id_by_slug
select id from team where slug = $1;

-- name: insert_team
insert into team (slug, name, email, entity_ref, parent_id) values ($1, $2, $3, $4, $5)
returning id;

-- name: update_team
update team set name = $2, email = $3, entity_ref = $4, parent_id = $5, updated_at = now()
where slug = $1 returning id;

-- name: delete_team
delete from team where slug = $1 returning id;

-- name: children_by_team
-- The direct sub-teams of each team among $1, by slug.
select parent_id as key, id from team where parent_id = any($1::bigint[]) order by slug;

-- name: kpis_of_teams
-- For each team among $1, the KPIs that apply to a service it or a team below it owns now:
-- (key: the team, id: the KPI), by KPI key.
with recursive tree (root, id) as (
    select t.id, t.id from team t where t.id = any($1::bigint[])
    union
    select tree.root, c.id from team c join tree on c.parent_id = tree.id
)
select distinct tree.root as key, k.id, k.key as kpi_key
from tree
join business_service s on s.team_id = tree.id
join kpi_service ks on ks.service_id = s.id
join kpi k on k.id = ks.kpi_id
order by tree.root, k.key;
