-- Incident and change timelines, and the records rebuilt from them (ingest_incident_delivery
-- also logs the delivery that brings an incident event: one round trip).

-- name: claim_incident_delivery
-- A delivery of one incident event: logged as applied and added to the incident's timeline
-- (see the function, in sql/migrations/0017_delivery_signed_keys.sql).
select delivery_id, service_id, incident_id, current_service_id, timeline
from ingest_incident_delivery($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13);

-- name: upsert_incident
insert into incident (source_id, external_id, status) values ($1, $2, 'open')
on conflict (source_id, external_id) do update set updated_at = now()
returning id, service_id;

-- name: insert_incident_event_timeline
-- Adds the event to the incident's timeline (once per event key), then reads the whole
-- timeline's data in insertion order, in one round trip. The statement's own snapshot does
-- not see the row it inserts, so that row is added from RETURNING; ids grow in insertion order
-- (events of an incident are inserted under its row lock, taken by upsert_incident), so it
-- sorts last, as it would if read back by a later statement.
with added as (
    insert into incident_event (incident_id, event_key, step, occurred_at, data, delivery_id)
    values ($1, $2, $3, $4, $5, $6)
    on conflict (incident_id, event_key) do nothing
    returning id, data
)
select data from (
    select id, data from incident_event where incident_id = $1
    union all
    select id, data from added
) timeline
order by id;

-- name: save_incident
-- $18, $19: the starts and ends (null: still open) of the outage stretches.
update incident
set service_id = $2, severity = $3, priority = $4, status = $5, title = $6, url = $7,
    started_at = $8, detected_at = $9, acknowledged_at = $10, resolved_at = $11,
    users_affected = $12, cost_estimate = $13, problem_key = $14, caused_by_ref = $15,
    caused_by_change_id = $16, link_kind = $17,
    outage = (select coalesce(range_agg(tstzrange(s, e)), '{}')
              from unnest($18::timestamptz[], $19::timestamptz[]) as o (s, e)),
    updated_at = now()
where id = $1;

-- name: save_incident_inferring_change
-- update_incident, linked (marked inferred) to the last successful production change of its
-- service within $16 minutes before its impact start ($8); no link when there is none. Of
-- changes finished at the same instant, the one with the greatest external id is taken, so
-- the link never depends on the order deliveries arrived in.
with inferred as (
    select id from change
    where service_id = $2 and is_production and status = 'success'
      and finished_at <= $8 and finished_at > $8 - make_interval(mins => $16)
    order by finished_at desc, external_id desc, source_id
    limit 1
)
update incident
set service_id = $2, severity = $3, priority = $4, status = $5, title = $6, url = $7,
    started_at = $8, detected_at = $9, acknowledged_at = $10, resolved_at = $11,
    users_affected = $12, cost_estimate = $13, problem_key = $14, caused_by_ref = $15,
    caused_by_change_id = (select id from inferred),
    link_kind = case when exists (select from inferred) then 'inferred' end,
    outage = (select coalesce(range_agg(tstzrange(s, e)), '{}')
              from unnest($17::timestamptz[], $18::timestamptz[]) as o (s, e)),
    updated_at = now()
where id = $1;

-- name: relink_inferred_around_change
-- After change $1 was saved: the incidents whose inferred cause it may have changed are
-- linked again, so an incident posted before the deploy that preceded it gets the same link
-- as one posted after. Those are the incidents inferred from it so far, and those of its
-- service whose impact started within their source's inference window after it finished.
-- Each gets the last successful production change of its service within the window before
-- its impact start (as update_incident_inferring_change), or none. Incidents that name a
-- cause themselves, and those of sources with infer_links off, are left alone.
with candidate as (
    select i.id, i.service_id, i.started_at, so.infer_window_minutes as minutes
    from incident i
    join source so on so.id = i.source_id
    where so.infer_links and i.caused_by_ref is null and i.started_at is not null
      and ((i.caused_by_change_id = $1 and i.link_kind = 'inferred')
           or exists (
               select from change c
               where c.id = $1 and c.service_id = i.service_id and c.finished_at is not null
                 and i.started_at >= c.finished_at
                 and i.started_at < c.finished_at + make_interval(mins => so.infer_window_minutes)))
    order by i.id
    for update of i
),
best as (
    select a.id,
           (select c.id from change c
            where c.service_id = a.service_id and c.is_production and c.status = 'success'
              and c.finished_at <= a.started_at
              and c.finished_at > a.started_at - make_interval(mins => a.minutes)
            order by c.finished_at desc, c.external_id desc, c.source_id
            limit 1) as change_id
    from candidate a
)
update incident i
set caused_by_change_id = b.change_id,
    link_kind = case when b.change_id is not null then 'inferred' end,
    updated_at = now()
from best b
where i.id = b.id and i.caused_by_change_id is distinct from b.change_id;

-- name: upsert_change
insert into change (source_id, external_id, kind, status) values ($1, $2, 'deploy', 'in_progress')
on conflict (source_id, external_id) do update set updated_at = now()
returning id, service_id;

-- name: insert_change_event_timeline
-- Adds the event to the change's timeline (once per event key), then reads the whole
-- timeline's data: as insert_incident_event_timeline, under the row lock of upsert_change.
with added as (
    insert into change_event (change_id, event_key, status, occurred_at, data, delivery_id)
    values ($1, $2, $3, $4, $5, $6)
    on conflict (change_id, event_key) do nothing
    returning id, data
)
select data from (
    select id, data from change_event where change_id = $1
    union all
    select id, data from added
) timeline
order by id;

-- name: update_change
update change
set service_id = $2, environment = $3, is_production = $4, kind = $5, status = $6,
    started_at = $7, finished_at = $8, commit_sha = $9, title = $10, url = $11,
    rolls_back_previous = $12, labels = $13, updated_at = now()
where id = $1;

-- name: relink_rollbacks_around_change
-- After change $1 was saved: the rollbacks that name no deploy, of its service and environment,
-- are linked again (marked inferred) to the last successful production deploy of that service
-- in that environment that finished before them, so a rollback posted before the deploy it
-- undid gets the same link as one posted after. Of deploys finished at the same instant, the
-- one with the greatest external id is taken (the link never depends on arrival order).
with saved as (
    select service_id, lower(environment) as environment from change where id = $1
),
rollback as (
    select r.id, r.service_id, lower(r.environment) as environment,
           coalesce(r.finished_at, r.started_at) as at
    from change r, saved
    where r.rolls_back_previous and r.service_id = saved.service_id
      and lower(r.environment) = saved.environment
    order by r.id
    for update of r
),
best as (
    select r.id,
           (select d.id from change d
            where d.service_id = r.service_id and lower(d.environment) = r.environment
              and d.is_production and d.status = 'success' and d.kind <> 'rollback'
              and d.finished_at < r.at
            order by d.finished_at desc, d.external_id desc, d.source_id
            limit 1) as change_id
    from rollback r
)
update change c
set rolled_back_change_id = b.change_id,
    rollback_link_kind = case when b.change_id is not null then 'inferred' end
from best b
where c.id = b.id and c.rolled_back_change_id is distinct from b.change_id;

-- name: insert_change_commits
-- The commits change $1 shipped ($2); those recorded already are kept.
insert into change_commit (change_id, sha)
select $1, sha from unnest($2::text[]) as s (sha)
on conflict do nothing;

-- name: save_commit
-- The earliest time reported for a commit is kept.
insert into commit_time (sha, committed_at, repo) values ($1, $2, $3)
on conflict (sha) do update set committed_at = least(commit_time.committed_at, excluded.committed_at),
                                repo = coalesce(commit_time.repo, excluded.repo);

-- name: change_by_ref
-- A change named by its external id, or by the commit it deployed (a sha or a prefix of 7+).
select id from change
where external_id = $1
   or commit_sha = lower($1)
   or (length($1) >= 7 and starts_with(commit_sha, lower($1)))
order by (external_id = $1) desc, finished_at desc nulls last, id desc
limit 1;

-- name: link_waiting_incidents
-- Incidents that named this change (by id or sha) before it arrived.
update incident
set caused_by_change_id = $1, link_kind = 'explicit', updated_at = now()
where caused_by_change_id is null and caused_by_ref is not null
  and (caused_by_ref = $2
       or ($3::text is not null and (lower(caused_by_ref) = $3
            or (length(caused_by_ref) >= 7 and starts_with($3, lower(caused_by_ref))))));

-- name: list_incidents
select i.id, so.name as source, i.external_id, s.slug as service, i.severity, i.priority,
       i.status, i.title, i.url, i.started_at, i.detected_at, i.acknowledged_at, i.resolved_at,
       i.users_affected, i.cost_estimate, i.problem_key, i.caused_by_ref as caused_by,
       i.caused_by_change_id, i.link_kind, i.service_id
from incident i
join source so on so.id = i.source_id
left join business_service s on s.id = i.service_id
where ($1::bigint[] is null or i.id = any($1))
  and ($2::bigint[] is null or i.service_id = any($2))
  and ($3::timestamptz is null or coalesce(i.resolved_at, 'infinity') >= $3)
  and ($4::timestamptz is null or i.started_at < $4)
  and ($5::text[] is null or i.severity = any($5))
  and ($6::text[] is null or i.status = any($6))
  and ($7::bigint is null or i.id < $7)
order by i.id desc
limit $8;

-- name: incident_timeline
select incident_id as key, occurred_at as at, step as what, event_key, recorded_at, delivery_id
from incident_event where incident_id = any($1::bigint[]) order by occurred_at, id;

-- name: list_changes
select c.id, so.name as source, c.external_id, s.slug as service, c.environment,
       c.is_production, c.kind, c.status, c.started_at, c.finished_at, c.commit_sha,
       ct.committed_at as commit_time, c.title, c.url, c.rolled_back_change_id,
       c.rollback_link_kind, c.labels, c.service_id
from change c
join source so on so.id = c.source_id
left join business_service s on s.id = c.service_id
left join commit_time ct on ct.sha = c.commit_sha
where ($1::bigint[] is null or c.id = any($1))
  and ($2::bigint[] is null or c.service_id = any($2))
  and ($3::timestamptz is null or coalesce(c.finished_at, 'infinity') >= $3)
  and ($4::timestamptz is null or coalesce(c.started_at, c.finished_at) < $4)
  and ($5::text[] is null or c.environment = any($5))
  and ($6::text[] is null or c.status = any($6))
  and ($7::bigint is null or c.id < $7)
order by c.id desc
limit $8;

-- name: change_timeline
select change_id as key, occurred_at as at, status as what, event_key, recorded_at, delivery_id
from change_event where change_id = any($1::bigint[]) order by occurred_at, id;

-- name: incidents_caused_by
select caused_by_change_id as key, id from incident
where caused_by_change_id = any($1::bigint[]) order by id;

-- name: incident_ref
select i.id, so.name as source, i.external_id
from incident i join source so on so.id = i.source_id where i.id = $1;

-- name: incident_id_by_external_id
select id from incident where source_id = $1 and external_id = $2;

-- name: change_id_by_external_id
select id from change where source_id = $1 and external_id = $2;

-- name: incident_pages_by_service
-- `list_incidents` of several services ($1), newest first, a page of at most $7 each: one
-- index walk per service, however many incidents the others have.
select p.*
from unnest($1::bigint[]) as wanted(service_id)
cross join lateral (
    select i.id, so.name as source, i.external_id, s.slug as service, i.severity, i.priority,
           i.status, i.title, i.url, i.started_at, i.detected_at, i.acknowledged_at,
           i.resolved_at, i.users_affected, i.cost_estimate, i.problem_key,
           i.caused_by_ref as caused_by, i.caused_by_change_id, i.link_kind, i.service_id
    from incident i
    join source so on so.id = i.source_id
    join business_service s on s.id = i.service_id
    where i.service_id = wanted.service_id
      and ($2::timestamptz is null or coalesce(i.resolved_at, 'infinity') >= $2)
      and ($3::timestamptz is null or i.started_at < $3)
      and ($4::text[] is null or i.severity = any($4))
      and ($5::text[] is null or i.status = any($5))
      and ($6::bigint is null or i.id < $6)
    order by i.id desc
    limit $7
) p;

-- name: change_pages_by_service
-- `list_changes` of several services ($1), newest first, a page of at most $7 each.
select p.*
from unnest($1::bigint[]) as wanted(service_id)
cross join lateral (
    select c.id, so.name as source, c.external_id, s.slug as service, c.environment,
           c.is_production, c.kind, c.status, c.started_at, c.finished_at, c.commit_sha,
           ct.committed_at as commit_time, c.title, c.url, c.rolled_back_change_id,
           c.rollback_link_kind, c.labels, c.service_id
    from change c
    join source so on so.id = c.source_id
    join business_service s on s.id = c.service_id
    left join commit_time ct on ct.sha = c.commit_sha
    where c.service_id = wanted.service_id
      and ($2::timestamptz is null or coalesce(c.finished_at, 'infinity') >= $2)
      and ($3::timestamptz is null or coalesce(c.started_at, c.finished_at) < $3)
      and ($4::text[] is null or c.environment = any($4))
      and ($5::text[] is null or c.status = any($5))
      and ($6::bigint is null or c.id < $6)
    order by c.id desc
    limit $7
) p;

-- name: save_commit_request
-- The request ($2) that merged commit $1.
insert into commit_request (request, sha) values ($2, $1) on conflict do nothing;

-- name: save_commit_reverts
-- What commit $1 reverts ($2: shas or request refs) and why ($3); the latest reason wins.
insert into commit_revert (revert_sha, target, reason)
select $1, target, $3 from unnest($2::text[]) as t (target)
on conflict (revert_sha, target) do update set reason = excluded.reason;

-- name: change_revert_reasons
-- Why each change of $1 counts as failed (a later commit reverted a commit it was the first
-- production change to ship: reverted_by) and as rework (it shipped a revert: reverts).
with shas as (
    select c.id as change_id, c.commit_sha as sha
    from change c where c.id = any($1::bigint[]) and c.commit_sha is not null
    union
    select cc.change_id, cc.sha from change_commit cc where cc.change_id = any($1::bigint[])
),
reverted as (
    select s.change_id, string_agg(distinct r.reason, '; ') as reason
    from shas s
    join revert_target t on t.sha = s.sha
    join commit_revert r on r.revert_sha = t.revert_sha and r.target = t.target
    where first_production_change(t.sha) = s.change_id
    group by s.change_id
),
reverting as (
    select s.change_id, string_agg(distinct r.reason, '; ') as reason
    from shas s join commit_revert r on r.revert_sha = s.sha
    group by s.change_id
)
select coalesce(a.change_id, b.change_id) as change_id, a.reason as reverted_by,
       b.reason as reverts
from reverted a full join reverting b on b.change_id = a.change_id;
