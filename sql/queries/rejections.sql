-- Webhook deliveries refused for not proving their source: a count per source and reason,
-- and a ring of the last samples of each (sql/migrations/0013_webhook_rejections.sql).

-- name: record_webhook_rejection
-- Counts one rejection and writes it over the oldest slot of the ring: the n-th rejection of a
-- source and reason goes to slot (n - 1) mod $5, so the ring holds the last $5 of them (none
-- when $5 is 0). Returns the count.
with counted as (
    insert into webhook_rejection as r (source_id, reason, count, first_at, last_at)
    values ($1, $2, 1, now(), now())
    on conflict (source_id, reason) do update set count = r.count + 1, last_at = now()
    returning r.count
), sampled as (
    insert into webhook_rejection_sample as s (source_id, reason, slot, received_at, client,
                                               headers)
    select $1, $2, ((count - 1) % $5)::integer, now(), $3, $4
    from counted
    where $5 > 0
    on conflict (source_id, reason, slot) do update
    set received_at = excluded.received_at, client = excluded.client, headers = excluded.headers
)
select count from counted;

-- name: list_webhook_rejections
-- Every source's counts by reason, each with its samples, newest first (at most $2 of them:
-- a ring made larger before keeps its older slots until they are overwritten).
select s.name as source, s.kind, r.reason, r.count, r.first_at, r.last_at,
       coalesce(
           (select jsonb_agg(jsonb_build_object('received_at', x.received_at,
                                                'client', x.client, 'headers', x.headers)
                             order by x.received_at desc)
            from (select * from webhook_rejection_sample x
                  where x.source_id = r.source_id and x.reason = r.reason
                  order by x.received_at desc, x.slot desc
                  limit $2) x),
           '[]') as samples
from webhook_rejection r join source s on s.id = r.source_id
where ($1::text is null or s.name = $1)
order by s.name, r.reason;

-- name: webhook_rejection_counts
-- The counts alone, for /metrics.
select s.name as source, s.kind, r.reason, r.count
from webhook_rejection r join source s on s.id = r.source_id
order by s.name, r.reason;
