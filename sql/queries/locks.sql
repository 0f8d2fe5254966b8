-- Transaction-scoped advisory locks. Each statement is named; service/store/locks.py wraps it under the same name.

-- name: lock_name
-- Serialises writers of one name (a dependency graph, a slug being upserted) until commit.
select pg_advisory_xact_lock(hashtext($1));
