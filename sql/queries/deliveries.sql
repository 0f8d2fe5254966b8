-- The delivery log: every webhook delivery and generic-API request, raw, with its outcome.

-- name: claim_delivery
-- Claims the delivery key ($2), the signed key ($8) and the body's digest ($9), those not null;
-- a delivery sharing any of them with one logged before inserts nothing (every unique index
-- of delivery is a conflict: sql/migrations/0017_delivery_signed_keys.sql). One claimed as
-- applied is stamped applied now (the transaction's time), as set_outcome would.
insert into delivery (source_id, delivery_key, event_type, headers, body, status, detail,
                      applied_at, signed_key, body_sha256)
values ($1, $2, $3, $4, $5, $6, $7, case when $6::text = 'applied' then now() end, $8, $9)
on conflict do nothing
returning id;

-- name: claim_applied_delivery
-- claim_delivery (as applied; signed key $7, digest $8), and the ids of the business services
-- named in $6, in one round trip: id is null for a duplicate.
with claimed as (
    insert into delivery (source_id, delivery_key, event_type, headers, body, status,
                          applied_at, signed_key, body_sha256)
    values ($1, $2, $3, $4, $5, 'applied', now(), $7, $8)
    on conflict do nothing
    returning id
)
select (select id from claimed) as id,
       array(select slug from business_service where slug = any($6::text[]) order by slug)
           as slugs,
       array(select id from business_service where slug = any($6::text[]) order by slug)
           as service_ids;

-- name: delivery_by_key
select id, status, detail, headers from delivery
where source_id = $1 and delivery_key = $2 and status <> 'rejected';

-- name: delivery_claiming
-- The delivery logged first that holds the delivery key $2, the signed key $3 or the body's
-- digest $4 (nulls hold nothing), and whether it holds the delivery key.
select id, status, coalesce(delivery_key = $2, false) as same_key
from delivery
where source_id = $1 and status <> 'rejected'
  and (delivery_key = $2 or signed_key = $3 or body_sha256 = $4)
order by id
limit 1;

-- name: set_outcome
update delivery
set status = $2, detail = $3, applied_at = case when $2 = 'applied' then now() end,
    attempts = attempts + $4
where id = $1;

-- name: list_deliveries
select d.id, s.name as source, d.delivery_key, d.event_type, d.received_at, d.status, d.detail,
       d.applied_at, d.attempts, octet_length(d.body) as body_bytes
from delivery d join source s on s.id = d.source_id
where ($1::text is null or d.status = $1) and ($2::text is null or s.name = $2)
  and ($3::bigint is null or d.id < $3)
order by d.id desc
limit $4;

-- name: delivery_for_replay
select d.id, s.name as source, d.headers, d.body, d.status, d.received_at
from delivery d join source s on s.id = d.source_id
where d.id = $1
for update of d;

-- name: unmapped_delivery_ids
select d.id from delivery d join source s on s.id = d.source_id
where d.status = 'unmapped' and ($1::text is null or s.name = $1)
order by d.id;

-- name: delivery_body
select d.id, s.name as source, d.delivery_key, d.event_type, d.received_at, d.status, d.detail,
       d.applied_at, d.attempts, octet_length(d.body) as body_bytes, d.headers, d.body
from delivery d join source s on s.id = d.source_id where d.id = $1;

-- name: discard_delivery
-- An unmapped delivery discarded: status 'discarded', payload cleared, keys kept; the id,
-- or nothing when it is not unmapped.
update delivery set status = 'discarded', body = null, headers = '{}', detail = $2,
                    applied_at = null
where id = $1 and status = 'unmapped'
returning id;
