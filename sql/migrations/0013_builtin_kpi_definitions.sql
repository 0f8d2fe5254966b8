-- Builtin KPIs say exactly what they count, and statuses explain themselves.
--
-- `filter`: which incidents (severities) and changes (environments, change kinds) a builtin
-- KPI counts; {} counts all (production changes only). `availability_kpi_id`: for an error
-- budget KPI, the availability KPI whose targets are the objectives the budget is computed
-- from. Until now that was the first builtin availability KPI of the database: existing
-- error budget KPIs are pointed at it, so nothing they report changes.
alter table kpi add column filter jsonb not null default '{}';
alter table kpi add column availability_kpi_id bigint references kpi (id) on delete restrict;
update kpi
set availability_kpi_id = (select id from kpi where builtin_metric = 'availability'
                           order by id limit 1)
where builtin_metric = 'error_budget_remaining';

-- Only observed KPIs combine points with an aggregation; builtin and ratio KPIs are combined
-- by their definition, and the value they carried meant nothing.
alter table kpi alter column aggregation drop not null;
update kpi set aggregation = null where kind <> 'observed';
alter table kpi add constraint kpi_aggregation_of_observed
    check ((kind = 'observed') = (aggregation is not null));

-- Durations in a unit that names no time were reported in minutes: say so.
update kpi set unit = 'minutes'
where builtin_metric in ('mttd', 'mtta', 'mttr', 'time_to_restore', 'lead_time',
                         'recovery_time')
  and lower(trim(unit)) not in ('s', 'sec', 'secs', 'second', 'seconds', 'min', 'mins',
                                'minute', 'minutes', 'h', 'hr', 'hrs', 'hour', 'hours', 'd',
                                'day', 'days');

-- A status rolled up from the KPI's services names the service that drove it, with that
-- service's value and target.
alter table kpi_status add column driver_service_id bigint
    references business_service (id) on delete set null;
alter table kpi_status add column driver_value double precision;
alter table kpi_status add column driver_target double precision;
alter table kpi_status add column driver_target_scope text;

-- Statuses as every reader reads them: with the driving service's slug.
create view kpi_status_read as
select s.kpi_id, s.service_id, s.cadence, s.period_start, s.period_end, s.value, s.target,
       s.warning, s.target_scope, s.status, s.previous_value, s.trend, s.evaluated_at,
       d.slug as driver_service, s.driver_value, s.driver_target, s.driver_target_scope
from kpi_status s
left join business_service d on d.id = s.driver_service_id;
