-- Written by `kpi export` from SOURCES (service/ingest/sources): the kinds a source may
-- have. `kpi migrate` (and start-up) runs it after the numbered migrations, every time:
-- it only adds, and a kind no longer registered stays for the sources that use it.
insert into source_kind (kind)
values
    ('github'),
    ('gitlab'),
    ('pagerduty'),
    ('opsgenie'),
    ('alertmanager'),
    ('jira'),
    ('incidentio'),
    ('servicenow'),
    ('cdevents'),
    ('argocd'),
    ('api')
on conflict (kind) do nothing;
