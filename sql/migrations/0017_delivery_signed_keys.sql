-- Webhook deliveries deduplicated on what their signature covers, not only on a delivery id
-- sent in an unsigned header: a captured delivery replayed under a fresh id is a duplicate.
--
-- signed_key: the tool's id for what the delivery reports, read from the signed body
-- (PagerDuty's v3 event id, or its v2 message ids); body_sha256: SHA-256 of a signed body
-- (GitHub and PagerDuty sign the raw body). Each is claimed per source like delivery_key, by
-- the same insert: a delivery sharing any of the three with one logged before inserts nothing
-- (on conflict do nothing, without a target, covers every unique index at once). Deliveries
-- of sources that sign nothing keep both null, so they claim only their delivery key.

alter table delivery add column signed_key text, add column body_sha256 bytea;

-- Deliveries logged before: each signed body's digest, kept by the first delivery of that body
-- only (a body logged twice before, a replay, must not stop the unique index), so a retry or a
-- replay of any of them is known from now on. Their signed keys are left null: the digest
-- already knows them again, and only the tool can sign another body for the same event.
with firsts as (
    select distinct on (d.source_id, sha256(d.body)) d.id, sha256(d.body) as digest
    from delivery d
    join source s on s.id = d.source_id
    where s.kind in ('github', 'pagerduty') and d.body is not null and d.status <> 'rejected'
    order by d.source_id, sha256(d.body), d.id
)
update delivery d set body_sha256 = f.digest from firsts f where d.id = f.id;

create unique index delivery_signed_key_uq on delivery (source_id, signed_key)
    where signed_key is not null and status <> 'rejected';
create unique index delivery_body_sha256_uq on delivery (source_id, body_sha256)
    where body_sha256 is not null and status <> 'rejected';

-- The one-round-trip webhook path of 0008_webhook_incident_delivery.sql, claiming the signed
-- key and the body's digest with the delivery key; otherwise unchanged.
drop function ingest_incident_delivery(bigint, text, text, jsonb, bytea, text[], text, text,
                                       text, timestamptz, jsonb);

create function ingest_incident_delivery(
    p_source_id bigint, p_key text, p_event_type text, p_headers jsonb, p_body bytea,
    p_signed_key text, p_body_sha256 bytea,
    p_candidates text[], p_external_id text, p_event_key text, p_step text,
    p_occurred_at timestamptz, p_data jsonb,
    out delivery_id bigint, out service_id bigint, out incident_id bigint,
    out current_service_id bigint, out timeline jsonb[]
) language plpgsql volatile as $$
begin
    insert into delivery as d (source_id, delivery_key, event_type, headers, body, signed_key,
                               body_sha256, status, applied_at)
    values (p_source_id, p_key, p_event_type, p_headers, p_body, p_signed_key, p_body_sha256,
            'applied', now())
    on conflict do nothing
    returning d.id into delivery_id;
    if delivery_id is null then
        return;
    end if;

    select b.id into service_id
    from unnest(p_candidates) with ordinality as c (slug, n)
    join business_service b on b.slug = c.slug
    order by c.n
    limit 1;
    if service_id is null then
        return;
    end if;

    -- upsert_incident, without writing a row version that the caller's update replaces
    -- anyway (it sets updated_at to the same now()): insert, else lock the row (again if it
    -- went away in between).
    loop
        insert into incident as i (source_id, external_id, status)
        values (p_source_id, p_external_id, 'open')
        on conflict (source_id, external_id) do nothing
        returning i.id, i.service_id into incident_id, current_service_id;
        exit when incident_id is not null;
        select i.id, i.service_id into incident_id, current_service_id
        from incident i
        where i.source_id = p_source_id and i.external_id = p_external_id
        for update;
        exit when incident_id is not null;
    end loop;

    insert into incident_event (incident_id, event_key, step, occurred_at, data, delivery_id)
    values (incident_id, p_event_key, p_step, p_occurred_at, p_data, delivery_id)
    on conflict on constraint incident_event_incident_id_event_key_key do nothing;

    select coalesce(array_agg(e.data order by e.id), '{}') into timeline
    from incident_event e where e.incident_id = ingest_incident_delivery.incident_id;
end;
$$;
