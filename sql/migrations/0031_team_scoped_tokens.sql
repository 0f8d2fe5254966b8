-- Team-scoped tokens and sources: a token or a webhook source may be limited to one team's
-- services (those of the team and of every team under it, by their current owner).
--
-- api_token.team_id: an ingest token limited to a team writes only for the services of its
-- tree; anything else is a 403 naming the service. read_scope 'team' limits its reads the
-- same way ('all': reads as before). A team-less token reads and writes as before.
-- source.team_id: a delivery whose service maps outside the team is kept as unmapped, with
-- the reason, to be replayed later.
--
-- A team a token or source is limited to cannot be deleted (on delete restrict): setting the
-- limit to null would widen what the token may do.
alter table api_token
    add column team_id bigint references team (id) on delete restrict,
    add column read_scope text not null default 'all' check (read_scope in ('all', 'team')),
    add constraint api_token_read_scope_needs_team check (read_scope = 'all' or team_id is not null);
create index api_token_team_idx on api_token (team_id) where team_id is not null;

alter table source add column team_id bigint references team (id) on delete restrict;
create index source_team_idx on source (team_id) where team_id is not null;
