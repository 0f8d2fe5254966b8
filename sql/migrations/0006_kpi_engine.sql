-- The KPI engine: cost records, evaluated statuses, escalations and the notification outbox.

-- Spend: an amount for a period [period_start, period_end) by category, for one service or the
-- whole estate. Sending the same (service, category, period, currency) again replaces the amount.
create table cost_record (
    id            bigint generated always as identity primary key,
    service_id    bigint references business_service (id) on delete restrict,
    category      text not null,
    period_start  date not null,
    period_end    date not null,
    amount        numeric(20, 2) not null,
    currency      text not null check (currency ~ '^[A-Z]{3}$'),
    note          text,
    source        text,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    check (period_end > period_start),
    constraint cost_record_uq
        unique nulls not distinct (service_id, category, period_start, period_end, currency)
);
create index cost_record_period_idx on cost_record (period_start, period_end);
create index cost_record_service_idx on cost_record (service_id, period_start);

-- Incident metrics read incidents by service and time; changes by service and finish time.
create index incident_caused_by_idx on incident (caused_by_change_id)
    where caused_by_change_id is not null;
create index incident_service_problem_idx on incident (service_id, problem_key, started_at)
    where problem_key is not null;
create index change_production_finished_idx on change (service_id, finished_at)
    where is_production;

-- A KPI evaluated for one period of its cadence, for one service or overall (service null).
-- Kept as evaluated: a target changed later does not rewrite history.
create table kpi_status (
    kpi_id          bigint not null references kpi (id) on delete cascade,
    service_id      bigint references business_service (id) on delete cascade,
    cadence         text not null check (cadence in ('daily', 'weekly', 'monthly', 'quarterly',
                                                     'yearly')),
    period_start    timestamptz not null,
    period_end      timestamptz not null,
    value           double precision,
    target          double precision,
    warning         double precision,
    target_scope    text check (target_scope in ('service', 'tier', 'global', 'default',
                                                 'services')),
    status          text not null check (status in ('met', 'at_risk', 'breached', 'no_data')),
    previous_value  double precision,
    trend           text not null check (trend in ('improving', 'steady', 'worsening', 'unknown')),
    evaluated_at    timestamptz not null default now(),
    constraint kpi_status_uq unique nulls not distinct (kpi_id, service_id, cadence, period_start)
);
create index kpi_status_latest_idx on kpi_status (kpi_id, period_start desc);

-- An escalation follows a KPI's escalation path while the KPI (for a service, or overall)
-- stays breached. At most one is open per KPI and service.
create table escalation (
    id                bigint generated always as identity primary key,
    kpi_id            bigint not null references kpi (id) on delete cascade,
    service_id        bigint references business_service (id) on delete cascade,
    state             text not null default 'open'
                      check (state in ('open', 'acknowledged', 'resolved')),
    opened_at         timestamptz not null default now(),
    opened_period     timestamptz not null,
    last_period       timestamptz not null,
    breached_periods  integer not null default 1,
    steps_fired       smallint not null default 0,
    acknowledged_at   timestamptz,
    acknowledged_by   text,
    resolved_at       timestamptz,
    resolved_by       text,
    resolution        text check (resolution in ('recovered', 'manual'))
);
create unique index escalation_open_uq on escalation (kpi_id, coalesce(service_id, 0))
    where state <> 'resolved';
create index escalation_state_idx on escalation (state, id);

create table escalation_event (
    id             bigint generated always as identity primary key,
    escalation_id  bigint not null references escalation (id) on delete cascade,
    kind           text not null check (kind in ('opened', 'breached_again', 'step', 'acknowledged',
                                                 'resolved', 'recovered')),
    position       smallint,
    at             timestamptz not null default now(),
    detail         text,
    unique (escalation_id, kind, position)
);
create index escalation_event_escalation_idx on escalation_event (escalation_id, id);

-- Notifications to deliver, at least once, with every attempt kept.
create table outbox (
    id               bigint generated always as identity primary key,
    escalation_id    bigint references escalation (id) on delete set null,
    position         smallint,
    message_id       text not null unique,
    url              text not null,
    event_type       text not null,
    payload          jsonb not null,
    state            text not null default 'pending'
                     check (state in ('pending', 'delivered', 'failed')),
    attempts         integer not null default 0,
    next_attempt_at  timestamptz not null default now(),
    delivered_at     timestamptz,
    last_error       text,
    created_at       timestamptz not null default now(),
    unique (escalation_id, position)
);
create index outbox_due_idx on outbox (next_attempt_at) where state = 'pending';

create table outbox_attempt (
    id           bigint generated always as identity primary key,
    outbox_id    bigint not null references outbox (id) on delete cascade,
    at           timestamptz not null default now(),
    status_code  integer,
    error        text,
    duration_ms  double precision not null
);
create index outbox_attempt_outbox_idx on outbox_attempt (outbox_id, id);

-- The key that signs outgoing notifications (Standard Webhooks), made once per database unless
-- the deployment supplies its own.
create table signing_key (
    name        text primary key,
    secret      bytea not null,
    created_at  timestamptz not null default now()
);
