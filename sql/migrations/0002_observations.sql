-- Observations: time series of KPI values, range-partitioned by month on ts.
-- A point is identified by (kpi, service or none, ts, dimensions); sending it again with another
-- value replaces the value, bumps the revision and keeps the replaced value in observation_revision.

create table observation (
    kpi_id       bigint not null,
    service_id   bigint,
    ts           timestamptz not null,
    value        double precision not null,
    dimensions   jsonb not null default '{}',
    source       text,
    revision     integer not null default 1,
    ingested_at  timestamptz not null default now(),
    constraint observation_point_uq unique nulls not distinct (kpi_id, service_id, ts, dimensions)
) partition by range (ts);

create index observation_kpi_ts_idx on observation (kpi_id, ts);

create table observation_revision (
    kpi_id       bigint not null,
    service_id   bigint,
    ts           timestamptz not null,
    dimensions   jsonb not null,
    value        double precision not null,
    revision     integer not null,
    source       text,
    replaced_at  timestamptz not null default now()
);
create index observation_revision_point_idx on observation_revision (kpi_id, ts);

-- Creates the monthly partitions that hold the given instants, if missing. Serialised by an
-- advisory lock so concurrent batches touching a new month do not race on the DDL.
create function ensure_observation_partitions(instants timestamptz[]) returns void
language plpgsql as $$
declare
    month_start timestamptz;
    part_name   text;
begin
    for month_start in
        select distinct date_trunc('month', i at time zone 'UTC') at time zone 'UTC'
        from unnest(instants) as i
    loop
        part_name := 'observation_' || to_char(month_start at time zone 'UTC', 'YYYY_MM');
        if to_regclass(quote_ident(current_schema()) || '.' || part_name) is null then
            perform pg_advisory_xact_lock(hashtext('observation_partition'));
            if to_regclass(quote_ident(current_schema()) || '.' || part_name) is null then
                execute format(
                    'create table %I partition of observation for values from (%L) to (%L)',
                    part_name, month_start, month_start + interval '1 month');
            end if;
        end if;
    end loop;
end;
$$;
