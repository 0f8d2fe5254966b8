-- Spend and budgets for the money metrics and reports, over a list of windows: every query
-- takes the services in scope ($1, bigint[]) and the windows as two parallel arrays of starts
-- and ends ($2, $3, timestamptz[]); a window is numbered n from 1 in order.
-- service/store/money.py wraps each statement.

-- name: spend
-- Per window, spend in one currency ($4): each cost record's amount spread evenly over the
-- days of its period, counted for the days that fall in the window. $5 includes records that
-- belong to no service (the estate as a whole). $6, when given, names a service for each
-- window, which then counts that service's records only.
with w as (
    select w_start, w_end, sid, n::int
    from unnest($2::timestamptz[], $3::timestamptz[], $6::bigint[])
         with ordinality as w(w_start, w_end, sid, n)
    where w_start is not null
),
cost as (
    select c.amount::double precision as amount, c.category, c.service_id,
           c.period_start::timestamp at time zone 'UTC' as p_start,
           c.period_end::timestamp at time zone 'UTC' as p_end,
           -- Days of the period as a date difference: Postgres refuses it for an infinite
           -- date on every version (SQLSTATE 22008), where 17's infinite intervals would
           -- spread the amount over an endless period and count a silent 0.
           (c.period_end - c.period_start) * 86400.0 as p_seconds
    from cost_record c
    where c.currency = $4
      and (c.service_id = any($1::bigint[]) or ($5 and c.service_id is null))
      and c.period_start < ((select max(w_end) from w) at time zone 'UTC')::date + 1
      and c.period_end > ((select min(w_start) from w) at time zone 'UTC')::date
)
select w.n, c.category,
       sum(c.amount * extract(epoch from least(c.p_end, w.w_end) - greatest(c.p_start, w.w_start))
           / c.p_seconds) as amount,
       count(*) as records
from cost c
join w on c.p_start < w.w_end and c.p_end > w.w_start
          and (w.sid is null or c.service_id = w.sid)
group by w.n, c.category
order by w.n, c.category;

-- name: budget
-- Per window, budgets in one currency ($4), spread over their days exactly as `spend` spreads
-- cost records, with the same parameters.
with w as (
    select w_start, w_end, sid, n::int
    from unnest($2::timestamptz[], $3::timestamptz[], $6::bigint[])
         with ordinality as w(w_start, w_end, sid, n)
    where w_start is not null
),
planned as (
    select b.amount::double precision as amount, b.category, b.service_id,
           b.period_start::timestamp at time zone 'UTC' as p_start,
           b.period_end::timestamp at time zone 'UTC' as p_end,
           (b.period_end - b.period_start) * 86400.0 as p_seconds
    from budget b
    where b.currency = $4
      and (b.service_id = any($1::bigint[]) or ($5 and b.service_id is null))
      and b.period_start < ((select max(w_end) from w) at time zone 'UTC')::date + 1
      and b.period_end > ((select min(w_start) from w) at time zone 'UTC')::date
)
select w.n, p.category,
       sum(p.amount * extract(epoch from least(p.p_end, w.w_end) - greatest(p.p_start, w.w_start))
           / p.p_seconds) as amount,
       count(*) as records
from planned p
join w on p.p_start < w.w_end and p.p_end > w.w_start
          and (w.sid is null or p.service_id = w.sid)
group by w.n, p.category
order by w.n, p.category;

-- name: monthly_spend
-- Per span ($2, $3) and calendar month (UTC) within it, spend in one currency ($4): each cost
-- record's amount spread evenly over its days, counted for the days of the month that fall in
-- the span (the first and last month may be parts). One more row per span, its month null,
-- counts the distinct records behind it. $5 and $6 as for `spend`.
with w as (
    select w_start, w_end, sid, n::int
    from unnest($2::timestamptz[], $3::timestamptz[], $6::bigint[])
         with ordinality as w(w_start, w_end, sid, n)
    where w_start is not null
),
-- Months stepped as UTC timestamps: stepping a timestamptz by a month would follow the
-- session's time zone.
month_part as (
    select w.n, w.sid, m.m_start at time zone 'UTC' as month,
           greatest(m.m_start at time zone 'UTC', w.w_start) as c_start,
           least((m.m_start + interval '1 month') at time zone 'UTC', w.w_end) as c_end
    from w
    cross join lateral generate_series(date_trunc('month', w.w_start at time zone 'UTC'),
                                       w.w_end at time zone 'UTC' - interval '1 microsecond',
                                       interval '1 month') as m (m_start)
),
cost as (
    select c.id, c.amount::double precision as amount, c.service_id,
           c.period_start::timestamp at time zone 'UTC' as p_start,
           c.period_end::timestamp at time zone 'UTC' as p_end,
           (c.period_end - c.period_start) * 86400.0 as p_seconds
    from cost_record c
    where c.currency = $4
      and (c.service_id = any($1::bigint[]) or ($5 and c.service_id is null))
      and c.period_start < ((select max(w_end) from w) at time zone 'UTC')::date + 1
      and c.period_end > ((select min(w_start) from w) at time zone 'UTC')::date
)
select mp.n, mp.month,
       sum(c.amount * extract(epoch from least(c.p_end, mp.c_end) - greatest(c.p_start, mp.c_start))
           / c.p_seconds) as amount,
       count(distinct c.id) as records
from cost c
join month_part mp on c.p_start < mp.c_end and c.p_end > mp.c_start
                      and (mp.sid is null or c.service_id = mp.sid)
group by grouping sets ((mp.n, mp.month), (mp.n))
order by mp.n, mp.month nulls first;

-- name: currencies_in_scope
select distinct currency from cost_record
where service_id = any($1::bigint[]) or ($2 and service_id is null)
order by currency;

-- name: money_currencies
-- The currencies of the cost records and budgets of each service in $1 (and, with $2, of the
-- whole estate: service_id null).
select service_id, currency from cost_record
where service_id = any($1::bigint[]) or ($2 and service_id is null)
union
select service_id, currency from budget
where service_id = any($1::bigint[]) or ($2 and service_id is null)
order by service_id, currency;
