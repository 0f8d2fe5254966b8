-- Service ownership history (migration 0030). Each statement is named;
-- service/store/ownership.py wraps it under the same name.

-- name: current_owner
-- The open ownership row of service $1 (its team and since when), if it has a team.
select team_id, valid_from from service_ownership where service_id = $1 and valid_to is null;

-- name: close_owner
-- The current owner of service $1 stops owning it at $2.
update service_ownership set valid_to = $2 where service_id = $1 and valid_to is null;

-- name: open_owner
-- Team $2 owns service $1 from $3 on.
insert into service_ownership (service_id, team_id, valid_from) values ($1, $2, $3);

-- name: ownership_segments
-- For each team among $1, the stretches of [$2, $3) in which it or a team below it owned a
-- service: (root, service_id, seg_start, seg_end, tier, users), by root, service and start.
with recursive tree (root, id) as (
    select t.id, t.id from team t where t.id = any($1::bigint[])
    union
    select tree.root, c.id from team c join tree on c.parent_id = tree.id
)
select tree.root, o.service_id, greatest(o.valid_from, $2) as seg_start,
       least(coalesce(o.valid_to, $3), $3) as seg_end, s.tier, s.user_count as users
from tree
join service_ownership o on o.team_id = tree.id
join business_service s on s.id = o.service_id
where o.valid_from < $3 and (o.valid_to is null or o.valid_to > $2)
order by tree.root, o.service_id, seg_start;

-- name: ownership_history
-- Every ownership row of the services $1, oldest first: (key: the service, team, valid_from,
-- valid_to).
select o.service_id as key, t.slug as team, o.valid_from, o.valid_to
from service_ownership o join team t on t.id = o.team_id
where o.service_id = any($1::bigint[])
order by o.service_id, o.valid_from;
