-- API tokens: only a SHA-256 of each token is stored.

-- name: insert_token
insert into api_token (name, token_hash, scopes) values ($1, $2, $3)
returning id, name, scopes, created_at, revoked_at;

-- name: token_by_hash
select id, name, scopes from api_token where token_hash = $1 and revoked_at is null;

-- name: list_tokens
select id, name, scopes, created_at, revoked_at from api_token order by id;

-- name: revoke_token
update api_token set revoked_at = coalesce(revoked_at, now()) where id = $1 returning id;
