-- Business calendars: the calendars recorded with the instant each took effect, a KPI's own
-- zone, and series reads of observed KPIs in a business calendar other than the default one (UTC,
-- weeks from Monday, years from January; sql/queries/series.sql serves that one). The
-- calendar comes as its eras: $6 (or the matching later parameter) their starts, sorted, the
-- first -infinity; then their zones, week starts and fiscal start months (calendar_bucket).

-- name: calendar_observed
-- One KPI's points, with or without a service, bucketed in the calendar by grain and
-- combined by the KPI's aggregation.
select calendar_bucket($2, o.ts, $6::timestamptz[], $7::text[], $8::integer[], $9::integer[])
           as bucket,
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

-- name: calendar_observed_services
-- `calendar_observed` of the points of some services ($10) together.
select calendar_bucket($2, o.ts, $6::timestamptz[], $7::text[], $8::integer[], $9::integer[])
           as bucket,
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
  and o.service_id = any($10::bigint[])
  and o.ts >= coalesce($4::timestamptz, '-infinity')
  and o.ts < coalesce($5::timestamptz, 'infinity')
group by 1
order by 1;

-- name: calendar_observed_by_service
-- `calendar_observed_services`, each service's points bucketed apart, summed in one fixed
-- order as observed_by_service does.
select o.service_id,
       calendar_bucket($2, o.ts, $6::timestamptz[], $7::text[], $8::integer[], $9::integer[])
           as bucket,
       case $3::text
           when 'sum' then sum(o.value order by o.ts, o.dimensions)
                           filter (where $3::text = 'sum')
           when 'avg' then avg(o.value order by o.ts, o.dimensions)
                           filter (where $3::text = 'avg')
           when 'min' then min(o.value) filter (where $3::text = 'min')
           when 'max' then max(o.value) filter (where $3::text = 'max')
           when 'count' then count(*)::double precision
           when 'last' then (array_agg(o.value order by o.ts desc, o.dimensions desc)
                             filter (where $3::text = 'last'))[1]
       end as value,
       count(*) as count
from observation o
where o.kpi_id = $1
  and o.service_id = any($10::bigint[])
  and o.ts >= coalesce($4::timestamptz, '-infinity')
  and o.ts < coalesce($5::timestamptz, 'infinity')
group by 1, 2
order by 1, 2;

-- name: calendar_observed_hours
-- `calendar_observed` over every point of a KPI from its hour rows, for a calendar whose
-- bounds all fall on whole UTC hours and a window of whole hours ($4, $5 or null).
select calendar_bucket($2, h.hour, $6::timestamptz[], $7::text[], $8::integer[],
                       $9::integer[]) as bucket,
       case $3::text
           when 'sum' then sum(h.total)
           when 'avg' then sum(h.total) / sum(h.points)::double precision
           when 'min' then min(h.low)
           when 'max' then max(h.high)
           when 'count' then sum(h.points)::double precision
           when 'last' then (array_agg(h.last_value
                                       order by h.last_ts desc, h.last_service_id desc nulls last))[1]
       end as value,
       sum(h.points)::bigint as count
from observation_hour h
where h.kpi_id = $1
  and h.hour >= coalesce($4::timestamptz, '-infinity')
  and h.hour < coalesce($5::timestamptz, 'infinity')
group by 1
order by 1;

-- name: calendar_observed_hour_bounds
-- `calendar_observed_hours` over a window [$3, $4) whose buckets the caller lists by their
-- starts ($5, sorted, the first at or before $3): each hour is placed by a binary search
-- instead of being converted to local time.
select ($5::timestamptz[])[width_bucket(h.hour, $5::timestamptz[])] as bucket,
       case $2::text
           when 'sum' then sum(h.total)
           when 'avg' then sum(h.total) / sum(h.points)::double precision
           when 'min' then min(h.low)
           when 'max' then max(h.high)
           when 'count' then sum(h.points)::double precision
           when 'last' then (array_agg(h.last_value
                                       order by h.last_ts desc, h.last_service_id desc nulls last))[1]
       end as value,
       sum(h.points)::bigint as count
from observation_hour h
where h.kpi_id = $1
  and h.hour >= $3
  and h.hour < $4
group by 1
order by 1;

-- name: business_calendar_eras
-- The calendars recorded, oldest first.
select since, time_zone, week_start, fiscal_start_month from business_calendar order by since;

-- name: record_business_calendar
-- A calendar in force from `since` on; the same rules again at the same instant change
-- nothing.
insert into business_calendar (since, time_zone, week_start, fiscal_start_month)
values ($1, $2, $3, $4)
on conflict (since) do update
    set time_zone = excluded.time_zone, week_start = excluded.week_start,
        fiscal_start_month = excluded.fiscal_start_month, recorded_at = now();

-- name: set_kpi_time_zone
-- A KPI's own zone (null: the organisation's).
update kpi set time_zone = $2 where id = $1;
