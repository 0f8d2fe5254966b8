-- Read replicas: WAL positions measured on the primary and on each replica, and the position
-- after each token's last write. Positions are bytes from 0/0 (pg_wal_lsn_diff), so Python
-- compares plain integers. Each statement is named; service/store/replicas.py wraps it under
-- the same name.

-- name: record_token_write
-- On the primary, after a token's write committed ($1 token id): the WAL insert position now
-- is past the write's commit record. Never moves back.
insert into token_write_position as p (token_id, lsn)
values ($1, pg_current_wal_insert_lsn())
on conflict (token_id) do update set lsn = greatest(p.lsn, excluded.lsn);

-- name: primary_wal_position
-- The primary's current WAL position.
select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint;

-- name: replay_position
-- On a replica: whether it is one (in recovery) and the WAL position it has replayed up to.
select pg_is_in_recovery() as in_recovery,
    pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint as replayed;
