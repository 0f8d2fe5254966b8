-- Cost records: batch upsert and reads. service/store/costs.py wraps each statement.

-- name: lock_services
-- Ids of the named services, held until commit so a concurrent delete waits for us (and one
-- that went first leaves them unknown).
select slug, id from business_service where slug = any($1::text[]) for key share;

-- name: upsert_costs
-- One row per key (the caller drops in-batch duplicates, the last one winning). A record sent
-- again replaces amount, note and source only when one of them differs; an unchanged one is
-- not written at all. A row written by the update branch carries our lock in xmax, a freshly
-- inserted one has none: that tells the two apart, even when another writer got there first.
with incoming as (
    select *
    from unnest($1::bigint[], $2::text[], $3::date[], $4::date[], $5::numeric[], $6::text[],
                $7::text[], $8::text[], $9::bigint[])
         as t(service_id, category, period_start, period_end, amount, currency, note, source,
              initiative_id)
),
written as (
    insert into cost_record (service_id, category, period_start, period_end, amount, currency,
                             note, source, initiative_id)
    select service_id, category, period_start, period_end, amount, currency, note, source,
           initiative_id
    from incoming
    on conflict on constraint cost_record_uq do update
        set amount = excluded.amount, note = excluded.note, source = excluded.source,
            updated_at = now()
        where (cost_record.amount, cost_record.note, cost_record.source)
              is distinct from (excluded.amount, excluded.note, excluded.source)
    returning xmax = 0 as inserted
)
select (select count(*) from incoming) as records,
       (select count(*) from written where inserted) as inserted,
       (select count(*) from written where not inserted) as updated;

-- name: list_costs
-- Records overlapping [$4, $5) (either bound may be null), of initiative $7 when given,
-- oldest period first.
select c.id, s.slug as service, c.category, c.period_start, c.period_end,
       c.amount::float8 as amount, c.currency, c.note, c.source, i.key as initiative
from cost_record c
left join business_service s on s.id = c.service_id
left join initiative i on i.id = c.initiative_id
where ($1::bigint is null or c.service_id = $1)
  and ($2::text is null or c.category = $2)
  and ($3::text is null or c.currency = $3)
  and ($4::date is null or c.period_end > $4)
  and ($5::date is null or c.period_start < $5)
  and ($7::bigint is null or c.initiative_id = $7)
order by c.period_start, c.id
limit $6;

-- name: get_cost
select c.id, s.slug as service, c.category, c.period_start, c.period_end,
       c.amount::float8 as amount, c.currency, c.note, c.source, i.key as initiative
from cost_record c
left join business_service s on s.id = c.service_id
left join initiative i on i.id = c.initiative_id
where c.id = $1;

-- name: update_cost
-- Replaces every field of one record (its key included: a record sent with a wrong period
-- is corrected here, not by sending another one).
update cost_record
set service_id = $2, category = $3, period_start = $4, period_end = $5, amount = $6,
    currency = $7, note = $8, source = $9, initiative_id = $10, updated_at = now()
where id = $1
returning id;

-- name: delete_cost
delete from cost_record where id = $1 returning id;
