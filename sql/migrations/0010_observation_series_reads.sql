-- Series reads and on-demand statuses aggregate a KPI's points over a time range.
--
-- 1. A series of some services looks them up in the point index (kpi_id, service_id, ts,
--    dimensions). With the value in that index too, it reads the index alone (an index-only
--    scan of the pages autovacuum has marked all-visible) instead of one heap page per point:
--    a KPI's points are interleaved with every other KPI's in the order they arrived.
alter table observation drop constraint observation_point_uq;
alter table observation add constraint observation_point_uq
    unique nulls not distinct (kpi_id, service_id, ts, dimensions) include (value);

-- 2. Every KPI's points of a UTC day (date_bin on a day stride is date_trunc('day', ts, 'UTC')
--    at a fraction of its cost per row), all services together, summed up as they are written:
--    a series of the whole estate at a grain of a day or more reads these rows, one a day,
--    instead of every point. Enough to combine days exactly: count, sum, min, max, and the
--    last point by (ts, service id, nulls first), which is the one a 'last' KPI shows.
create table observation_day (
    kpi_id           bigint not null,
    day              timestamptz not null,
    points           bigint not null,
    total            double precision not null,
    low              double precision not null,
    high             double precision not null,
    last_ts          timestamptz not null,
    last_service_id  bigint,
    last_value       double precision not null,
    primary key (kpi_id, day)
);

-- Every writer of points takes one transaction-scoped advisory lock per KPI-day it writes,
-- all of them before its first write and in the order of this key: a request adds some points
-- (the insert trigger locks their days) and changes others (the update trigger locks theirs)
-- in statements of its own, and two requests doing so in crossed orders would otherwise
-- deadlock on the day rows. Two KPI-days sharing a key only wait for each other.
create function observation_day_lock_key(kpi_id bigint, ts timestamptz) returns integer
language sql immutable parallel safe as $$
    select (((kpi_id << 16) + ((ts at time zone 'UTC')::date - date '2000-01-03'))
            % 2147483647)::integer
$$;

-- New points add to their day (one upsert per day, in key order so that concurrent writers
-- queue on the same rows in the same order).
create function observation_day_add() returns trigger
language plpgsql as $$
begin
    insert into observation_day as d (kpi_id, day, points, total, low, high, last_ts,
                                      last_service_id, last_value)
    select distinct on (kpi_id, day)
           kpi_id, day, count(*) over w, sum(value) over w, min(value) over w, max(value) over w,
           ts, service_id, value
    from (select kpi_id, date_bin('1 day', ts, timestamptz '2000-01-03 00:00:00+00') as day,
                 ts, service_id, value
          from new_points) p
    window w as (partition by kpi_id, day)
    order by kpi_id, day, ts desc, service_id desc nulls last
    on conflict (kpi_id, day) do update
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

-- A changed value (ingestion changes values only, never a point's KPI, service or instant)
-- leaves its day's count alone; the day's sum, low, high and last point are taken again from
-- its points, exactly as a fresh sum would give them (adding the difference would carry the
-- float rounding of every change along). The days are locked first, so that second look (a
-- statement of its own, with a snapshot of its own) sees every point whose writer added to
-- them before us.
create function observation_day_change() returns trigger
language plpgsql as $$
begin
    perform 1 from observation_day d
    where (d.kpi_id, d.day) in (
        select kpi_id, date_bin('1 day', ts, timestamptz '2000-01-03 00:00:00+00')
        from new_points)
    order by d.kpi_id, d.day
    for update;
    update observation_day d
    set total = a.total, low = a.low, high = a.high, last_ts = a.last_ts,
        last_service_id = a.last_service_id, last_value = a.last_value
    from (select distinct kpi_id, date_bin('1 day', ts, timestamptz '2000-01-03 00:00:00+00')
                 as day
          from new_points) c
    cross join lateral (
        select sum(o.value) as total, min(o.value) as low, max(o.value) as high,
               (array_agg(o.ts order by o.ts desc, o.service_id desc nulls last))[1] as last_ts,
               (array_agg(o.service_id order by o.ts desc, o.service_id desc nulls last))[1]
                   as last_service_id,
               (array_agg(o.value order by o.ts desc, o.service_id desc nulls last))[1]
                   as last_value
        from observation o
        where o.kpi_id = c.kpi_id and o.ts >= c.day and o.ts < c.day + interval '24 hours'
    ) a
    where d.kpi_id = c.kpi_id and d.day = c.day;
    return null;
end;
$$;

create function observation_day_clear() returns trigger
language plpgsql as $$
begin
    delete from observation_day;
    return null;
end;
$$;

create trigger observation_day_on_insert after insert on observation
    referencing new table as new_points
    for each statement execute function observation_day_add();
create trigger observation_day_on_update after update on observation
    referencing old table as old_points new table as new_points
    for each statement execute function observation_day_change();
create trigger observation_day_on_truncate after truncate on observation
    for each statement execute function observation_day_clear();

insert into observation_day (kpi_id, day, points, total, low, high, last_ts, last_service_id,
                             last_value)
select kpi_id, date_bin('1 day', ts, timestamptz '2000-01-03 00:00:00+00'), count(*), sum(value),
       min(value), max(value),
       (array_agg(ts order by ts desc, service_id desc nulls last))[1],
       (array_agg(service_id order by ts desc, service_id desc nulls last))[1],
       (array_agg(value order by ts desc, service_id desc nulls last))[1]
from observation
group by 1, 2;
