-- Gauges read when /metrics is scraped: short counts over indexed columns.

-- name: unmapped_deliveries
-- Deliveries kept as unmapped, waiting for a replay, for every webhook source (0 included,
-- so a source's series drops to 0 rather than vanishing once its backlog is replayed).
select s.name as source, s.kind, count(d.id) as waiting
from source s
left join delivery d on d.source_id = s.id and d.status = 'unmapped'
where s.kind <> 'api'
group by s.id, s.name, s.kind
order by s.name;

-- name: outbox_backlog
-- Notifications still to deliver (pending, retried or not) and given up on (failed).
select
    count(*) filter (where state = 'pending') as pending,
    count(*) filter (where state = 'failed') as failed
from outbox
where state in ('pending', 'failed');
