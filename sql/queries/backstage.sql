-- What Backstage reads. Each statement is named; service/store/backstage.py wraps it under the
-- same name.

-- name: service_kpi_facts
-- Every service with each KPI applying to it (a row with no KPI for a service none applies
-- to) and that KPI's latest stored status for the service: the period that ended last.
select s.entity_ref, s.slug as service, k.key as kpi, k.unit, st.status, st.value, st.target,
       st.period_start, st.period_end
from business_service s
left join kpi_service ks on ks.service_id = s.id
left join kpi k on k.id = ks.kpi_id
left join lateral (
    select status, value, target, period_start, period_end
    from kpi_status
    where kpi_id = ks.kpi_id and service_id = s.id
    order by period_end desc, period_start desc, evaluated_at desc
    limit 1
) st on true
order by s.entity_ref, k.key;
