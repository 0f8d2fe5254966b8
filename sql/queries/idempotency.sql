-- Idempotency keys: the first request with a key claims it in its own transaction, and its
-- answer is stored before commit; a retry waits on the claim, then finds the answer.

-- name: claim
insert into idempotent_request (token_id, key, fingerprint) values ($1, $2, $3)
on conflict (token_id, key) do nothing
returning true;

-- name: stored_answer
select fingerprint, status, media_type, body
from idempotent_request where token_id = $1 and key = $2;

-- name: store_answer
update idempotent_request set status = $3, media_type = $4, body = $5
where token_id = $1 and key = $2;

-- name: purge
delete from idempotent_request where created_at < $1;
