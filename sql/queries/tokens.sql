-- API tokens: only a SHA-256 of each token is stored.

-- name: insert_token
-- $4: the slug of the team the token is limited to (null: none; an unknown slug inserts nothing).
with limited as (select id from team where slug = $4)
insert into api_token (name, token_hash, scopes, team_id, read_scope)
select $1, $2, $3, (select id from limited), $5
where $4::text is null or exists (select 1 from limited)
returning id, name, scopes, $4::text as team, read_scope, created_at, revoked_at;

-- name: token_by_hash
-- The holder of an unrevoked token and the WAL position (bytes from 0/0) after its last
-- write, if one was recorded (read replicas).
select k.id, k.name, k.scopes, t.slug as team, k.read_scope,
    pg_wal_lsn_diff(w.lsn, '0/0')::bigint as written_lsn
from api_token k left join team t on t.id = k.team_id
    left join token_write_position w on w.token_id = k.id
where k.token_hash = $1 and k.revoked_at is null;

-- name: list_tokens
select k.id, k.name, k.scopes, t.slug as team, k.read_scope, k.created_at, k.revoked_at
from api_token k left join team t on t.id = k.team_id order by k.id;

-- name: revoke_token
update api_token set revoked_at = coalesce(revoked_at, now()) where id = $1 returning id;
