-- Business outcomes. Each statement is named; service/store/outcomes.py wraps it under the same name.

-- name: list_outcomes
select id, slug, name, description, owner from business_outcome
where ($1::text[] is null or slug = any($1)) order by slug;

-- name: page_outcomes
select id, slug, name, description, owner from business_outcome where id > $1 order by id limit $2;

-- name: outcomes_by_id
select id, slug, name, description, owner from business_outcome where id = any($1::bigint[]);

-- name: insert_outcome
insert into business_outcome (slug, name, description, owner) values ($1, $2, $3, $4) returning id;

-- name: update_outcome
update business_outcome set name = $2, description = $3, owner = $4, updated_at = now()
where slug = $1 returning id;

-- name: delete_outcome
delete from business_outcome where slug = $1 returning id;
