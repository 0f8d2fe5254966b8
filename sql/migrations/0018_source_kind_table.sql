-- The kinds a source may have, as a reference table rather than a CHECK listing them: the rows
-- are the kinds of the SOURCES registry (service/ingest/sources) and the generic api, and a
-- test fails when they differ. A new source kind is one row, added by a later migration.

create table source_kind (
    kind  text primary key
);

insert into source_kind (kind)
values ('github'), ('gitlab'), ('pagerduty'), ('opsgenie'), ('alertmanager'), ('jira'), ('api');

alter table source drop constraint source_kind_check;
alter table source add constraint source_kind_fkey foreign key (kind) references source_kind (kind);
