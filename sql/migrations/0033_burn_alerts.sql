-- Multi-window, multi-burn-rate alerts: a KPI's policy (its objective and rules) and the alerts
-- its rules fired, each kept with the windows and burn rates it fired and resolved at.

create table burn_policy (
    kpi_id      bigint primary key references kpi (id) on delete cascade,
    -- The objective as a share (0.999); null: the KPI's global target in effect.
    objective   double precision check (objective > 0 and objective < 1),
    -- [{"name", "severity", "burn_rate", "long_window_minutes", "short_window_minutes"}]
    rules       jsonb not null check (jsonb_typeof(rules) = 'array'),
    updated_at  timestamptz not null default now()
);

create table burn_alert (
    id                    bigint generated always as identity primary key,
    kpi_id                bigint not null references kpi (id) on delete cascade,
    rule                  text not null,
    severity              text not null check (severity in ('page', 'ticket')),
    threshold             double precision not null,
    long_window_minutes   integer not null check (long_window_minutes > 0),
    short_window_minutes  integer not null check (short_window_minutes > 0),
    objective             double precision not null,
    fired_at              timestamptz not null,
    long_burn_rate        double precision not null,
    short_burn_rate       double precision not null,
    resolved_at           timestamptz,
    resolved_long_burn_rate   double precision,
    resolved_short_burn_rate  double precision,
    check (resolved_at is null or resolved_at >= fired_at)
);
-- One firing alert per KPI and rule, whichever process evaluates.
create unique index burn_alert_firing_uq on burn_alert (kpi_id, rule) where resolved_at is null;
create index burn_alert_kpi_idx on burn_alert (kpi_id, id);
