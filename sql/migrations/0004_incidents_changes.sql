-- Incidents and changes from ITSM, alerting and CI/CD tools: the sources that send them, a log
-- of every delivery (raw, with its outcome), the timelines of events, and the records rebuilt
-- from those timelines.

create table source (
    id                    bigint generated always as identity primary key,
    name                  text not null unique,
    kind                  text not null check (kind in ('github', 'gitlab', 'pagerduty', 'opsgenie',
                                                        'alertmanager', 'jira', 'api')),
    -- The shared secret (HMAC key, token or password). Never selected by read queries.
    secret                text,
    username              text,
    severity_map          jsonb not null default '{}',
    service_rules         jsonb not null default '[]',
    production_envs       text[] not null default '{production,prod}',
    incident_issue_types  text[] not null default '{incident}',
    infer_links           boolean not null default true,
    infer_window_minutes  integer not null default 240 check (infer_window_minutes > 0),
    created_at            timestamptz not null default now(),
    updated_at            timestamptz not null default now()
);

create table delivery (
    id            bigint generated always as identity primary key,
    source_id     bigint not null references source (id) on delete cascade,
    delivery_key  text,
    event_type    text,
    received_at   timestamptz not null default now(),
    headers       jsonb not null default '{}',
    body          bytea,
    status        text not null check (status in ('applied', 'unmapped', 'invalid', 'rejected')),
    detail        text,
    applied_at    timestamptz,
    attempts      integer not null default 1
);
-- Rejected deliveries (bad signature) do not claim the key: the genuine one may follow.
create unique index delivery_key_uq on delivery (source_id, delivery_key)
    where delivery_key is not null and status <> 'rejected';
create index delivery_status_idx on delivery (status, id);

create table change (
    id             bigint generated always as identity primary key,
    source_id      bigint not null references source (id) on delete restrict,
    external_id    text not null,
    service_id     bigint references business_service (id) on delete set null,
    environment    text,
    is_production  boolean not null default false,
    kind           text not null check (kind in ('deploy', 'config', 'patch', 'rollback', 'hotfix')),
    status         text not null check (status in ('in_progress', 'success', 'failed',
                                                   'rolled_back', 'canceled')),
    started_at     timestamptz,
    finished_at    timestamptz,
    commit_sha     text,
    title          text,
    url            text,
    updated_at     timestamptz not null default now(),
    unique (source_id, external_id)
);
create index change_service_finished_idx on change (service_id, finished_at);
create index change_commit_idx on change (commit_sha);

create table change_event (
    id           bigint generated always as identity primary key,
    change_id    bigint not null references change (id) on delete cascade,
    event_key    text not null,
    status       text not null,
    occurred_at  timestamptz not null,
    data         jsonb not null,
    delivery_id  bigint references delivery (id) on delete set null,
    recorded_at  timestamptz not null default now(),
    unique (change_id, event_key)
);

create table incident (
    id               bigint generated always as identity primary key,
    source_id        bigint not null references source (id) on delete restrict,
    external_id      text not null,
    service_id       bigint references business_service (id) on delete set null,
    severity         text check (severity in ('sev1', 'sev2', 'sev3', 'sev4', 'sev5')),
    priority         text,
    status           text not null check (status in ('open', 'acknowledged', 'resolved')),
    title            text,
    url              text,
    started_at       timestamptz,
    detected_at      timestamptz,
    acknowledged_at  timestamptz,
    resolved_at      timestamptz,
    users_affected   bigint,
    cost_estimate    double precision,
    problem_key      text,
    caused_by_change_id  bigint references change (id) on delete set null,
    caused_by_ref    text,
    link_kind        text check (link_kind in ('explicit', 'inferred')),
    updated_at       timestamptz not null default now(),
    unique (source_id, external_id)
);
create index incident_service_started_idx on incident (service_id, started_at);

create table incident_event (
    id           bigint generated always as identity primary key,
    incident_id  bigint not null references incident (id) on delete cascade,
    event_key    text not null,
    step         text not null,
    occurred_at  timestamptz not null,
    data         jsonb not null,
    delivery_id  bigint references delivery (id) on delete set null,
    recorded_at  timestamptz not null default now(),
    unique (incident_id, event_key)
);

create table commit_time (
    sha           text primary key,
    committed_at  timestamptz not null,
    repo          text
);

-- The built-in source for the generic API and scripts.
insert into source (name, kind) values ('api', 'api');
