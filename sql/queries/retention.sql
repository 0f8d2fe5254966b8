-- Retention: what the background leader drops once it is older than its configured age, and
-- the record of its last round. Each statement is named; service/store/retention.py wraps it
-- under the same name.

-- name: drop_observations_before
-- Observation partitions ending by $1 detached and dropped (at most $2 of them), with the
-- default partition's points before $1; each with the points it held.
select partition_name, range_start, points from drop_observations_before($1, $2);

-- name: clear_delivery_payloads
-- Raw headers and bodies of deliveries received before $1 cleared, except those of unmapped
-- deliveries (kept until replayed or discarded). The row stays, with its delivery key, signed
-- key and body digest, so a later retry of it is still a duplicate.
update delivery set body = null, headers = '{}'
where received_at < $1 and body is not null and status <> 'unmapped';

-- name: record_retention_run
-- The round that just ran, added to the totals since the first.
insert into retention_run as r (id, ran_at, observations_before, partitions_dropped,
                                points_dropped, payloads_cleared, idempotency_purged,
                                total_partitions, total_points, total_payloads,
                                total_idempotency)
values (true, $1, $2, $3::integer, $4::bigint, $5::bigint, $6::bigint, $3, $4, $5, $6)
on conflict (id) do update
    set ran_at = excluded.ran_at, observations_before = excluded.observations_before,
        partitions_dropped = excluded.partitions_dropped,
        points_dropped = excluded.points_dropped, payloads_cleared = excluded.payloads_cleared,
        idempotency_purged = excluded.idempotency_purged,
        total_partitions = r.total_partitions + excluded.partitions_dropped,
        total_points = r.total_points + excluded.points_dropped,
        total_payloads = r.total_payloads + excluded.payloads_cleared,
        total_idempotency = r.total_idempotency + excluded.idempotency_purged;

-- name: last_retention_run
select ran_at, observations_before, partitions_dropped, points_dropped, payloads_cleared,
       idempotency_purged
from retention_run;

-- name: retention_totals
-- What retention has dropped since its first round, and when it last ran (no row: never).
select r.ran_at, r.total_partitions, r.total_points, r.total_payloads, r.total_idempotency
from retention_run r;

-- name: oldest_observation_partition
-- The oldest monthly observation partition kept, by its first instant (null: none).
select min(to_date(substr(c.relname, 13), 'YYYY_MM')::timestamp at time zone 'UTC')
from pg_inherits i
join pg_class c on c.oid = i.inhrelid
join pg_class p on p.oid = i.inhparent
where p.relname = 'observation' and p.relnamespace = to_regnamespace(current_schema())
  and c.relname ~ '^observation_\d{4}_\d{2}$';
