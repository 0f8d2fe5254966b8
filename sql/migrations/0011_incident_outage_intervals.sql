-- An incident's outage is no longer one stretch from impact start to resolution: a reopened
-- incident was up between its resolution and its reopening. `outage` holds the stretches it
-- was down (the last one unbounded while it is open), rebuilt from its timeline with every
-- event; availability, error budgets and downtime cost read it. Null (incidents stored by
-- earlier versions, or written by other means than the service) means one stretch from
-- impact start to resolution, as before; `kpi recompute` rebuilds every incident from its
-- timeline.
alter table incident add column outage tstzmultirange;

-- One stretch, from impact start to resolution (or open): what a null `outage` stands for.
create function incident_outage(outage tstzmultirange, started_at timestamptz,
                                resolved_at timestamptz) returns tstzmultirange
language sql immutable parallel safe
as $$
    select coalesce(outage, case
        when started_at is null or resolved_at <= started_at then '{}'::tstzmultirange
        else tstzmultirange(tstzrange(started_at, resolved_at))
    end)
$$;
