-- The audit trail (sql/migrations/0032_audit_trail.sql): appended to, never changed.

-- name: insert_audit_entry
insert into audit_entry (actor_token_id, actor_name, via, entity_kind, entity_key, action,
                         before, after, file_name, file_sha256)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
returning id;

-- name: list_audit_entries
-- Newest first, below the id $8 (the page's cursor), each filter applied when given: entity
-- kind $1 and key $2, actor name $3 and token id $4, at or after $5 and before $6.
select id, at, actor_token_id, actor_name, via, entity_kind, entity_key, action, before,
       after, file_name, file_sha256
from audit_entry
where ($1::text is null or entity_kind = $1)
  and ($2::text is null or entity_key = $2)
  and ($3::text is null or actor_name = $3)
  and ($4::bigint is null or actor_token_id = $4)
  and ($5::timestamptz is null or at >= $5)
  and ($6::timestamptz is null or at < $6)
  and ($8::bigint is null or id < $8)
order by id desc
limit $7;
