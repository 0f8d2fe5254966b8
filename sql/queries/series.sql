-- Series reads of observed KPIs.
--
-- asyncpg prepares every statement, and Postgres may keep a generic plan for it after five
-- executions. So the time bounds are plain `ts >= x and ts < y` (an open end is -infinity or
-- infinity), which such a plan can still prune month partitions with at run time, and each
-- aggregate is filtered on the KPI's aggregation ($4), so only the one asked for does any work
-- (the ordered one of 'last' sorts nothing for the others).

-- name: observed
-- One KPI's points, with or without a service, bucketed by grain (UTC) and combined by the
-- KPI's aggregation.
-- date_bin on a fixed stride from a Monday is date_trunc(grain, ts, 'UTC') for hours, days
-- and weeks, at a fraction of its cost per point.
select case $2::text
           when 'hour' then date_bin('1 hour', o.ts, timestamptz '2000-01-03 00:00:00+00')
           when 'day' then date_bin('1 day', o.ts, timestamptz '2000-01-03 00:00:00+00')
           when 'week' then date_bin('7 days', o.ts, timestamptz '2000-01-03 00:00:00+00')
           else date_trunc($2, o.ts, 'UTC')
       end as bucket,
       case $3::text
           when 'sum' then sum(o.value) filter (where $3::text = 'sum')
           when 'avg' then avg(o.value) filter (where $3::text = 'avg')
           when 'min' then min(o.value) filter (where $3::text = 'min')
           when 'max' then max(o.value) filter (where $3::text = 'max')
           when 'count' then count(*)::double precision
           when 'last' then (array_agg(o.value order by o.ts desc, o.service_id desc nulls last)
                             filter (where $3::text = 'last'))[1]
       end as value,
       count(*) as count
from observation o
where o.kpi_id = $1
  and o.ts >= coalesce($4::timestamptz, '-infinity')
  and o.ts < coalesce($5::timestamptz, 'infinity')
group by 1
order by 1;

-- name: observed_services
-- `observed` of the points of some services ($2): a statement of its own, so that its plan can
-- look the services up in the point index (kpi_id, service_id, ts) when that reads less.
select case $3::text
           when 'hour' then date_bin('1 hour', o.ts, timestamptz '2000-01-03 00:00:00+00')
           when 'day' then date_bin('1 day', o.ts, timestamptz '2000-01-03 00:00:00+00')
           when 'week' then date_bin('7 days', o.ts, timestamptz '2000-01-03 00:00:00+00')
           else date_trunc($3, o.ts, 'UTC')
       end as bucket,
       case $4::text
           when 'sum' then sum(o.value) filter (where $4::text = 'sum')
           when 'avg' then avg(o.value) filter (where $4::text = 'avg')
           when 'min' then min(o.value) filter (where $4::text = 'min')
           when 'max' then max(o.value) filter (where $4::text = 'max')
           when 'count' then count(*)::double precision
           when 'last' then (array_agg(o.value order by o.ts desc, o.service_id desc nulls last)
                             filter (where $4::text = 'last'))[1]
       end as value,
       count(*) as count
from observation o
where o.kpi_id = $1
  and o.service_id = any($2::bigint[])
  and o.ts >= coalesce($5::timestamptz, '-infinity')
  and o.ts < coalesce($6::timestamptz, 'infinity')
group by 1
order by 1;

-- name: observed_by_service
-- `observed_services`, each service's points bucketed apart. Sums and means add the points of
-- a bucket in one fixed order (time, then dimensions), whatever services are asked together
-- and whatever the plan, so a service's figure is the same to the last bit however it is
-- asked for.
select o.service_id,
       case $3::text
           when 'hour' then date_bin('1 hour', o.ts, timestamptz '2000-01-03 00:00:00+00')
           when 'day' then date_bin('1 day', o.ts, timestamptz '2000-01-03 00:00:00+00')
           when 'week' then date_bin('7 days', o.ts, timestamptz '2000-01-03 00:00:00+00')
           else date_trunc($3, o.ts, 'UTC')
       end as bucket,
       case $4::text
           when 'sum' then sum(o.value order by o.ts, o.dimensions)
                           filter (where $4::text = 'sum')
           when 'avg' then avg(o.value order by o.ts, o.dimensions)
                           filter (where $4::text = 'avg')
           when 'min' then min(o.value) filter (where $4::text = 'min')
           when 'max' then max(o.value) filter (where $4::text = 'max')
           when 'count' then count(*)::double precision
           when 'last' then (array_agg(o.value order by o.ts desc, o.dimensions desc)
                             filter (where $4::text = 'last'))[1]
       end as value,
       count(*) as count
from observation o
where o.kpi_id = $1
  and o.service_id = any($2::bigint[])
  and o.ts >= coalesce($5::timestamptz, '-infinity')
  and o.ts < coalesce($6::timestamptz, 'infinity')
group by 1, 2
order by 1, 2;

-- name: observed_days
-- The same as `observed` for every point of a KPI (any service or none) at a grain of a day
-- or more, over whole UTC days ($4, $5 midnights or null), from the KPI's day rows.
select date_trunc($2, d.day, 'UTC') as bucket,
       case $3::text
           when 'sum' then sum(d.total)
           when 'avg' then sum(d.total) / sum(d.points)::double precision
           when 'min' then min(d.low)
           when 'max' then max(d.high)
           when 'count' then sum(d.points)::double precision
           when 'last' then (array_agg(d.last_value
                                       order by d.last_ts desc, d.last_service_id desc nulls last))[1]
       end as value,
       sum(d.points)::bigint as count
from observation_day d
where d.kpi_id = $1
  and d.day >= coalesce($4::timestamptz, '-infinity')
  and d.day < coalesce($5::timestamptz, 'infinity')
group by 1
order by 1;

-- name: observed_days_overall
-- `observed_days` of several KPIs at once, each at its own grain ($2) with its own aggregation
-- ($3) over its own whole days [$4, $5): one statement for a board's on-demand statuses.
select w.kpi_id as key, date_trunc(w.grain, d.day, 'UTC') as bucket,
       case w.aggregation
           when 'sum' then sum(d.total)
           when 'avg' then sum(d.total) / sum(d.points)::double precision
           when 'min' then min(d.low)
           when 'max' then max(d.high)
           when 'count' then sum(d.points)::double precision
           when 'last' then (array_agg(d.last_value
                                       order by d.last_ts desc, d.last_service_id desc nulls last))[1]
       end as value,
       sum(d.points)::bigint as count
from unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
     as w (kpi_id, grain, aggregation, start_at, end_at)
join observation_day d on d.kpi_id = w.kpi_id and d.day >= w.start_at and d.day < w.end_at
group by w.kpi_id, w.grain, w.aggregation, 2
order by 1, 2;

-- name: observed_service_days
-- `observed_services` at a grain of a day or more over whole UTC days ($4, $5 midnights or
-- null), from the services' day rows (observation_service_day), bucketed in a calendar whose
-- days are UTC days (its eras $6 ... $9, as calendar_bucket takes them): the same figures
-- once the points have expired.
select calendar_bucket($2, d.day, $6::timestamptz[], $7::text[], $8::integer[], $9::integer[])
           as bucket,
       case $3::text
           when 'sum' then sum(d.total order by d.day, d.service_id)
           when 'avg' then sum(d.total order by d.day, d.service_id)
                           / sum(d.points)::double precision
           when 'min' then min(d.low)
           when 'max' then max(d.high)
           when 'count' then sum(d.points)::double precision
           when 'last' then (array_agg(d.last_value order by d.last_ts desc, d.service_id desc))[1]
       end as value,
       sum(d.points)::bigint as count
from observation_service_day d
where d.kpi_id = $1
  and d.service_id = any($10::bigint[])
  and d.day >= coalesce($4::timestamptz, '-infinity')
  and d.day < coalesce($5::timestamptz, 'infinity')
group by 1
order by 1;

-- name: observed_service_days_by_service
-- `observed_service_days`, each service's days bucketed apart.
select d.service_id,
       calendar_bucket($2, d.day, $6::timestamptz[], $7::text[], $8::integer[], $9::integer[])
           as bucket,
       case $3::text
           when 'sum' then sum(d.total order by d.day)
           when 'avg' then sum(d.total order by d.day) / sum(d.points)::double precision
           when 'min' then min(d.low)
           when 'max' then max(d.high)
           when 'count' then sum(d.points)::double precision
           when 'last' then (array_agg(d.last_value order by d.last_ts desc))[1]
       end as value,
       sum(d.points)::bigint as count
from observation_service_day d
where d.kpi_id = $1
  and d.service_id = any($10::bigint[])
  and d.day >= coalesce($4::timestamptz, '-infinity')
  and d.day < coalesce($5::timestamptz, 'infinity')
group by 1, 2
order by 1, 2;
