-- The graph's edges: KPIs to outcomes and to services, and what follows from them. Each statement is named; service/store/links.py wraps it under the same name.

-- name: upsert_kpi_outcome
insert into kpi_outcome (kpi_id, outcome_id, weight, rationale) values ($1, $2, $3, $4)
on conflict (kpi_id, outcome_id) do update set weight = excluded.weight,
                                               rationale = excluded.rationale;

-- name: delete_kpi_outcome
delete from kpi_outcome where kpi_id = $1 and outcome_id = $2 returning kpi_id;

-- name: list_kpi_outcomes
select k.key as kpi, o.slug as outcome, ko.weight, ko.rationale
from kpi_outcome ko join kpi k on k.id = ko.kpi_id join business_outcome o on o.id = ko.outcome_id
where ($1::text is null or k.key = $1) and ($2::text is null or o.slug = $2)
order by k.key, o.slug;

-- name: outcome_links_by_kpi
select ko.kpi_id as key, ko.outcome_id as id, ko.weight, ko.rationale
from kpi_outcome ko where ko.kpi_id = any($1::bigint[]);

-- name: kpi_links_by_outcome
select ko.outcome_id as key, ko.kpi_id as id, ko.weight, ko.rationale
from kpi_outcome ko where ko.outcome_id = any($1::bigint[]);

-- name: insert_kpi_service
insert into kpi_service (kpi_id, service_id) values ($1, $2) on conflict do nothing;

-- name: delete_kpi_service
delete from kpi_service where kpi_id = $1 and service_id = $2 returning kpi_id;

-- name: list_kpi_services
select k.key as kpi, s.slug as service
from kpi_service ks join kpi k on k.id = ks.kpi_id join business_service s on s.id = ks.service_id
where ($1::text is null or k.key = $1) order by k.key, s.slug;

-- name: services_by_kpi
select kpi_id as key, service_id as id from kpi_service where kpi_id = any($1::bigint[]);

-- name: kpis_by_service
select service_id as key, kpi_id as id from kpi_service where service_id = any($1::bigint[]);

-- name: outcomes_by_service
-- Outcomes a service serves: through the KPIs that apply to it.
select distinct ks.service_id as key, ko.outcome_id as id
from kpi_service ks join kpi_outcome ko on ko.kpi_id = ks.kpi_id
where ks.service_id = any($1::bigint[]);

-- name: services_by_outcome
select distinct ko.outcome_id as key, ks.service_id as id
from kpi_outcome ko join kpi_service ks on ks.kpi_id = ko.kpi_id
where ko.outcome_id = any($1::bigint[]);
