-- Initiatives (technology programs), their links to services and KPIs, and their spend.
-- service/store/initiatives.py wraps each statement under the same name.

-- name: list_initiatives
-- Every initiative (or those with the keys in $1) with its service slugs and KPI links.
select i.id, i.key, i.name, i.owner, i.sponsor, i.status, i.started_on, i.delivered_on,
       i.budget::float8 as budget, i.currency, i.review_periods,
       coalesce((select array_agg(s.slug order by s.slug)
                 from initiative_service x join business_service s on s.id = x.service_id
                 where x.initiative_id = i.id), '{}') as services,
       coalesce((select jsonb_agg(jsonb_build_object(
                            'kpi', k.key, 'service', s.slug,
                            'expected_change', l.expected_change,
                            'expected_by', l.expected_by, 'rationale', l.rationale)
                        order by l.id)
                 from initiative_kpi l
                 join kpi k on k.id = l.kpi_id
                 left join business_service s on s.id = l.service_id
                 where l.initiative_id = i.id), '[]') as kpis
from initiative i
where ($1::text[] is null or i.key = any($1))
  and ($2::bigint[] is null or i.id = any($2))
order by i.key;

-- name: lock_initiatives
-- Ids of the named initiatives, held until commit so a concurrent delete waits for us.
select key, id from initiative where key = any($1::text[]) for key share;

-- name: insert_initiative
insert into initiative (key, name, owner, sponsor, status, started_on, delivered_on, budget,
                        currency, review_periods)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
returning id;

-- name: update_initiative
update initiative
set name = $2, owner = $3, sponsor = $4, status = $5, started_on = $6, delivered_on = $7,
    budget = $8, currency = $9, review_periods = $10, updated_at = now()
where key = $1
returning id;

-- name: delete_initiative
delete from initiative where key = $1 returning id;

-- name: delete_initiative_links
-- Both kinds of link of one initiative, before they are written again.
with gone as (delete from initiative_service where initiative_id = $1)
delete from initiative_kpi where initiative_id = $1;

-- name: insert_initiative_services
insert into initiative_service (initiative_id, service_id)
select $1, unnest($2::bigint[]);

-- name: insert_initiative_kpis
insert into initiative_kpi (initiative_id, kpi_id, service_id, expected_change, expected_by,
                            rationale)
select $1, kpi_id, service_id, expected_change, expected_by, rationale
from unnest($2::bigint[], $3::bigint[], $4::float8[], $5::date[], $6::text[])
     as t(kpi_id, service_id, expected_change, expected_by, rationale);

-- name: initiative_spend
-- What the cost records carrying an initiative add up to, per currency.
select currency, sum(amount)::float8 as amount, count(*)::int as records
from cost_record
where initiative_id = $1
group by currency
order by currency;

-- name: initiatives_by_service
-- {service id: ids of the initiatives that change it}, for a page of services at once.
select service_id as key, initiative_id as id
from initiative_service
where service_id = any($1::bigint[])
order by id;

-- name: initiatives_by_kpi
-- {KPI id: ids of the initiatives meant to move it}, for a page of KPIs at once.
select distinct kpi_id as key, initiative_id as id
from initiative_kpi
where kpi_id = any($1::bigint[])
order by id;
