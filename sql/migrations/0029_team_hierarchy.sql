-- Team hierarchy: a team may sit under a parent (a group, department or organisation), so
-- figures roll up the tree and a token may be limited to a team and its sub-teams. A team
-- cannot be its own ancestor: the trigger refuses a parent that would close a cycle (moves take turns on a transaction-level lock), with
-- SQLSTATE 23514 (check_violation) and the constraint name team_parent_not_cycle, so the
-- API answers a problem naming the field `parent`.
alter table team add column parent_id bigint references team (id) on delete restrict;
create index team_parent_idx on team (parent_id);

create function team_parent_not_cycle() returns trigger language plpgsql as $$
begin
    if new.parent_id is null then
        return new;
    end if;
    -- Two concurrent moves (a under b, b under a) each see no cycle alone: moves that set a
    -- parent take turns, for the rest of their transaction.
    perform pg_advisory_xact_lock(hashtext('team_parent_not_cycle'));
    if exists (
        with recursive ancestor(id) as (
            select new.parent_id
            union
            select t.parent_id from team t join ancestor a on t.id = a.id
            where t.parent_id is not null
        )
        select 1 from ancestor where id = new.id
    ) then
        raise exception 'team % would be its own ancestor', new.slug
            using errcode = 'check_violation', constraint = 'team_parent_not_cycle';
    end if;
    return new;
end;
$$;

create trigger team_parent_not_cycle before insert or update of parent_id on team
    for each row execute function team_parent_not_cycle();
