-- Where failures cluster. Each statement is named; service/store/clusters.py wraps it under the same name.

-- name: failure_clusters
-- The services $1's production changes that finished in [$2, $3) with a final status (success,
-- failed, rolled back), and their incidents whose impact started in it (of the severities $6;
-- null: every one), grouped by one dimension $4: service, tier, team (the service's), kind,
-- environment (lower case), service_attribute or change_label (the attribute or label named
-- $5). Per group: changes, failures, incidents, resolved incidents and their summed restore
-- time (resolved - started) in seconds. A change fails as in change_stats (metrics.sql), which
-- a test holds this to: failed or rolled back, undone by a later rollback, named as the cause
-- of an incident, or the first production change to ship a commit a later commit reverted.
-- An incident falls in its service's group for the service dimensions, and in the group of the
-- change named as its cause for the change dimensions (null key: no change named).
with chg as (
    select c.id, c.service_id, c.kind, lower(c.environment) as environment, c.labels,
           c.status in ('failed', 'rolled_back')
           or exists (select from change r where r.rolled_back_change_id = c.id)
           or exists (select from incident i where i.caused_by_change_id = c.id)
           or exists (select from revert_target t
                      where t.sha in (select cc.sha from change_commit cc where cc.change_id = c.id
                                      union select c.commit_sha)
                        and first_production_change(t.sha) = c.id) as failed
    from change c
    where c.service_id = any($1::bigint[])
      and c.is_production
      and c.status in ('success', 'failed', 'rolled_back')
      and c.finished_at >= $2 and c.finished_at < $3
),
inc as (
    select i.service_id, i.caused_by_change_id,
           interval_seconds(i.resolved_at - i.started_at) as restore
    from incident i
    where i.service_id = any($1::bigint[])
      and i.started_at >= $2 and i.started_at < $3
      and ($6::text[] is null or i.severity = any($6))
),
facts as (
    select c.service_id, c.kind, c.environment, c.labels,
           1 as changes, c.failed::int as failures, 0 as incidents, null::float8 as restore
    from chg c
    union all
    select i.service_id, c.kind, lower(c.environment), c.labels, 0, 0, 1, i.restore
    from inc i
    left join change c on c.id = i.caused_by_change_id
)
select case $4::text
           when 'service' then s.slug
           when 'tier' then s.tier::text
           when 'team' then t.slug
           when 'kind' then f.kind
           when 'environment' then f.environment
           when 'service_attribute' then s.attributes ->> $5::text
           when 'change_label' then f.labels ->> $5::text
       end as key,
       sum(f.changes)::int as changes,
       sum(f.failures)::int as failures,
       sum(f.incidents)::int as incidents,
       count(f.restore)::int as resolved,
       coalesce(sum(f.restore), 0)::float8 as restore_seconds
from facts f
join business_service s on s.id = f.service_id
left join team t on t.id = s.team_id
group by 1;
