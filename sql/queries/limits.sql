-- Rate limits shared by every process: token buckets in rate_bucket, refilled at `rate` a
-- second up to `burst`, by the database's clock. Each statement is named; service/store/limits.py
-- wraps it under the same name.

-- name: token_by_hash_taking
-- The holder of an unrevoked token and, in the same round trip, `amount` requests taken from
-- its bucket: granted, or refused with the tokens left (the wait is (amount - tokens) / rate),
-- and the WAL position (bytes from 0/0) after the token's last write, if one was recorded.
-- $1 token hash, $2 rate a second, $3 burst, $4 amount (at most the burst).
with holder as (
    select k.id, k.name, k.scopes, t.slug as team, k.read_scope,
        pg_wal_lsn_diff(w.lsn, '0/0')::bigint as written_lsn
    from api_token k left join team t on t.id = k.team_id
        left join token_write_position w on w.token_id = k.id
    where k.token_hash = $1 and k.revoked_at is null
), taken as (
    insert into rate_bucket as b (kind, key, tokens, granted, at)
    select 'token', holder.id::text, $3::float8 - $4::float8, true, clock_timestamp()
    from holder
    on conflict (kind, key) do update set
        granted = least($3::float8, b.tokens
            + extract(epoch from clock_timestamp() - b.at)::float8 * $2::float8) >= $4::float8,
        tokens = least($3::float8, b.tokens
            + extract(epoch from clock_timestamp() - b.at)::float8 * $2::float8)
            - case when least($3::float8, b.tokens
                + extract(epoch from clock_timestamp() - b.at)::float8 * $2::float8)
                >= $4::float8 then $4::float8 else 0 end,
        at = clock_timestamp()
    returning tokens, granted
)
select holder.id, holder.name, holder.scopes, holder.team, holder.read_scope, taken.tokens,
    taken.granted, holder.written_lsn
from holder left join taken on true;

-- name: take
-- Take `amount` from one bucket ($1 kind, $2 key, $3 rate, $4 burst, $5 amount): whether it
-- was granted and the tokens left.
insert into rate_bucket as b (kind, key, tokens, granted, at)
values ($1, $2, $4::float8 - $5::float8, true, clock_timestamp())
on conflict (kind, key) do update set
    granted = least($4::float8, b.tokens
        + extract(epoch from clock_timestamp() - b.at)::float8 * $3::float8) >= $5::float8,
    tokens = least($4::float8, b.tokens
        + extract(epoch from clock_timestamp() - b.at)::float8 * $3::float8)
        - case when least($4::float8, b.tokens
            + extract(epoch from clock_timestamp() - b.at)::float8 * $3::float8)
            >= $5::float8 then $5::float8 else 0 end,
    at = clock_timestamp()
returning tokens, granted;

-- name: tokens_left
-- The tokens in one bucket now ($1 kind, $2 key, $3 rate, $4 burst), spending nothing; the
-- burst when it has none (never spent, or forgotten).
select coalesce((
    select least($4::float8, tokens + extract(epoch from clock_timestamp() - at)::float8 * $3::float8)
    from rate_bucket where kind = $1 and key = $2
), $4::float8);

-- name: forget_full_buckets
-- Buckets full again ($1 kind, $2 rate, $3 burst) say nothing a missing one would not.
delete from rate_bucket
where kind = $1
  and tokens + extract(epoch from clock_timestamp() - at)::float8 * $2::float8 >= $3::float8;
