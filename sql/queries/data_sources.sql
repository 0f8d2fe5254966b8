-- Data sources (Prometheus servers) and the SLIs of ratio KPIs evaluated from them. Only the
-- statements named *_with_secret read the secret column.

-- name: list_data_sources
select d.id, d.name, d.kind, d.url, d.auth, d.username, d.secret is not null as has_secret,
       d.queries_ok, d.queries_failed, d.last_success_at, d.last_error, d.last_error_at,
       coalesce((select jsonb_agg(jsonb_build_object(
                    'kpi', k.key, 'next_bucket', s.next_bucket, 'last_run_at', s.last_run_at,
                    'points', s.points, 'gaps', s.gaps, 'last_problem', s.last_problem,
                    'last_problem_at', s.last_problem_at) order by k.key)
                 from kpi_sli s join kpi k on k.id = s.kpi_id
                 where s.data_source_id = d.id), '[]') as slis
from data_source d
where ($1::text is null or d.name = $1)
order by d.name;

-- name: data_sources_with_secret
select d.id, d.name, d.kind, d.url, d.auth, d.username, d.secret is not null as has_secret,
       d.queries_ok, d.queries_failed, d.last_success_at, d.last_error, d.last_error_at,
       d.secret
from data_source d
where d.id = any($1::bigint[]);

-- name: create_data_source
insert into data_source (name, kind, url, auth, username, secret)
values ($1, $2, $3, $4, $5, $6) returning id;

-- name: update_data_source
-- A null secret keeps the current one, unless auth is none (which keeps none).
update data_source
set kind = $2, url = $3, auth = $4, username = $5,
    secret = case when $4 = 'none' then null else coalesce($6, secret) end, updated_at = now()
where name = $1 returning id;

-- name: delete_data_source
delete from data_source where name = $1 returning id;

-- name: data_source_id
select id from data_source where name = $1;

-- name: upsert_sli
-- Changing what the SLI asks (source, queries, bucket or service) starts it over from the
-- backfill window: its next bucket becomes null.
insert into kpi_sli (kpi_id, data_source_id, service_id, good_query, total_query, bucket)
values ($1, $2, $3, $4, $5, $6)
on conflict (kpi_id) do update
set data_source_id = excluded.data_source_id, service_id = excluded.service_id,
    good_query = excluded.good_query, total_query = excluded.total_query,
    bucket = excluded.bucket,
    next_bucket = case
        when (kpi_sli.data_source_id, kpi_sli.service_id, kpi_sli.good_query,
              kpi_sli.total_query, kpi_sli.bucket)
             is not distinct from
             (excluded.data_source_id, excluded.service_id, excluded.good_query,
              excluded.total_query, excluded.bucket)
        then kpi_sli.next_bucket end;

-- name: delete_sli
delete from kpi_sli where kpi_id = $1;

-- name: sli_sharing_sides
-- Another SLI's KPI writing into one of the KPIs $2 (its numerator or denominator).
select k.key from kpi_sli s join kpi k on k.id = s.kpi_id
where s.kpi_id <> $1
  and (k.numerator_kpi_id = any($2::bigint[]) or k.denominator_kpi_id = any($2::bigint[]))
order by k.key limit 1;

-- name: list_slis
-- Every SLI with what its evaluation needs: the KPIs its points go to and its service.
select s.kpi_id, k.key, n.key as numerator, d.key as denominator, bs.slug as service,
       s.data_source_id, s.good_query, s.total_query, s.bucket, s.next_bucket
from kpi_sli s
join kpi k on k.id = s.kpi_id
join kpi n on n.id = k.numerator_kpi_id
join kpi d on d.id = k.denominator_kpi_id
left join business_service bs on bs.id = s.service_id
order by k.key;

-- name: record_query
-- One query's outcome on its data source: counted, and the last success or error kept.
update data_source
set queries_ok = queries_ok + case when $2::text is null then 1 else 0 end,
    queries_failed = queries_failed + case when $2::text is null then 0 else 1 end,
    last_success_at = case when $2::text is null then $3::timestamptz else last_success_at end,
    last_error = coalesce($2::text, last_error),
    last_error_at = case when $2::text is null then last_error_at else $3::timestamptz end
where id = $1;

-- name: record_sli_round
-- A round's outcome on an SLI: where the next starts, what it stored and gave up on, and its
-- last problem (kept until a round meets none).
update kpi_sli
set next_bucket = coalesce($2::timestamptz, next_bucket), points = points + $3,
    gaps = gaps + $4, last_problem = $5::text,
    last_problem_at = case when $5::text is null then null else $6::timestamptz end,
    last_run_at = $6::timestamptz
where kpi_id = $1;

-- name: query_counts
select name, queries_ok, queries_failed from data_source order by name;
