-- Webhook deliveries that do not prove their source (wrong or missing signature or token) are
-- no longer logged one row each in delivery: anyone who knows a webhook URL could grow that
-- table without limit. Instead, a count per source and reason, updated in place, and the last
-- few samples of each (headers cut short, no body) in a ring of numbered slots, overwritten in
-- turn. Both rows keep the same key for good, so their updates are HOT and the tables keep
-- their size; the lower fill factor leaves each page room for the new row versions.

create table webhook_rejection (
    source_id  bigint not null references source (id) on delete cascade,
    reason     text not null,
    count      bigint not null,
    first_at   timestamptz not null,
    last_at    timestamptz not null,
    primary key (source_id, reason)
) with (fillfactor = 50);

create table webhook_rejection_sample (
    source_id    bigint not null,
    reason       text not null,
    slot         integer not null check (slot >= 0),
    received_at  timestamptz not null,
    client       text,
    headers      jsonb not null,
    primary key (source_id, reason, slot),
    foreign key (source_id, reason) references webhook_rejection (source_id, reason)
        on delete cascade
) with (fillfactor = 50);
