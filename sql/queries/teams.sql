-- Teams. Each statement is named; service/store/teams.py wraps it under the same name.

-- name: list_teams
-- Every team, or those of the slugs $1 or of the entity references $2.
select id, slug, name, email, entity_ref from team
where ($1::text[] is null or slug = any($1))
  and ($2::text[] is null or entity_ref = any($2))
order by slug;

-- name: page_teams
select id, slug, name, email, entity_ref from team where id > $1 order by id limit $2;

-- name: teams_by_id
select id, slug, name, email, entity_ref from team where id = any($1::bigint[]);

-- name: team_id_by_slug
select id from team where slug = $1;

-- name: insert_team
insert into team (slug, name, email, entity_ref) values ($1, $2, $3, $4) returning id;

-- name: update_team
update team set name = $2, email = $3, entity_ref = $4, updated_at = now()
where slug = $1 returning id;

-- name: delete_team
delete from team where slug = $1 returning id;
