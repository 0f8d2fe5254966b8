-- Error-budget policies (one per service) and change annotations (gate overrides).
-- service/store/deploy_gate.py wraps each statement.

-- name: put_policy
insert into error_budget_policy (service_id, kpi_id, window_days, freeze_when_exhausted,
                                 passing_change_kinds, updated_at)
values ($1, $2, $3, $4, $5, now())
on conflict (service_id) do update
    set kpi_id = excluded.kpi_id, window_days = excluded.window_days,
        freeze_when_exhausted = excluded.freeze_when_exhausted,
        passing_change_kinds = excluded.passing_change_kinds, updated_at = now();

-- name: policies_by_service
-- The policies of the services $1, with the key of the availability KPI each watches.
select p.service_id, s.slug as service, k.key as kpi, p.window_days,
       p.freeze_when_exhausted as freeze_when_budget_exhausted,
       p.passing_change_kinds as passing_change_types
from error_budget_policy p
join business_service s on s.id = p.service_id
left join kpi k on k.id = p.kpi_id
where p.service_id = any($1::bigint[])
order by p.service_id;

-- name: delete_policy
delete from error_budget_policy where service_id = $1 returning service_id;

-- name: create_annotation
insert into change_annotation (service_id, kind, change_kind, reason, reference, gate,
                               created_by, created_at)
values ($1, $2, $3, $4, $5, $6, $7, $8)
returning id;

-- name: annotations_by_service
-- Annotations of the services $1, newest first, at most $2.
select a.id, s.slug as service, a.kind, a.change_kind as change_type, a.reason, a.reference, a.gate,
       a.created_by, a.created_at, a.service_id
from change_annotation a
join business_service s on s.id = a.service_id
where a.service_id = any($1::bigint[])
order by a.created_at desc, a.id desc
limit $2;

-- name: get_annotation
select a.id, s.slug as service, a.kind, a.change_kind as change_type, a.reason, a.reference,
       a.gate, a.created_by, a.created_at, a.service_id
from change_annotation a
join business_service s on s.id = a.service_id
where a.id = $1;

-- name: annotation_pages_by_service
-- `annotations_by_service` of several services ($1) a page each: newest first, those after
-- the annotation $2 (null: from the newest) in that order, at most $3 each; one index walk
-- per service, however many annotations the others have.
select p.*
from unnest($1::bigint[]) as wanted(service_id)
cross join lateral (
    select a.id, s.slug as service, a.kind, a.change_kind as change_type, a.reason,
           a.reference, a.gate, a.created_by, a.created_at, a.service_id
    from change_annotation a
    join business_service s on s.id = a.service_id
    where a.service_id = wanted.service_id
      and ($2::bigint is null
           or (a.created_at, a.id) < (select c.created_at, c.id
                                      from change_annotation c where c.id = $2))
    order by a.created_at desc, a.id desc
    limit $3
) p;
