-- The usual webhook delivery (one event about one incident) logged and added to its incident's
-- timeline in one round trip instead of several, with the same statements in the same order:
-- claim the delivery key (as insert_delivery does, logged as applied), pick the business
-- service, lock the incident (as upsert_incident), add the event to its timeline and read the
-- whole timeline (as insert_incident_event_timeline). Each statement of a PL/pgSQL function
-- takes its own snapshot, so the timeline is read after the incident's row lock is held and
-- holds every event that committed before, as when the statements are sent one by one.
--
-- p_candidates: for each event of the delivery in order, the business service slug it names
-- (a source rule's, else the tool's own name), or null. The first that exists is the
-- incident's service; when none exists, only the delivery is logged (service_id is null) and
-- the caller applies the events the general way, which keeps them as unmapped if need be.
-- delivery_id is null for a duplicate: nothing is written.

create function ingest_incident_delivery(
    p_source_id bigint, p_key text, p_event_type text, p_headers jsonb, p_body bytea,
    p_candidates text[], p_external_id text, p_event_key text, p_step text,
    p_occurred_at timestamptz, p_data jsonb,
    out delivery_id bigint, out service_id bigint, out incident_id bigint,
    out current_service_id bigint, out timeline jsonb[]
) language plpgsql volatile as $$
begin
    insert into delivery as d (source_id, delivery_key, event_type, headers, body, status,
                               applied_at)
    values (p_source_id, p_key, p_event_type, p_headers, p_body, 'applied', now())
    on conflict (source_id, delivery_key) where delivery_key is not null and status <> 'rejected'
    do nothing
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
