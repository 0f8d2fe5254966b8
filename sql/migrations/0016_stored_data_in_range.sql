-- Stored data held to the rules the API now enforces: dates and times between 1970 and 2200,
-- a bounded number of observation partitions, and webhook URLs kept out of the text of
-- escalation events. What can be repaired without losing anything is repaired here; the rest
-- is listed, with its fix, by `kpi doctor`.

-- 1. Dates and times between 1970-01-01 and 2200-01-01 (UTC). The checks are NOT VALID: every
--    write from now on is held to them, rows stored earlier are left for `kpi doctor` to list
--    (a cost period ending at 'infinity' has no true end that could be put in its place).
create function in_api_range(ts timestamptz) returns boolean
language sql immutable parallel safe as $$
    select ts >= timestamptz '1970-01-01 00:00:00+00' and ts < timestamptz '2200-01-01 00:00:00+00'
$$;

create function in_api_range(day date) returns boolean
language sql immutable parallel safe as $$
    select day >= date '1970-01-01' and day <= date '2200-01-01'
$$;

-- A target ending at 'infinity' (or after 2200) never ends: exactly what no end means.
update target set effective_to = null where effective_to > date '2200-01-01';

alter table cost_record add constraint cost_record_period_in_range
    check (in_api_range(period_start) and in_api_range(period_end)) not valid;
alter table target add constraint target_dates_in_range
    check (in_api_range(effective_from) and in_api_range(effective_to)) not valid;
alter table incident add constraint incident_times_in_range
    check (in_api_range(started_at) and in_api_range(detected_at)
           and in_api_range(acknowledged_at) and in_api_range(resolved_at)) not valid;
alter table incident_event add constraint incident_event_time_in_range
    check (in_api_range(occurred_at)) not valid;
alter table change add constraint change_times_in_range
    check (in_api_range(started_at) and in_api_range(finished_at)) not valid;
alter table change_event add constraint change_event_time_in_range
    check (in_api_range(occurred_at)) not valid;
alter table commit_time add constraint commit_time_in_range
    check (in_api_range(committed_at)) not valid;

-- 2. Observation partitions. A month gets a partition of its own only inside the horizon the
--    caller gives (by default from five years before now to a year after); a point outside it
--    goes to the one default partition, so no client can make thousands of partitions by
--    writing one point per month from 1970 to 2199.
create table if not exists observation_default partition of observation default;

drop function ensure_observation_partitions(timestamptz[]);

-- Creates the monthly partitions, inside [monthly_from, monthly_to), that hold the given
-- instants, if missing. Rows of such a month already in the default partition (written while
-- the month was outside the horizon) move into its new partition. Serialised by an advisory
-- lock; a partition made meanwhile by a concurrent batch is not an error.
create function ensure_observation_partitions(
    instants timestamptz[], monthly_from timestamptz, monthly_to timestamptz
) returns void
language plpgsql as $$
declare
    month_start timestamptz;
    month_end   timestamptz;
    part_name   text;
begin
    for month_start in
        select distinct date_trunc('month', i, 'UTC') from unnest(instants) as i
    loop
        month_end := ((month_start at time zone 'UTC') + interval '1 month') at time zone 'UTC';
        continue when month_start < monthly_from or month_end > monthly_to;
        part_name := 'observation_' || to_char(month_start at time zone 'UTC', 'YYYY_MM');
        if to_regclass(quote_ident(current_schema()) || '.' || part_name) is null then
            perform pg_advisory_xact_lock(hashtext('observation_partition'));
            begin
                if exists (select 1 from observation_default
                           where ts >= month_start and ts < month_end) then
                    execute format('create table %I (like observation including defaults)',
                                   part_name);
                    execute format(
                        'with moved as (delete from observation_default '
                        'where ts >= %L and ts < %L returning *) '
                        'insert into %I select * from moved', month_start, month_end, part_name);
                    execute format(
                        'alter table observation attach partition %I for values from (%L) to (%L)',
                        part_name, month_start, month_end);
                else
                    execute format(
                        'create table %I partition of observation for values from (%L) to (%L)',
                        part_name, month_start, month_end);
                end if;
            exception when duplicate_table then
                null;  -- made by a concurrent batch that committed while we waited
            end;
        end if;
    end loop;
end;
$$;

-- Moves the rows of monthly partitions outside [monthly_from, monthly_to) into the default
-- partition and drops them, at most `most` of them (each one takes a few locks until commit:
-- thousands at once would exhaust the lock table); returns how many were folded. Nothing is
-- lost: the rows, their revisions and the daily rollup stay as they were.
create function fold_observation_partitions(
    monthly_from timestamptz, monthly_to timestamptz, most integer
) returns integer
language plpgsql as $$
declare
    part      record;
    folded    integer := 0;
begin
    for part in
        select c.relname as name,
               to_date(substr(c.relname, 13), 'YYYY_MM')::timestamp at time zone 'UTC'
                   as month_start
        from pg_inherits i
        join pg_class c on c.oid = i.inhrelid
        join pg_class p on p.oid = i.inhparent
        where p.relname = 'observation' and p.relnamespace = to_regnamespace(current_schema())
          and c.relname ~ '^observation_\d{4}_\d{2}$'
        order by c.relname
    loop
        if part.month_start >= monthly_from
           and ((part.month_start at time zone 'UTC') + interval '1 month') at time zone 'UTC'
               <= monthly_to then
            continue;
        end if;
        execute format('alter table observation detach partition %I', part.name);
        execute format('insert into observation_default select * from %I', part.name);
        execute format('drop table %I', part.name);
        folded := folded + 1;
        exit when folded >= most;
    end loop;
    return folded;
end;
$$;

-- Partitions made before this rule, for months outside the default horizon, are folded now,
-- up to 200 of them; `kpi doctor` lists any left and `kpi doctor --fold-partitions` folds them.
select fold_observation_partitions(
    date_trunc('month', now() - interval '5 years', 'UTC'),
    date_trunc('month', now() + interval '1 year', 'UTC') + interval '1 month',
    200);

-- 4. What `kpi doctor` reads: every row whose date or time column lies outside 1970-2200, by
--    table and column (the observation partitions are read through their parent).
create function out_of_range_dates()
returns table (in_table text, in_column text, rows bigint, first_ids text)
language plpgsql as $$
declare
    found record;
    has_id boolean;
begin
    for found in
        select c.table_name as t, c.column_name as c, c.data_type as type
        from information_schema.columns c
        join pg_class r on r.relname = c.table_name
                       and r.relnamespace = to_regnamespace(current_schema())
        where c.table_schema = current_schema()
          and c.data_type in ('date', 'timestamp with time zone', 'timestamp without time zone')
          and not r.relispartition and r.relkind in ('r', 'p')
        order by 1, 2
    loop
        has_id := exists (select 1 from information_schema.columns
                          where table_schema = current_schema() and table_name = found.t
                            and column_name = 'id');
        return query execute format(
            'select %L::text, %L::text, count(*), %s from %I where not in_api_range(%I%s)'
            ' having count(*) > 0',
            found.t, found.c,
            case when has_id then 'array_to_string((array_agg(id order by id))[1:20], '','')'
                 else 'null::text' end,
            found.t, found.c, case when found.type = 'date' then '' else '::timestamptz' end)
        ;
    end loop;
end;
$$;

-- 3. Escalation events named the webhook URL a step posted to, credentials and all, and
--    every read token can list events: they keep its host only. The URL itself stays in the
--    notification outbox, which only admin tokens can read.
update escalation_event
set detail = regexp_replace(detail, 'https?://(?:[^/?#\s@]*@)?(\[[^]\s]*\]|[^/?#:\s]+)\S*',
                            '\1', 'g')
where kind = 'step' and detail ~ 'https?://';
