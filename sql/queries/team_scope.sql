-- What a team-scoped token or source may touch: the services whose current owner is the team
-- or any team under it, and the teams of that tree.

-- name: team_tree_services
-- The services (slug, id) of team $1 (a slug) and of every team under it.
with recursive tree(id) as (
    select id from team where slug = $1
    union
    select t.id from team t join tree on t.parent_id = tree.id
)
select s.slug, s.id from business_service s join tree on s.team_id = tree.id order by s.slug;

-- name: team_tree_slugs
-- The slugs of team $1 and of every team under it.
with recursive tree(id) as (
    select id from team where slug = $1
    union
    select t.id from team t join tree on t.parent_id = tree.id
)
select t.slug from team t join tree on t.id = tree.id order by t.slug;

-- name: service_slug_by_id
select slug from business_service where id = $1;
