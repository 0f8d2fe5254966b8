-- Backstage entity references: each team and business service carries the reference of its
-- entity in a Backstage catalog (group:default/payments-team, component:default/checkout),
-- in the lower-case form Backstage compares, unique like a slug. Existing rows take the
-- reference their slug gives by default.
alter table team add column entity_ref text;
update team set entity_ref = 'group:default/' || slug;
alter table team alter column entity_ref set not null;
alter table team add constraint team_entity_ref_key unique (entity_ref);

alter table business_service add column entity_ref text;
update business_service set entity_ref = 'component:default/' || slug;
alter table business_service alter column entity_ref set not null;
alter table business_service add constraint business_service_entity_ref_key unique (entity_ref);
