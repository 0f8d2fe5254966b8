-- The outage reads (outage_seconds in metrics.sql, planned_outage_seconds in maintenance.sql)
-- take a service's incidents at or above its outage threshold that started before the end of
-- the span. On (service_id, started_at) alone they visited every incident the service ever
-- had, of any severity, to keep the few that are outages: for a service with 6,300 incidents
-- over two years, 4,950 heap pages to keep 165 rows. With the severity in the key the
-- threshold is an index condition and only outage-grade incidents are read.
create index incident_service_severity_started_idx
    on incident (service_id, severity, started_at);
