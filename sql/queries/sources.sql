-- Sources of incidents and changes. Only get_source_with_secret reads the secret column.

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
