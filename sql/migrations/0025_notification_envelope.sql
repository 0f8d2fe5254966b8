-- Notifications are sent in the Standard Webhooks envelope: {"type", "timestamp", "data"}.
-- Rows still to be sent, queued by earlier versions with the data alone (which carried its
-- type), get the envelope now, so every body sent from here on has it; the time is when the
-- row was queued. Delivered and failed rows keep the body they were sent with.
update outbox
set payload = jsonb_build_object(
    'type', event_type,
    'timestamp', to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'data', payload - 'type'
)
where state = 'pending'
  and not (payload ? 'type' and payload ? 'timestamp' and payload ? 'data');
