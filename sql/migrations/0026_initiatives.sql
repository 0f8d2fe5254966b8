-- Initiatives (technology programs): what each changes (services), what it is meant to move
-- (KPIs, each with the expected signed change in the KPI's unit) and what it spends (cost
-- records may carry one, which then joins the record's identity). Links to a service or a
-- KPI go with it when it is deleted, as the catalog's other links do; an initiative with cost
-- records cannot be deleted.
create table initiative (
    id              bigint generated always as identity primary key,
    key             text not null unique,
    name            text not null,
    owner           text,
    sponsor         text,
    status          text not null default 'proposed'
                    check (status in ('proposed', 'active', 'delivered', 'cancelled')),
    started_on      date not null,
    delivered_on    date,
    budget          numeric(20, 2),
    currency        text check (currency ~ '^[A-Z]{3}$'),
    review_periods  integer not null default 3 check (review_periods between 1 and 60),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    check (delivered_on is null or delivered_on >= started_on),
    check ((budget is null) = (currency is null)),
    check (in_api_range(started_on) and in_api_range(delivered_on))
);

create table initiative_service (
    initiative_id  bigint not null references initiative (id) on delete cascade,
    service_id     bigint not null references business_service (id) on delete cascade,
    primary key (initiative_id, service_id)
);
create index initiative_service_service_idx on initiative_service (service_id);

create table initiative_kpi (
    id               bigint generated always as identity primary key,
    initiative_id    bigint not null references initiative (id) on delete cascade,
    kpi_id           bigint not null references kpi (id) on delete cascade,
    service_id       bigint references business_service (id) on delete cascade,
    expected_change  double precision not null,
    expected_by      date,
    rationale        text,
    constraint initiative_kpi_uq unique nulls not distinct (initiative_id, kpi_id, service_id)
);
create index initiative_kpi_kpi_idx on initiative_kpi (kpi_id);

alter table cost_record
    add column initiative_id bigint references initiative (id) on delete restrict;
alter table cost_record drop constraint cost_record_uq;
alter table cost_record add constraint cost_record_uq
    unique nulls not distinct (service_id, category, period_start, period_end, currency,
                               initiative_id);
create index cost_record_initiative_idx on cost_record (initiative_id)
    where initiative_id is not null;
