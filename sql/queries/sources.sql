-- Sources of incidents and changes. Only get_source_with_secret reads the secret column.

-- name: list_sources
select id, name, kind, secret is not null as has_secret, username, severity_map,
       service_rules, production_envs, incident_issue_types, infer_links, infer_window_minutes,
       open_to_api, options
from source where ($1::text is null or name = $1) order by name;

-- name: get_source_with_secret
select id, name, kind, secret is not null as has_secret, username, severity_map,
       service_rules, production_envs, incident_issue_types, infer_links, infer_window_minutes,
       open_to_api, options, secret
from source where name = $1;

-- name: create_source
insert into source (name, kind, secret, username, severity_map, service_rules, production_envs,
                    incident_issue_types, infer_links, infer_window_minutes, open_to_api, options)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id;

-- name: update_source
-- A null secret keeps the current one.
update source
set kind = $2, secret = coalesce($3, secret), username = $4, severity_map = $5,
    service_rules = $6, production_envs = $7, incident_issue_types = $8, infer_links = $9,
    infer_window_minutes = $10, open_to_api = $11, options = $12, updated_at = now()
where name = $1 returning id;

-- name: delete_source
delete from source where name = $1 returning id;
