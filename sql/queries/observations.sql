-- Observation ingestion. A request's KPI keys and service slugs are resolved (and locked) by
-- the store; a batch's new points are copied into observation and its known ones merged from
-- arrays; a longer stream goes through a per-request staging table and one merge.

-- name: lock_kpis
-- Holds the named KPIs until commit, so a concurrent delete waits for us (and one that went
-- first leaves them unknown).
select key, id, kind from kpi where key = any($1::text[]) for key share;

-- name: lock_services
select slug, id from business_service where slug = any($1::text[]) for key share;

-- name: ensure_partitions
-- Monthly partitions for the months of $1 inside [$2, $3); other months go to the default one.
select ensure_observation_partitions($1::timestamptz[], $2, $3);

-- name: lock_days
-- Waits for any other request writing points of the same KPI-days, and holds them until
-- commit: one lock per KPI-day, taken in key order (see observation_day_lock_key).
select count(pg_advisory_xact_lock(hashtext('observation_day'), k))
from (select distinct observation_day_lock_key(kpi_id, ts) as k
      from unnest($1::bigint[], $2::timestamptz[]) as p (kpi_id, ts)
      order by k) as keys;

-- name: lock_stage_days
select count(pg_advisory_xact_lock(hashtext('observation_day'), k))
from (select distinct observation_day_lock_key(kpi_id, ts) as k from obs_stage order by k) as keys;

-- name: stored_points_between
-- The stored points of the given KPIs from $2 to $3 (inclusive), at most $4 of them: which
-- of a batch's points exist already (past $4 the store merges the whole batch instead).
select kpi_id, service_id, ts, dimensions from observation
where kpi_id = any($1::bigint[]) and ts between $2 and $3
limit $4;

-- name: merge_points
-- Distinct points (duplicates already dropped, ordered by key so that concurrent requests
-- lock rows in one order). A changed value bumps the revision and keeps the replaced one
-- (trigger keep_observation_revision); new rows are those left at revision 1.
with written as (
    insert into observation (kpi_id, service_id, ts, value, dimensions, source)
    select * from unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::float8[],
                         $5::jsonb[], $6::text[]) as p (kpi_id, service_id, ts, value, dimensions,
                                                        source)
    order by kpi_id, service_id, ts, dimensions
    on conflict (kpi_id, service_id, ts, dimensions) do update
        set value = excluded.value, source = excluded.source, ingested_at = now()
        where observation.value is distinct from excluded.value
    returning revision
)
select count(*) filter (where revision = 1) as inserted,
       count(*) filter (where revision > 1) as updated
from written;

-- name: create_stage
create temporary table obs_stage (
    ord         bigint not null,
    kpi_id      bigint not null,
    service_id  bigint,
    ts          timestamptz not null,
    value       double precision not null,
    dimensions  jsonb not null default '{}',
    source      text
) on commit drop;

-- name: drop_stage
drop table obs_stage;

-- name: merge_stage
-- Last point wins inside a request; otherwise as merge_points.
with incoming as (
    select distinct on (kpi_id, service_id, ts, dimensions)
           kpi_id, service_id, ts, value, dimensions, source
    from obs_stage
    order by kpi_id, service_id, ts, dimensions, ord desc
),
written as (
    insert into observation (kpi_id, service_id, ts, value, dimensions, source)
    select kpi_id, service_id, ts, value, dimensions, source from incoming
    on conflict (kpi_id, service_id, ts, dimensions) do update
        set value = excluded.value, source = excluded.source, ingested_at = now()
        where observation.value is distinct from excluded.value
    returning revision
)
select (select count(*) from incoming) as points,
       (select count(*) from written where revision = 1) as inserted,
       (select count(*) from written where revision > 1) as updated;

-- name: insert_stage
-- The staged points when none of them is stored (the store found no point of their KPIs in
-- their time span, under the day locks): the last point of each key, inserted as they are.
insert into observation (kpi_id, service_id, ts, value, dimensions, source)
select distinct on (kpi_id, service_id, ts, dimensions)
       kpi_id, service_id, ts, value, dimensions, source
from obs_stage
order by kpi_id, service_id, ts, dimensions, ord desc;
