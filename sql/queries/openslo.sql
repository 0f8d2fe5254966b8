-- OpenSLO documents kept beside the KPIs and services they were applied to.

-- name: slo_documents
select k.key as name, d.document from kpi_openslo d join kpi k on k.id = d.kpi_id order by k.key;

-- name: save_slo_document
insert into kpi_openslo (kpi_id, document)
select id, $2 from kpi where key = $1
on conflict (kpi_id) do update set document = excluded.document;

-- name: service_documents
select s.slug as name, d.document
from service_openslo d join business_service s on s.id = d.service_id
order by s.slug;

-- name: save_service_document
insert into service_openslo (service_id, document)
select id, $2 from business_service where slug = $1
on conflict (service_id) do update set document = excluded.document;
