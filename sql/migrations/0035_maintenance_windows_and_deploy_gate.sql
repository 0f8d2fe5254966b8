-- Maintenance windows, error-budget policies and change annotations.
--
-- A maintenance window is planned downtime announced for a service: outage time inside it is
-- left out of availability and the error budget (reported apart as planned downtime). A
-- window must be announced before it starts and cannot be changed or deleted once started,
-- since that would rewrite figures already reported. The trigger compares with the
-- service's clock, passed as the transaction-local setting `kpi.clock` (the database's own
-- now() when unset), and raises check_violation naming the constraint and, in its detail,
-- the field, so the API answers a 409 naming it.
create table maintenance_window (
    id          bigint generated always as identity primary key,
    service_id  bigint not null references business_service (id) on delete cascade,
    starts_at   timestamptz not null,
    ends_at     timestamptz not null,
    reason      text not null,
    created_by  text not null,
    created_at  timestamptz not null default now(),
    constraint maintenance_window_ends_after_start check (ends_at > starts_at),
    constraint maintenance_window_in_range
        check (in_api_range(starts_at) and in_api_range(ends_at))
);
create index maintenance_window_service_idx on maintenance_window (service_id, starts_at);

create function kpi_clock() returns timestamptz language sql stable as $$
    select coalesce(nullif(current_setting('kpi.clock', true), '')::timestamptz, now())
$$;

create function maintenance_window_immutable() returns trigger language plpgsql as $$
declare
    clock timestamptz := kpi_clock();
begin
    if tg_op = 'DELETE' then
        -- Deleting the service takes its windows with it.
        if old.starts_at <= clock
           and exists (select 1 from business_service where id = old.service_id) then
            raise exception 'maintenance window % started at %: it can no longer be deleted',
                old.id, old.starts_at
                using errcode = 'check_violation', constraint = 'maintenance_window_started',
                      detail = 'starts_at';
        end if;
        return old;
    end if;
    if tg_op = 'UPDATE' and old.starts_at <= clock then
        raise exception 'maintenance window % started at %: it can no longer be changed',
            old.id, old.starts_at
            using errcode = 'check_violation', constraint = 'maintenance_window_started',
                  detail = case when new.starts_at is distinct from old.starts_at
                                then 'starts_at'
                                when new.ends_at is distinct from old.ends_at then 'ends_at'
                                else 'reason' end;
    end if;
    if new.starts_at <= clock then
        raise exception 'a maintenance window must start after now (%)', clock
            using errcode = 'check_violation', constraint = 'maintenance_window_announced',
                  detail = 'starts_at';
    end if;
    return new;
end;
$$;

create trigger maintenance_window_immutable
    before insert or update or delete on maintenance_window
    for each row execute function maintenance_window_immutable();

-- A service's error-budget policy: while the budget of its availability objective over the
-- trailing window is spent, production changes are frozen, except the change kinds that pass
-- (hotfixes and rollbacks by default). One per service.
create table error_budget_policy (
    service_id          bigint primary key references business_service (id) on delete cascade,
    kpi_id              bigint references kpi (id) on delete restrict,
    window_days         integer not null default 30 check (window_days between 1 and 366),
    freeze_when_exhausted boolean not null default true,
    passing_change_kinds text[] not null default array['hotfix', 'rollback'],
    updated_at          timestamptz not null default now(),
    constraint error_budget_policy_kinds
        check (passing_change_kinds <@ array['deploy', 'config', 'patch', 'rollback', 'hotfix'])
);

-- Notes on a service's change timeline; `gate_override` records a pipeline that passed a
-- frozen deploy gate with a reason, with the gate's answer at that moment.
create table change_annotation (
    id          bigint generated always as identity primary key,
    service_id  bigint not null references business_service (id) on delete cascade,
    kind        text not null check (kind in ('gate_override')),
    change_kind text not null
        check (change_kind in ('deploy', 'config', 'patch', 'rollback', 'hotfix')),
    reason      text not null,
    reference   text,
    gate        jsonb not null,
    created_by  text not null,
    created_at  timestamptz not null default now()
);
create index change_annotation_service_idx on change_annotation (service_id, created_at);
