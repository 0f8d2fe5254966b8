-- Month partitions end one calendar month later in UTC. The first version added the month in
-- the session's time zone, so a month crossing a daylight-saving change was an hour short or
-- long, and the next partition overlapped or left a gap.
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
            if to_regclass(quote_ident(current_schema()) || '.' || part_name) is null then
                execute format(
                    'create table %I partition of observation for values from (%L) to (%L)',
                    part_name, month_start,
                    ((month_start at time zone 'UTC') + interval '1 month') at time zone 'UTC');
            end if;
        end if;
    end loop;
end;
$$;
