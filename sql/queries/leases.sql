-- The background leader's lease. Each statement is named; service/store/leases.py wraps it
-- under the same name.

-- name: take_lease
-- Take or renew lease $1 for holder $2 for $3 seconds, unless another holds it unexpired:
-- the holder after the statement (the caller leads when it is itself).
with taken as (
    insert into leader_lease as l (name, holder, expires_at)
    values ($1, $2, clock_timestamp() + make_interval(secs => $3::float8))
    on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
    where l.holder = excluded.holder or l.expires_at <= clock_timestamp()
    returning holder
)
select holder from taken
union all
select holder from leader_lease where name = $1 and not exists (select 1 from taken);

-- name: release_lease
-- Give lease $1 up, if holder $2 still holds it, so another process may lead at once.
delete from leader_lease where name = $1 and holder = $2;
