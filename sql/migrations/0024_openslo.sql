-- What an OpenSLO document says beyond the catalog's fields, kept so `kpi export --openslo`
-- writes it back: an SLO's indicator (its queries), window, budgeting method, objectives
-- without their targets, alert policies, labels and annotations; a Service's description,
-- labels and annotations. The targets, names, tiers and links stay in the catalog's tables.
create table kpi_openslo (
    kpi_id    bigint primary key references kpi (id) on delete cascade,
    document  jsonb not null
);

create table service_openslo (
    service_id  bigint primary key references business_service (id) on delete cascade,
    document    jsonb not null
);
