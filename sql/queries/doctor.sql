-- What `kpi doctor` reads: stored data that the rules of the API now refuse.

-- name: out_of_range_dates
-- Per table and column, the rows whose date or time lies outside 1970-2200 (and the first
-- ids of them).
select in_table, in_column, rows, first_ids from out_of_range_dates();

-- name: monthly_partitions
-- The observation partitions of one month each, with the month they hold.
select c.relname as name,
       to_date(substr(c.relname, 13), 'YYYY_MM')::timestamp at time zone 'UTC' as month_start
from pg_inherits i
join pg_class c on c.oid = i.inhrelid
where i.inhparent = 'observation'::regclass and c.relname ~ '^observation_\d{4}_\d{2}$'
order by c.relname;

-- name: fold_partitions
select fold_observation_partitions($1, $2, $3);

-- name: webhook_steps
select k.key, s.position, s.address
from escalation_step s join kpi k on k.id = s.kpi_id
where s.channel = 'webhook'
order by k.key, s.position;

-- name: pending_notification_urls
select id, url from outbox where state = 'pending' order by id;

-- name: events_naming_urls
select count(*) from escalation_event where detail ~ 'https?://';
