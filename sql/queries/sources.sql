-- Sources of incidents and changes. Only get_source_with_secret and
-- webhook_source_with_client_tokens read the secret column.

-- name: list_sources
select s.id, s.name, s.kind, s.secret is not null as has_secret, s.username, s.severity_map,
       s.service_rules, s.production_envs, s.incident_issue_types, s.infer_links,
       s.infer_window_minutes, s.open_to_api, s.options, t.slug as team
from source s left join team t on t.id = s.team_id
where ($1::text is null or s.name = $1) order by s.name;

-- name: get_source_with_secret
select s.id, s.name, s.kind, s.secret is not null as has_secret, s.username, s.severity_map,
       s.service_rules, s.production_envs, s.incident_issue_types, s.infer_links,
       s.infer_window_minutes, s.open_to_api, s.options, t.slug as team, s.secret
from source s left join team t on t.id = s.team_id
where s.name = $1;

-- name: webhook_source_with_client_tokens
-- What a webhook request reads before its body, in one round trip: the tokens left in the
-- bucket of its client address ($2 its key, $3 rate, $4 burst; as limits' tokens_left), and
-- the source its URL names ($1), with its secret (null columns when there is none).
select coalesce((
    select least($4::float8, b.tokens + extract(epoch from clock_timestamp() - b.at)::float8 * $3::float8)
    from rate_bucket b where b.kind = 'client' and b.key = $2
), $4::float8) as client_tokens, found.*
from (select) as one
left join (
    select s.id, s.name, s.kind, s.secret is not null as has_secret, s.username, s.severity_map,
           s.service_rules, s.production_envs, s.incident_issue_types, s.infer_links,
           s.infer_window_minutes, s.open_to_api, s.options, t.slug as team, s.secret
    from source s left join team t on t.id = s.team_id
    where s.name = $1
) as found on true;

-- name: create_source
insert into source (name, kind, secret, username, severity_map, service_rules, production_envs,
                    incident_issue_types, infer_links, infer_window_minutes, open_to_api, options,
                    team_id)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) returning id;

-- name: update_source
-- A null secret keeps the current one.
update source
set kind = $2, secret = coalesce($3, secret), username = $4, severity_map = $5,
    service_rules = $6, production_envs = $7, incident_issue_types = $8, infer_links = $9,
    infer_window_minutes = $10, open_to_api = $11, options = $12, team_id = $13,
    updated_at = now()
where name = $1 returning id;

-- name: delete_source
delete from source where name = $1 returning id;
