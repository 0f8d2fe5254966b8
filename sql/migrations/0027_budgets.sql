-- Budgets: an amount planned for a whole calendar month or quarter, by category, for one
-- service or the whole estate (service null), optionally for an initiative, in one currency.
-- Sending the same (service, category, period, currency, initiative) again replaces the
-- amount, as for cost records. Budget variance, spend forecast and opex stability (builtin
-- metrics) compare them with cost records.
create table budget (
    id            bigint generated always as identity primary key,
    service_id    bigint references business_service (id) on delete restrict,
    initiative_id bigint references initiative (id) on delete restrict,
    category      text not null,
    period_start  date not null,
    period_end    date not null,
    amount        numeric(20, 2) not null,
    currency      text not null check (currency ~ '^[A-Z]{3}$'),
    note          text,
    source        text,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    constraint budget_period_in_range
        check (in_api_range(period_start) and in_api_range(period_end)),
    -- A whole calendar month, or a whole calendar quarter (January, April, July, October).
    constraint budget_period_whole
        check (extract(day from period_start) = 1
               and (period_end = (period_start + interval '1 month')::date
                    or (period_end = (period_start + interval '3 months')::date
                        and extract(month from period_start) in (1, 4, 7, 10)))),
    constraint budget_uq
        unique nulls not distinct (service_id, category, period_start, period_end, currency,
                                   initiative_id)
);
create index budget_period_idx on budget (period_start, period_end);
create index budget_service_idx on budget (service_id, period_start);
create index budget_initiative_idx on budget (initiative_id) where initiative_id is not null;
