-- Observation ingestion (through a per-request staging table).

-- name: create_stage
create temporary table obs_stage (
    ord         bigint not null,
    kpi         text not null,
    service     text,
    ts          timestamptz not null,
    value       double precision not null,
    dimensions  jsonb not null,
    source      text
) on commit drop;

-- name: drop_stage
drop table obs_stage;

-- name: first_unresolved_point
-- The first staged point whose KPI or service is unknown, or whose KPI is not observed.
select s.ord, s.kpi, s.service, k.id as kpi_id, k.kind, svc.id as service_id
from obs_stage s
left join kpi k on k.key = s.kpi
left join business_service svc on svc.slug = s.service
where k.id is null or k.kind <> 'observed' or (s.service is not null and svc.id is null)
order by s.ord
limit 1;

-- name: ensure_stage_partitions
select ensure_observation_partitions(array(select distinct date_trunc('month', ts, 'UTC')
                                           from obs_stage));

-- name: lock_stage_kpis
-- Holds the named KPIs and services until commit, so a concurrent delete waits for us (and
-- one that went first leaves them unknown to the check that follows).
select id from kpi where key in (select distinct kpi from obs_stage) for key share;

-- name: lock_stage_services
select id from business_service
where slug in (select distinct service from obs_stage where service is not null)
for key share;

-- name: merge_stage
-- Last point wins inside a batch. A changed value bumps the revision and keeps the replaced
-- one (trigger keep_observation_revision); new rows are those left at revision 1.
with incoming as (
    select distinct on (k.id, svc.id, s.ts, s.dimensions)
           k.id as kpi_id, svc.id as service_id, s.ts, s.value, s.dimensions, s.source
    from obs_stage s
    join kpi k on k.key = s.kpi
    left join business_service svc on svc.slug = s.service
    where s.service is null or svc.id is not null
    order by k.id, svc.id, s.ts, s.dimensions, s.ord desc
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
