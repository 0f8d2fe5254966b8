-- The range checks of the tables every webhook delivery writes (0016_stored_data_in_range.sql)
-- spelled out instead of calling in_api_range(). Postgres prepares a table's CHECK expressions
-- for every statement that writes to it, and preparing a call of an SQL function inlines it:
-- its body is parsed and planned again each time, about an eighth of the backend's time per
-- delivery. The bounds and the outcome are the same (a null time passes, as before); the
-- checks stay NOT VALID, so nothing is scanned, and keep their names.
alter table incident drop constraint incident_times_in_range;
alter table incident add constraint incident_times_in_range
    check (started_at >= timestamptz '1970-01-01 00:00:00+00'
           and started_at < timestamptz '2200-01-01 00:00:00+00'
           and detected_at >= timestamptz '1970-01-01 00:00:00+00'
           and detected_at < timestamptz '2200-01-01 00:00:00+00'
           and acknowledged_at >= timestamptz '1970-01-01 00:00:00+00'
           and acknowledged_at < timestamptz '2200-01-01 00:00:00+00'
           and resolved_at >= timestamptz '1970-01-01 00:00:00+00'
           and resolved_at < timestamptz '2200-01-01 00:00:00+00') not valid;

alter table incident_event drop constraint incident_event_time_in_range;
alter table incident_event add constraint incident_event_time_in_range
    check (occurred_at >= timestamptz '1970-01-01 00:00:00+00'
           and occurred_at < timestamptz '2200-01-01 00:00:00+00') not valid;

alter table change drop constraint change_times_in_range;
alter table change add constraint change_times_in_range
    check (started_at >= timestamptz '1970-01-01 00:00:00+00'
           and started_at < timestamptz '2200-01-01 00:00:00+00'
           and finished_at >= timestamptz '1970-01-01 00:00:00+00'
           and finished_at < timestamptz '2200-01-01 00:00:00+00') not valid;

alter table change_event drop constraint change_event_time_in_range;
alter table change_event add constraint change_event_time_in_range
    check (occurred_at >= timestamptz '1970-01-01 00:00:00+00'
           and occurred_at < timestamptz '2200-01-01 00:00:00+00') not valid;

alter table commit_time drop constraint commit_time_in_range;
alter table commit_time add constraint commit_time_in_range
    check (committed_at >= timestamptz '1970-01-01 00:00:00+00'
           and committed_at < timestamptz '2200-01-01 00:00:00+00') not valid;
