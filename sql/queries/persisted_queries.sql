-- Automatic persisted queries: GraphQL documents by their SHA-256 (hex).

-- name: persisted_query
-- The document, marking it used when it was last marked more than an hour ago (so a hot
-- document costs no write per request, and eviction still sees it as recent).
with touched as (
    update persisted_query set used_at = now()
    where sha256 = $1 and used_at < now() - interval '1 hour'
)
select query from persisted_query where sha256 = $1;

-- name: persist_query
insert into persisted_query (sha256, query) values ($1, $2)
on conflict (sha256) do update set used_at = now();

-- name: evict_persisted_queries
-- Past the bound ($1 documents), the least recently used go.
delete from persisted_query
where sha256 in (select sha256 from persisted_query order by used_at desc, sha256 offset $1);
