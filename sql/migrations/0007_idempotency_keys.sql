-- Stored answers of requests sent with an Idempotency-Key, so a client's retry of a request
-- whose answer it never received gets that answer again instead of applying it twice.
-- Kept per token; purged by the background round after a day.

create table idempotent_request (
    token_id     bigint not null references api_token (id) on delete cascade,
    key          text not null,
    fingerprint  text not null,
    status       integer,
    media_type   text,
    body         bytea,
    created_at   timestamptz not null default now(),
    primary key (token_id, key)
);
create index idempotent_request_created_idx on idempotent_request (created_at);
