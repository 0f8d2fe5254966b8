-- The audit trail: one row per change to the catalog (teams, services, outcomes, KPIs with
-- their escalation paths, targets, links, sources, tokens, initiatives, OpenSLO documents),
-- written in the transaction of the change, so a change rolled back leaves no row. Who made
-- it (the token's id and name, or the OS user or --actor of a command), how (rest, graphql,
-- apply, cli; system for what the service writes by itself), and the entity's public
-- representation before and after. A token's secret and hash are never in it.
--
-- Append-only: the triggers below refuse UPDATE, DELETE and TRUNCATE with SQLSTATE 42501
-- (insufficient_privilege), whoever asks; only dropping the table removes rows.
create table audit_entry (
    id             bigint generated always as identity primary key,
    at             timestamptz not null default now(),
    actor_token_id bigint,
    actor_name     text not null,
    via            text not null
        constraint audit_entry_via check (via in ('rest', 'graphql', 'apply', 'cli', 'system')),
    entity_kind    text not null,
    entity_key     text not null,
    action         text not null
        constraint audit_entry_action check (action in ('create', 'update', 'delete')),
    before         jsonb,
    after          jsonb,
    file_name      text,
    file_sha256    text constraint audit_entry_file_sha256 check (file_sha256 ~ '^[0-9a-f]{64}$'),
    -- A creation has nothing before it, a deletion nothing after it, an update both.
    constraint audit_entry_sides check (
        (action = 'create' and before is null and after is not null)
        or (action = 'update' and before is not null and after is not null)
        or (action = 'delete' and before is not null and after is null)
    )
);
-- The reads filter by entity, by actor and by time, newest first.
create index audit_entry_entity_idx on audit_entry (entity_kind, entity_key, id);
create index audit_entry_actor_idx on audit_entry (actor_name, id);
create index audit_entry_at_idx on audit_entry (at, id);

create function audit_entry_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'the audit trail is append-only: % is refused', tg_op
        using errcode = 'insufficient_privilege', table = 'audit_entry';
end;
$$;

create trigger audit_entry_no_change before update or delete on audit_entry
    for each row execute function audit_entry_append_only();
create trigger audit_entry_no_truncate before truncate on audit_entry
    for each statement execute function audit_entry_append_only();
