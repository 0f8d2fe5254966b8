-- Safe under concurrent requests:
-- * two batches creating the same month's partition: the loser finds it made, not an error
--   (the catalog lookup after the advisory lock may still miss the winner's fresh table);
-- * revisions of an observation are kept by a trigger on the row being updated, so two
--   requests changing one point each keep the value they replaced;
-- * incidents and changes keep their service: deleting a service they name is refused.

create or replace function ensure_observation_partitions(instants timestamptz[]) returns void
language plpgsql as $$
declare
    month_start timestamptz;
    part_name   text;
begin
    for month_start in
        select distinct date_trunc('month', i, 'UTC') from unnest(instants) as i
    loop
        part_name := 'observation_' || to_char(month_start at time zone 'UTC', 'YYYY_MM');
        if to_regclass(quote_ident(current_schema()) || '.' || part_name) is null then
            perform pg_advisory_xact_lock(hashtext('observation_partition'));
            begin
                execute format(
                    'create table %I partition of observation for values from (%L) to (%L)',
                    part_name, month_start,
                    ((month_start at time zone 'UTC') + interval '1 month') at time zone 'UTC');
            exception when duplicate_table then
                null;  -- made by a concurrent batch that committed while we waited
            end;
        end if;
    end loop;
end;
$$;

create function keep_observation_revision() returns trigger
language plpgsql as $$
begin
    if new.value is distinct from old.value then
        insert into observation_revision (kpi_id, service_id, ts, dimensions, value, revision,
                                          source)
        values (old.kpi_id, old.service_id, old.ts, old.dimensions, old.value, old.revision,
                old.source);
        new.revision := old.revision + 1;
    end if;
    return new;
end;
$$;

create trigger observation_keeps_revisions before update on observation
    for each row execute function keep_observation_revision();

alter table incident drop constraint incident_service_id_fkey,
    add constraint incident_service_id_fkey foreign key (service_id)
        references business_service (id) on delete restrict;
alter table change drop constraint change_service_id_fkey,
    add constraint change_service_id_fkey foreign key (service_id)
        references business_service (id) on delete restrict;
