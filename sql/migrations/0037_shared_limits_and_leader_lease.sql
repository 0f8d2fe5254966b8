-- Limits and the background leader shared by every process, on every host: the token buckets
-- of the rate limits (per API token, per webhook client address, per webhook source) and the
-- lease of the evaluating leader. Both are plain rows, so they hold behind a transaction-mode
-- connection pooler, where session-level advisory locks and per-process memory do not.
--
-- Unlogged: a bucket is rewritten on every request, and losing the buckets with a crash (all
-- full again) costs nothing worth a WAL record per request.
create unlogged table rate_bucket (
    kind text not null check (kind in ('token', 'client', 'source')),
    key text not null,
    tokens double precision not null,
    granted boolean not null,
    at timestamptz not null,
    primary key (kind, key)
);

-- The evaluating leader: whoever holds an unexpired lease. The holder renews it every round;
-- once it has expired (the holder died or hangs), the next process to try takes it over.
create table leader_lease (
    name text primary key,
    holder text not null,
    expires_at timestamptz not null
);
