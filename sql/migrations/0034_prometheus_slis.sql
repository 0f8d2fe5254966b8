-- SLIs from Prometheus: data sources (a Prometheus server's URL and how to authenticate to it)
-- and, on a ratio KPI, the good-events and total-events queries the background leader
-- evaluates per bucket into observations of the ratio's numerator and denominator.

create table data_source (
    id               bigint generated always as identity primary key,
    name             text not null unique,
    kind             text not null default 'prometheus' check (kind in ('prometheus')),
    url              text not null,
    auth             text not null default 'none' check (auth in ('none', 'bearer', 'basic')),
    username         text,
    -- The bearer token or the basic-auth password. Never selected by read queries.
    secret           text,
    -- Queries answered and failed since the source was created (kpi_data_source_queries).
    queries_ok       bigint not null default 0,
    queries_failed   bigint not null default 0,
    last_success_at  timestamptz,
    last_error       text,
    last_error_at    timestamptz,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    constraint data_source_basic_has_username check (auth <> 'basic' or username is not null)
);

create table kpi_sli (
    kpi_id           bigint primary key references kpi (id) on delete cascade,
    data_source_id   bigint not null references data_source (id) on delete restrict,
    service_id       bigint references business_service (id) on delete restrict,
    good_query       text not null,
    total_query      text not null,
    bucket           text not null check (bucket in ('1m', '5m', '10m', '15m', '30m', '1h', '2h',
                                                  '3h', '6h', '12h', '1d')),
    -- The start of the first bucket not yet settled; null: the backfill window's start.
    next_bucket      timestamptz,
    last_run_at      timestamptz,
    points           bigint not null default 0,
    gaps             bigint not null default 0,
    last_problem     text,
    last_problem_at  timestamptz
);
create index kpi_sli_data_source_idx on kpi_sli (data_source_id);
create index kpi_sli_service_idx on kpi_sli (service_id);
