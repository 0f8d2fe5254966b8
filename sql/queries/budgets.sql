-- Budgets: batch upsert and reads. service/store/budgets.py wraps each statement.

-- name: upsert_budgets
-- One row per key (the caller drops in-batch duplicates, the last one winning), as
-- upsert_costs does for cost records: an unchanged budget is not written, and xmax tells an
-- updated row from an inserted one.
with incoming as (
    select *
    from unnest($1::bigint[], $2::text[], $3::date[], $4::date[], $5::numeric[], $6::text[],
                $7::text[], $8::text[], $9::bigint[])
         as t(service_id, category, period_start, period_end, amount, currency, note, source,
              initiative_id)
),
written as (
    insert into budget (service_id, category, period_start, period_end, amount, currency,
                        note, source, initiative_id)
    select service_id, category, period_start, period_end, amount, currency, note, source,
           initiative_id
    from incoming
    on conflict on constraint budget_uq do update
        set amount = excluded.amount, note = excluded.note, source = excluded.source,
            updated_at = now()
        where (budget.amount, budget.note, budget.source)
              is distinct from (excluded.amount, excluded.note, excluded.source)
    returning xmax = 0 as inserted
)
select (select count(*) from incoming) as records,
       (select count(*) from written where inserted) as inserted,
       (select count(*) from written where not inserted) as updated;

-- name: list_budgets
-- Budgets overlapping [$4, $5) (either bound may be null), oldest period first.
select b.id, s.slug as service, b.category, b.period_start, b.period_end,
       b.amount::float8 as amount, b.currency, b.note, b.source, i.key as initiative
from budget b
left join business_service s on s.id = b.service_id
left join initiative i on i.id = b.initiative_id
where ($1::bigint is null or b.service_id = $1)
  and ($2::text is null or b.category = $2)
  and ($3::text is null or b.currency = $3)
  and ($4::date is null or b.period_end > $4)
  and ($5::date is null or b.period_start < $5)
order by b.period_start, b.id
limit $6;

-- name: get_budget
select b.id, s.slug as service, b.category, b.period_start, b.period_end,
       b.amount::float8 as amount, b.currency, b.note, b.source, i.key as initiative
from budget b
left join business_service s on s.id = b.service_id
left join initiative i on i.id = b.initiative_id
where b.id = $1;

-- name: delete_budget
delete from budget where id = $1 returning id;
