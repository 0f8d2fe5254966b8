-- Backstage entity references: each team and business service carries the reference of its
-- entity in a Backstage catalog (group:default/payments-team, component:default/checkout),
-- in the lower-case form Backstage compares, unique like a slug. A row written without one
-- (existing rows, bulk loads) takes the reference its slug gives: the same rule as the API's.
create function default_entity_ref() returns trigger language plpgsql as $$
begin
    if new.entity_ref is null then
        new.entity_ref := tg_argv[0] || ':default/' || new.slug;
    end if;
    return new;
end;
$$;

alter table team add column entity_ref text;
update team set entity_ref = 'group:default/' || slug;
alter table team alter column entity_ref set not null;
alter table team add constraint team_entity_ref_key unique (entity_ref);
create trigger team_default_entity_ref before insert or update on team
    for each row execute function default_entity_ref('group');

alter table business_service add column entity_ref text;
update business_service set entity_ref = 'component:default/' || slug;
alter table business_service alter column entity_ref set not null;
alter table business_service add constraint business_service_entity_ref_key unique (entity_ref);
create trigger business_service_default_entity_ref before insert or update
    on business_service for each row execute function default_entity_ref('component');
