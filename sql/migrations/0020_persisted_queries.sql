-- Automatic persisted queries (Apollo's protocol): a GraphQL document stored under its
-- SHA-256 after the first request that sends it in full, shared by every worker. Bounded:
-- the least recently used are removed past KPI_GRAPHQL_PERSISTED_QUERIES_MAX.
create table persisted_query (
    sha256   text primary key check (sha256 ~ '^[0-9a-f]{64}$'),
    query    text not null,
    used_at  timestamptz not null default now()
);
create index persisted_query_used_at on persisted_query (used_at);
