-- The generic endpoints (POST /v1/incidents, /v1/incidents/{id}/events, /v1/changes) write
-- only to sources of kind api, unless an admin opens another source to them: an ingest token
-- must not rewrite what a signed tool reported.

alter table source add column open_to_api boolean not null default false;
