-- Retention: observation partitions older than a configured age are detached and dropped
-- whole, after the roll-ups that outlive them are checked to hold their points; raw webhook
-- payloads older than their age are cleared (the delivery row and its dedupe keys stay).

-- 1. Every KPI's points of a UTC day per service, summed up as they are written, as
--    observation_day keeps them for all services together: a series of some services at a
--    grain of a day or more reads these rows, one per service and day, so it gives the same
--    figures once the points themselves have expired. Points without a service are in
--    observation_day only. Enough to combine days exactly: count, sum, min, max, and the
--    service's last point by (ts, dimensions), which is the one a 'last' KPI shows.
--    Writers already hold the lock of the KPI-day of each point (observation_day_lock_key).
create table observation_service_day (
    kpi_id           bigint not null,
    service_id       bigint not null,
    day              timestamptz not null,
    points           bigint not null,
    total            double precision not null,
    low              double precision not null,
    high             double precision not null,
    last_ts          timestamptz not null,
    last_dimensions  jsonb not null,
    last_value       double precision not null,
    primary key (kpi_id, service_id, day)
);

-- Whether a service has a history, before it may be deleted (points may be gone).
create index observation_service_day_service_idx on observation_service_day (service_id);

create function observation_service_day_add() returns trigger
language plpgsql as $$
begin
    insert into observation_service_day as d (kpi_id, service_id, day, points, total, low,
                                              high, last_ts, last_dimensions, last_value)
    select distinct on (kpi_id, service_id, day)
           kpi_id, service_id, day, count(*) over w, sum(value) over w, min(value) over w,
           max(value) over w, ts, dimensions, value
    from (select kpi_id, service_id,
                 date_bin('1 day', ts, timestamptz '2000-01-03 00:00:00+00') as day,
                 ts, dimensions, value
          from new_points where service_id is not null) p
    window w as (partition by kpi_id, service_id, day)
    order by kpi_id, service_id, day, ts desc, dimensions desc
    on conflict (kpi_id, service_id, day) do update
        set points = d.points + excluded.points,
            total = d.total + excluded.total,
            low = least(d.low, excluded.low),
            high = greatest(d.high, excluded.high),
            last_ts = case when (excluded.last_ts, excluded.last_dimensions)
                                > (d.last_ts, d.last_dimensions)
                           then excluded.last_ts else d.last_ts end,
            last_dimensions = case when (excluded.last_ts, excluded.last_dimensions)
                                        > (d.last_ts, d.last_dimensions)
                                   then excluded.last_dimensions else d.last_dimensions end,
            last_value = case when (excluded.last_ts, excluded.last_dimensions)
                                   > (d.last_ts, d.last_dimensions)
                              then excluded.last_value else d.last_value end;
    return null;
end;
$$;

-- A changed value takes its service-day's sum, low, high and last point again from the
-- points, as observation_day_change does for its day.
create function observation_service_day_change() returns trigger
language plpgsql as $$
begin
    perform 1 from observation_service_day d
    where (d.kpi_id, d.service_id, d.day) in (
        select kpi_id, service_id, date_bin('1 day', ts, timestamptz '2000-01-03 00:00:00+00')
        from new_points where service_id is not null)
    order by d.kpi_id, d.service_id, d.day
    for update;
    update observation_service_day d
    set total = a.total, low = a.low, high = a.high, last_ts = a.last_ts,
        last_dimensions = a.last_dimensions, last_value = a.last_value
    from (select distinct kpi_id, service_id,
                 date_bin('1 day', ts, timestamptz '2000-01-03 00:00:00+00') as day
          from new_points where service_id is not null) c
    cross join lateral (
        select sum(o.value) as total, min(o.value) as low, max(o.value) as high,
               (array_agg(o.ts order by o.ts desc, o.dimensions desc))[1] as last_ts,
               (array_agg(o.dimensions order by o.ts desc, o.dimensions desc))[1]
                   as last_dimensions,
               (array_agg(o.value order by o.ts desc, o.dimensions desc))[1] as last_value
        from observation o
        where o.kpi_id = c.kpi_id and o.service_id = c.service_id
          and o.ts >= c.day and o.ts < c.day + interval '24 hours'
    ) a
    where d.kpi_id = c.kpi_id and d.service_id = c.service_id and d.day = c.day;
    return null;
end;
$$;

create function observation_service_day_clear() returns trigger
language plpgsql as $$
begin
    delete from observation_service_day;
    return null;
end;
$$;

create trigger observation_service_day_on_insert after insert on observation
    referencing new table as new_points
    for each statement execute function observation_service_day_add();
create trigger observation_service_day_on_update after update on observation
    referencing old table as old_points new table as new_points
    for each statement execute function observation_service_day_change();
create trigger observation_service_day_on_truncate after truncate on observation
    for each statement execute function observation_service_day_clear();

-- The points of [from_ts, to_ts) as the three roll-ups of the range (whole UTC days) keep
-- them, for all services together and per service.
create function rebuild_observation_rollups(from_ts timestamptz, to_ts timestamptz)
returns void
language plpgsql as $$
begin
    delete from observation_day where day >= from_ts and day < to_ts;
    delete from observation_hour where hour >= from_ts and hour < to_ts;
    delete from observation_service_day where day >= from_ts and day < to_ts;
    insert into observation_day (kpi_id, day, points, total, low, high, last_ts,
                                 last_service_id, last_value)
    select kpi_id, date_bin('1 day', ts, timestamptz '2000-01-03 00:00:00+00'), count(*),
           sum(value), min(value), max(value),
           (array_agg(ts order by ts desc, service_id desc nulls last))[1],
           (array_agg(service_id order by ts desc, service_id desc nulls last))[1],
           (array_agg(value order by ts desc, service_id desc nulls last))[1]
    from observation where ts >= from_ts and ts < to_ts
    group by 1, 2;
    insert into observation_hour (kpi_id, hour, points, total, low, high, last_ts,
                                  last_service_id, last_value)
    select kpi_id, date_bin('1 hour', ts, timestamptz '2000-01-03 00:00:00+00'), count(*),
           sum(value), min(value), max(value),
           (array_agg(ts order by ts desc, service_id desc nulls last))[1],
           (array_agg(service_id order by ts desc, service_id desc nulls last))[1],
           (array_agg(value order by ts desc, service_id desc nulls last))[1]
    from observation where ts >= from_ts and ts < to_ts
    group by 1, 2;
    insert into observation_service_day (kpi_id, service_id, day, points, total, low, high,
                                         last_ts, last_dimensions, last_value)
    select kpi_id, service_id, date_bin('1 day', ts, timestamptz '2000-01-03 00:00:00+00'),
           count(*), sum(value order by ts, dimensions), min(value), max(value),
           (array_agg(ts order by ts desc, dimensions desc))[1],
           (array_agg(dimensions order by ts desc, dimensions desc))[1],
           (array_agg(value order by ts desc, dimensions desc))[1]
    from observation where ts >= from_ts and ts < to_ts and service_id is not null
    group by 1, 2, 3;
end;
$$;

-- Whether the roll-ups count every point of [from_ts, to_ts) (whole UTC days): the points of
-- all services together by day and by hour, and those of each service by day.
create function observation_rollups_hold(from_ts timestamptz, to_ts timestamptz)
returns boolean
language sql stable as $$
    with points as (
        select count(*) as every, count(service_id) as of_services
        from observation where ts >= from_ts and ts < to_ts
    )
    select p.every = (select coalesce(sum(points), 0) from observation_day
                      where day >= from_ts and day < to_ts)
       and p.every = (select coalesce(sum(points), 0) from observation_hour
                      where hour >= from_ts and hour < to_ts)
       and p.of_services = (select coalesce(sum(points), 0) from observation_service_day
                            where day >= from_ts and day < to_ts)
    from points p
$$;

-- Observations before `horizon` (a UTC month's start) dropped: every monthly partition that
-- ends by then is detached and dropped whole, at most `most` of them (each holds locks until
-- commit); points of the default partition before it (months too far back for a partition
-- of their own) are deleted in one statement; revisions of the dropped points go with them.
-- Before anything goes, the roll-ups of its range are checked to hold its points, and built
-- again from them if not. Returns each partition dropped (the default one as itself) with
-- the points it held.
create function drop_observations_before(horizon timestamptz, most integer)
returns table (partition_name text, range_start timestamptz, points bigint)
language plpgsql as $$
declare
    part       record;
    month_end  timestamptz;
    held       bigint;
    oldest       timestamptz;
    first_month  timestamptz;
begin
    -- Detaching waits for the readers of observation; rather than queue every later one
    -- behind it, give up after a while (the next round tries again).
    perform set_config('lock_timeout', '5s', true);
    for part in
        select c.relname as name,
               to_date(substr(c.relname, 13), 'YYYY_MM')::timestamp at time zone 'UTC'
                   as month_start
        from pg_inherits i
        join pg_class c on c.oid = i.inhrelid
        join pg_class p on p.oid = i.inhparent
        where p.relname = 'observation' and p.relnamespace = to_regnamespace(current_schema())
          and c.relname ~ '^observation_\d{4}_\d{2}$'
        order by c.relname
        limit most
    loop
        month_end := ((part.month_start at time zone 'UTC') + interval '1 month')
                     at time zone 'UTC';
        exit when month_end > horizon;
        if not observation_rollups_hold(part.month_start, month_end) then
            perform rebuild_observation_rollups(part.month_start, month_end);
        end if;
        execute format('select count(*) from %I', part.name) into held;
        execute format('alter table observation detach partition %I', part.name);
        execute format('drop table %I', part.name);
        delete from observation_revision where ts >= part.month_start and ts < month_end;
        partition_name := part.name;
        range_start := part.month_start;
        points := held;
        return next;
    end loop;
    -- The default partition's points, month by month (a month is either there or in a
    -- partition of its own, and no point before the horizon is taken once it applies).
    first_month := null;
    for oldest in
        select distinct date_trunc('month', ts, 'UTC') from observation_default
        where ts < horizon order by 1
    loop
        month_end := least(horizon,
                           ((oldest at time zone 'UTC') + interval '1 month') at time zone 'UTC');
        if not observation_rollups_hold(oldest, month_end) then
            perform rebuild_observation_rollups(oldest, month_end);
        end if;
        first_month := coalesce(first_month, oldest);
    end loop;
    if first_month is not null then
        delete from observation_default where ts < horizon;
        get diagnostics held = row_count;
        delete from observation_revision where ts < horizon;
        partition_name := 'observation_default';
        range_start := first_month;
        points := held;
        return next;
    end if;
end;
$$;

-- 2. What the last retention round did, and every round since the first (counters for
--    /metrics), for `kpi doctor` and /metrics.
create table retention_run (
    id                   boolean primary key default true check (id),
    ran_at               timestamptz not null,
    observations_before  timestamptz,
    partitions_dropped   integer not null,
    points_dropped       bigint not null,
    payloads_cleared     bigint not null,
    idempotency_purged   bigint not null,
    total_partitions     bigint not null,
    total_points         bigint not null,
    total_payloads       bigint not null,
    total_idempotency    bigint not null
);

-- 3. Backfill: every point written before this migration, per service and day.
insert into observation_service_day (kpi_id, service_id, day, points, total, low, high, last_ts,
                                     last_dimensions, last_value)
select kpi_id, service_id, date_bin('1 day', ts, timestamptz '2000-01-03 00:00:00+00'), count(*),
       sum(value order by ts, dimensions), min(value), max(value),
       (array_agg(ts order by ts desc, dimensions desc))[1],
       (array_agg(dimensions order by ts desc, dimensions desc))[1],
       (array_agg(value order by ts desc, dimensions desc))[1]
from observation
where service_id is not null
group by 1, 2, 3;

-- Payloads cleared by age are found by their arrival.
create index delivery_received_at_idx on delivery (received_at) where body is not null;

-- 4. An unmapped delivery nobody will map can be discarded: its payload goes, the row stays
--    (as 'discarded') with its keys, so a retry of it is still a duplicate.
alter table delivery drop constraint delivery_status_check;
alter table delivery add constraint delivery_status_check
    check (status in ('applied', 'unmapped', 'invalid', 'rejected', 'discarded'));
