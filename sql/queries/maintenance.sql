-- Maintenance windows (planned downtime per service) and the outage time inside them.
-- service/store/maintenance.py wraps each statement.

-- name: set_clock
-- The service's clock for the rest of the transaction: the maintenance window trigger
-- compares starts with it (sql/migrations/0035).
select set_config('kpi.clock', $1::timestamptz::text, true);

-- name: create_maintenance_window
insert into maintenance_window (service_id, starts_at, ends_at, reason, created_by, created_at)
values ($1, $2, $3, $4, $5, $6)
returning id;

-- name: list_maintenance_windows
-- Windows of the services $1 (null: every service) overlapping [$2, $3) (either bound may be
-- null), by start then id, at most $4.
select m.id, s.slug as service, m.starts_at, m.ends_at, m.reason, m.created_by, m.created_at,
       m.service_id
from maintenance_window m
join business_service s on s.id = m.service_id
where ($1::bigint[] is null or m.service_id = any($1))
  and ($2::timestamptz is null or m.ends_at > $2)
  and ($3::timestamptz is null or m.starts_at < $3)
order by m.starts_at, m.id
limit $4;

-- name: get_maintenance_window
select m.id, s.slug as service, m.starts_at, m.ends_at, m.reason, m.created_by, m.created_at,
       m.service_id
from maintenance_window m
join business_service s on s.id = m.service_id
where m.id = $1;

-- name: update_maintenance_window
update maintenance_window set starts_at = $2, ends_at = $3, reason = $4
where id = $1
returning id;

-- name: delete_maintenance_window
delete from maintenance_window where id = $1 returning id;

-- name: planned_outage_seconds
-- Per window and service: seconds of outage (as outage_seconds in metrics.sql counts it, the
-- union of the outage stretches, open ones up to $4) that fall inside the service's
-- maintenance windows: the intersection of the two unions, as multiranges, clipped to the
-- window. ($5, $6: the span; $7: the severities counted, null for every one.)
with w as (
    select w_start, w_end, n::int
    from unnest($2::timestamptz[], $3::timestamptz[]) with ordinality as w(w_start, w_end, n)
),
stretch as (
    select i.service_id, lower(o.r) as o_start, coalesce(upper(o.r), $4) as o_end
    from business_service s
    join incident i on i.service_id = s.id
    cross join lateral unnest(incident_outage(i.outage, i.started_at, i.resolved_at)) as o (r)
    where s.id = any($1::bigint[])
      and i.severity <= s.outage_threshold
      and ($7::text[] is null or i.severity = any($7))
      and i.started_at < $6
      and (i.resolved_at is null or i.resolved_at > $5)
      and exists (select 1 from maintenance_window m
                  where m.service_id = s.id and m.starts_at < $6 and m.ends_at > $5)
),
down as (
    select w.n, t.service_id,
           range_agg(tstzrange(greatest(t.o_start, w.w_start), least(t.o_end, w.w_end))) as r
    from stretch t
    join w on t.o_start < w.w_end and t.o_end > w.w_start
    where t.o_end > t.o_start
    group by w.n, t.service_id
),
planned as (
    select w.n, m.service_id,
           range_agg(tstzrange(greatest(m.starts_at, w.w_start), least(m.ends_at, w.w_end))) as r
    from maintenance_window m
    join w on m.starts_at < w.w_end and m.ends_at > w.w_start
    where m.service_id = any($1::bigint[])
    group by w.n, m.service_id
)
select d.n, d.service_id,
       coalesce(sum(extract(epoch from upper(x) - lower(x))), 0)::double precision as seconds
from down d
join planned p on p.n = d.n and p.service_id = d.service_id
cross join lateral unnest(d.r * p.r) as x
group by d.n, d.service_id
order by d.n, d.service_id;
