-- A rollback that names no deploy (CDEvents' service.rolledback names only the environment and
-- the artifact it went back to) counts against the deploy it undid: the last successful
-- production deploy of its service in its environment before it, linked as inferred.
--
-- rolls_back_previous: the rollback asks for that link; rolled_back_change_id: the deploy it
-- found (null until there is one); rollback_link_kind: how it was found.
alter table change
    add column rolls_back_previous boolean not null default false,
    add column rolled_back_change_id bigint references change (id) on delete set null,
    add column rollback_link_kind text check (rollback_link_kind in ('explicit', 'inferred'));
create index change_rolled_back_idx on change (rolled_back_change_id)
    where rolled_back_change_id is not null;
