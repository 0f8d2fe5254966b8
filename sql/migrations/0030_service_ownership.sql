-- Service ownership history: which team owned each business service, from when to when, so
-- past periods are reported against the team that owned the service then. The current
-- owner's row has valid_to null (one at most per service); a service without a team has no
-- open row. Rows are written in the same transaction as the change of team. Deleting a team
-- drops its history with it; deleting a service drops the service's.
create table service_ownership (
    id          bigint generated always as identity primary key,
    service_id  bigint not null references business_service (id) on delete cascade,
    team_id     bigint not null references team (id) on delete cascade,
    valid_from  timestamptz not null,
    valid_to    timestamptz,
    check (valid_to is null or valid_to > valid_from)
);
create unique index service_ownership_open_key on service_ownership (service_id)
    where valid_to is null;
create index service_ownership_service_idx on service_ownership (service_id, valid_from);
create index service_ownership_team_idx on service_ownership (team_id, valid_from);

-- Services that have a team today have had it since they were created, as far as is known.
insert into service_ownership (service_id, team_id, valid_from)
select id, team_id, created_at from business_service where team_id is not null;
