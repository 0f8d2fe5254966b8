-- The notification outbox: rows queued with the change they report, claimed for delivery
-- with a lease, and every attempt kept.

-- name: enqueue
-- One row per escalation step: queuing the same step again inserts nothing.
insert into outbox (escalation_id, position, message_id, url, event_type, payload)
values ($1, $2, $3, $4, $5, $6)
on conflict (escalation_id, position) do nothing
returning id;

-- name: claim_due
-- Takes up to $3 due rows: counts the attempt and moves next_attempt_at to the end of the
-- lease ($2), committed before anything is sent, so no other worker takes them meanwhile and
-- a worker that dies mid-send leaves them due again once the lease ends. Rows another worker
-- is claiming are skipped, not waited for.
update outbox o
set attempts = o.attempts + 1, next_attempt_at = $2
from (
    select id from outbox
    where state = 'pending' and next_attempt_at <= $1
    order by next_attempt_at, id
    limit $3
    for update skip locked
) due
where o.id = due.id
returning o.id, o.message_id, o.url, o.payload, o.attempts;

-- name: insert_attempt
insert into outbox_attempt (outbox_id, at, status_code, error, duration_ms)
values ($1, $2, $3, $4, $5);

-- name: mark_delivered
update outbox set state = 'delivered', delivered_at = $2, last_error = null
where id = $1 and state = 'pending';

-- name: mark_undelivered
-- After a failed attempt: pending again at $3, or failed for good when $4. Only the latest
-- claim ($2 attempts) decides, should a lease have run out under a slow worker.
update outbox
set state = case when $4::boolean then 'failed' else 'pending' end,
    next_attempt_at = case when $4::boolean then next_attempt_at else $3 end,
    last_error = $5
where id = $1 and attempts = $2 and state = 'pending';

-- name: list_notifications
select id, escalation_id, position, message_id, url, event_type, payload, state, attempts,
       next_attempt_at, delivered_at, last_error, created_at
from outbox
where ($1::text is null or state = $1) and ($2::bigint is null or id < $2)
order by id desc
limit $3;

-- name: attempts_by_outbox
select outbox_id as key, id, at, status_code, error, duration_ms
from outbox_attempt where outbox_id = any($1::bigint[])
order by outbox_id, id;

-- name: insert_signing_key
insert into signing_key (name, secret) values ($1, $2) on conflict (name) do nothing;

-- name: signing_key
select secret from signing_key where name = $1;
