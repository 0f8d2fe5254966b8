-- Business calendars: reporting periods in the organisation's time zone (or a KPI's own),
-- weeks from a chosen first day, quarters and years from the fiscal year's first month.

-- 1. The calendar in force, with the instant each one took effect: a change applies from then
--    on, and the periods before it (statuses already stored carry their bounds) stay as they
--    were. No row: the default calendar (UTC, weeks from Monday, years from January).
create table business_calendar (
    since               timestamptz primary key,
    time_zone           text not null,
    week_start          smallint not null check (week_start between 0 and 6),
    fiscal_start_month  smallint not null check (fiscal_start_month between 1 and 12),
    recorded_at         timestamptz not null default now()
);

-- 2. A KPI may keep its periods in a zone of its own (null: the organisation's).
alter table kpi add column time_zone text;

-- 3. Every KPI's points of a UTC hour, all services together, as observation_day keeps them
--    per UTC day: a series of the whole estate in a calendar whose days do not start at UTC
--    midnight sums the hours of each local day instead of reading every point. Every zone in
--    use today is a whole number of hours off UTC except a few (India +05:30, Nepal +05:45,
--    Newfoundland -03:30 ...); a calendar in one of those reads the points themselves.
--    Writers already hold the lock of the KPI-day of each point (observation_day_lock_key),
--    which covers its hour.
create table observation_hour (
    kpi_id           bigint not null,
    hour             timestamptz not null,
    points           bigint not null,
    total            double precision not null,
    low              double precision not null,
    high             double precision not null,
    last_ts          timestamptz not null,
    last_service_id  bigint,
    last_value       double precision not null,
    primary key (kpi_id, hour)
);

create function observation_hour_add() returns trigger
language plpgsql as $$
begin
    insert into observation_hour as d (kpi_id, hour, points, total, low, high, last_ts,
                                       last_service_id, last_value)
    select distinct on (kpi_id, hour)
           kpi_id, hour, count(*) over w, sum(value) over w, min(value) over w,
           max(value) over w, ts, service_id, value
    from (select kpi_id, date_bin('1 hour', ts, timestamptz '2000-01-03 00:00:00+00') as hour,
                 ts, service_id, value
          from new_points) p
    window w as (partition by kpi_id, hour)
    order by kpi_id, hour, ts desc, service_id desc nulls last
    on conflict (kpi_id, hour) do update
        set points = d.points + excluded.points,
            total = d.total + excluded.total,
            low = least(d.low, excluded.low),
            high = greatest(d.high, excluded.high),
            last_ts = case when (excluded.last_ts, coalesce(excluded.last_service_id, -1))
                                > (d.last_ts, coalesce(d.last_service_id, -1))
                           then excluded.last_ts else d.last_ts end,
            last_service_id = case when (excluded.last_ts, coalesce(excluded.last_service_id, -1))
                                        > (d.last_ts, coalesce(d.last_service_id, -1))
                                   then excluded.last_service_id else d.last_service_id end,
            last_value = case when (excluded.last_ts, coalesce(excluded.last_service_id, -1))
                                   > (d.last_ts, coalesce(d.last_service_id, -1))
                              then excluded.last_value else d.last_value end;
    return null;
end;
$$;

-- A changed value takes its hour's sum, low, high and last point again from the points, as
-- observation_day_change does for its day.
create function observation_hour_change() returns trigger
language plpgsql as $$
begin
    perform 1 from observation_hour d
    where (d.kpi_id, d.hour) in (
        select kpi_id, date_bin('1 hour', ts, timestamptz '2000-01-03 00:00:00+00')
        from new_points)
    order by d.kpi_id, d.hour
    for update;
    update observation_hour d
    set total = a.total, low = a.low, high = a.high, last_ts = a.last_ts,
        last_service_id = a.last_service_id, last_value = a.last_value
    from (select distinct kpi_id, date_bin('1 hour', ts, timestamptz '2000-01-03 00:00:00+00')
                 as hour
          from new_points) c
    cross join lateral (
        select sum(o.value) as total, min(o.value) as low, max(o.value) as high,
               (array_agg(o.ts order by o.ts desc, o.service_id desc nulls last))[1] as last_ts,
               (array_agg(o.service_id order by o.ts desc, o.service_id desc nulls last))[1]
                   as last_service_id,
               (array_agg(o.value order by o.ts desc, o.service_id desc nulls last))[1]
                   as last_value
        from observation o
        where o.kpi_id = c.kpi_id and o.ts >= c.hour and o.ts < c.hour + interval '1 hour'
    ) a
    where d.kpi_id = c.kpi_id and d.hour = c.hour;
    return null;
end;
$$;

create function observation_hour_clear() returns trigger
language plpgsql as $$
begin
    delete from observation_hour;
    return null;
end;
$$;

create trigger observation_hour_on_insert after insert on observation
    referencing new table as new_points
    for each statement execute function observation_hour_add();
create trigger observation_hour_on_update after update on observation
    referencing old table as old_points new table as new_points
    for each statement execute function observation_hour_change();
create trigger observation_hour_on_truncate after truncate on observation
    for each statement execute function observation_hour_clear();

insert into observation_hour (kpi_id, hour, points, total, low, high, last_ts, last_service_id,
                              last_value)
select kpi_id, date_bin('1 hour', ts, timestamptz '2000-01-03 00:00:00+00'), count(*),
       sum(value), min(value), max(value),
       (array_agg(ts order by ts desc, service_id desc nulls last))[1],
       (array_agg(service_id order by ts desc, service_id desc nulls last))[1],
       (array_agg(value order by ts desc, service_id desc nulls last))[1]
from observation
group by 1, 2;

-- 4. The start of the bucket of `grain` holding `ts` in a calendar: local midnight of the
--    day, of the week's first day (week_start 0 Monday ... 6 Sunday), of the month's 1st, of
--    the quarter's or year's first month counted from the fiscal start (1 ... 12). The same
--    rule as service/kpi/periods.py (Rules.local_start); tests hold the two together.
create function calendar_start(grain text, ts timestamptz, zone text, week_start integer,
                               fiscal_start integer) returns timestamptz
language sql stable parallel safe as $$
    select case grain
        when 'hour' then date_trunc('hour', ts, zone)
        when 'day' then date_trunc('day', ts, zone)
        when 'week' then (date_trunc('week', (ts at time zone zone)
                                             + make_interval(days => (7 - week_start) % 7))
                          - make_interval(days => (7 - week_start) % 7)) at time zone zone
        when 'month' then date_trunc('month', ts, zone)
        else (date_trunc(grain, (ts at time zone zone) - make_interval(months => fiscal_start - 1))
              + make_interval(months => fiscal_start - 1)) at time zone zone
    end
$$;

-- The same in a calendar that changes over time: the era holding `ts` (eras start at
-- `sinces`, sorted, the first -infinity) gives the rules, and a bucket begun before its era
-- starts where the era does.
create function calendar_bucket(grain text, ts timestamptz, sinces timestamptz[], zones text[],
                                week_starts integer[], fiscal_starts integer[])
returns timestamptz
language sql stable parallel safe as $$
    select greatest(sinces[width_bucket(ts, sinces)],
                    calendar_start(grain, ts, zones[width_bucket(ts, sinces)],
                                   week_starts[width_bucket(ts, sinces)],
                                   fiscal_starts[width_bucket(ts, sinces)]))
$$;
