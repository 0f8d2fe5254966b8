-- Catalog: teams, business services and their dependencies, business outcomes,
-- KPI definitions with owners, escalation paths, targets, and the edges of the graph.

create table team (
    id          bigint generated always as identity primary key,
    slug        text not null unique,
    name        text not null,
    email       text,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);

create table business_service (
    id                bigint generated always as identity primary key,
    slug              text not null unique,
    name              text not null,
    tier              smallint not null check (tier between 1 and 4),
    team_id           bigint references team (id) on delete restrict,
    business_owner    text,
    technology_owner  text,
    revenue_per_hour  numeric(18, 2) check (revenue_per_hour >= 0),
    user_count        bigint check (user_count >= 0),
    outage_threshold  text not null default 'sev2'
                      check (outage_threshold in ('sev1', 'sev2', 'sev3', 'sev4', 'sev5')),
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now()
);
create index business_service_team_idx on business_service (team_id);

create table service_dependency (
    service_id     bigint not null references business_service (id) on delete cascade,
    depends_on_id  bigint not null references business_service (id) on delete cascade,
    primary key (service_id, depends_on_id),
    check (service_id <> depends_on_id)
);
create index service_dependency_reverse_idx on service_dependency (depends_on_id);

create table business_outcome (
    id           bigint generated always as identity primary key,
    slug         text not null unique,
    name         text not null,
    description  text,
    owner        text,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now()
);

create table kpi (
    id                  bigint generated always as identity primary key,
    key                 text not null unique,
    name                text not null,
    strategic_question  text,
    business_impact     text,
    unit                text not null,
    direction           text not null check (direction in ('higher_is_better', 'lower_is_better')),
    aggregation         text not null check (aggregation in ('sum', 'avg', 'min', 'max', 'last', 'count')),
    kind                text not null check (kind in ('observed', 'ratio', 'builtin')),
    builtin_metric      text,
    numerator_kpi_id    bigint references kpi (id) on delete restrict,
    denominator_kpi_id  bigint references kpi (id) on delete restrict,
    cadence             text check (cadence in ('daily', 'weekly', 'monthly', 'quarterly', 'yearly')),
    business_owner      text,
    technology_owner    text,
    board_level         boolean not null default false,
    tags                text[] not null default '{}',
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    check ((kind = 'builtin') = (builtin_metric is not null)),
    check ((kind = 'ratio') = (numerator_kpi_id is not null and denominator_kpi_id is not null)),
    check (numerator_kpi_id is distinct from id and denominator_kpi_id is distinct from id)
);

create table escalation_step (
    kpi_id                        bigint not null references kpi (id) on delete cascade,
    position                      smallint not null check (position >= 1),
    who                           text not null,
    channel                       text not null check (channel in ('webhook', 'email')),
    address                       text not null,
    after_breached_periods        integer not null default 1 check (after_breached_periods >= 1),
    after_unacknowledged_minutes  integer check (after_unacknowledged_minutes >= 1),
    primary key (kpi_id, position)
);

create table target (
    id              bigint generated always as identity primary key,
    kpi_id          bigint not null references kpi (id) on delete cascade,
    service_id      bigint references business_service (id) on delete cascade,
    tier            smallint check (tier between 1 and 4),
    value           double precision not null,
    warning         double precision,
    effective_from  date not null,
    effective_to    date,
    created_at      timestamptz not null default now(),
    check (service_id is null or tier is null),
    check (effective_to is null or effective_to > effective_from)
);
create unique index target_scope_start_uq
    on target (kpi_id, coalesce(service_id, 0), coalesce(tier, 0), effective_from);

create table kpi_outcome (
    kpi_id      bigint not null references kpi (id) on delete cascade,
    outcome_id  bigint not null references business_outcome (id) on delete cascade,
    weight      double precision not null default 1 check (weight > 0),
    rationale   text,
    primary key (kpi_id, outcome_id)
);
create index kpi_outcome_outcome_idx on kpi_outcome (outcome_id);

create table kpi_service (
    kpi_id      bigint not null references kpi (id) on delete cascade,
    service_id  bigint not null references business_service (id) on delete cascade,
    primary key (kpi_id, service_id)
);
create index kpi_service_service_idx on kpi_service (service_id);

create table api_token (
    id          bigint generated always as identity primary key,
    name        text not null,
    token_hash  bytea not null unique,
    scopes      text[] not null,
    created_at  timestamptz not null default now(),
    revoked_at  timestamptz
);
