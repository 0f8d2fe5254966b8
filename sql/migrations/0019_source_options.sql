-- Settings of a source's own kind (an Argo CD health window, a Jira custom field id ...):
-- each source package declares their model, which validates them before they are stored.
alter table source add column options jsonb not null default '{}'::jsonb;
