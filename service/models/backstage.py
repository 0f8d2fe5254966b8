"""The facts a Backstage Tech Insights fact retriever reads: per service entity, each KPI's
latest stored status, value, target, unit and period, each fact with the type Tech Insights'
fact schema declares it with."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field

from service.models.entity_refs import SERVICE_REFS


class FactType(StrEnum):
    """The fact types of a Tech Insights `FactSchema` that these facts use."""

    FLOAT = "float"
    STRING = "string"
    DATETIME = "datetime"


#: Each KPI gives these facts, named `<kpi key>_<field>`: (field, type, description).
KPI_FACT_FIELDS: tuple[tuple[str, FactType, str], ...] = (
    ("status", FactType.STRING,
     "met, at_risk, breached or no_data (no_data too while no period has been evaluated)"),
    ("value", FactType.FLOAT, "the value of the latest evaluated period"),
    ("target", FactType.FLOAT, "the target that period was held to"),
    ("unit", FactType.STRING, "the unit of value and target"),
    ("period_start", FactType.DATETIME, "start of the latest evaluated period"),
    ("period_end", FactType.DATETIME, "end of the latest evaluated period (exclusive)"),
)  # fmt: skip

FactValue = str | float | dt.datetime | None


def fact_name(kpi: str, field: str) -> str:
    """The fact `field` of KPI `kpi`: `availability_status`. KPI keys hold no other field's
    suffix, so two KPIs' facts never share a name."""
    return f"{kpi}_{field}"


class FactDefinition(BaseModel):
    """One entry of a Tech Insights fact schema."""

    type: FactType
    description: str


class EntityName(BaseModel):
    """An entity as Tech Insights' `TechInsightFact.entity` names it."""

    kind: str
    namespace: str
    name: str


class EntityFacts(BaseModel):
    entity: EntityName
    entity_ref: str = Field(description="The same entity as a reference string.")
    service: str = Field(description="The business service's slug.")
    facts: dict[str, FactValue] = Field(
        description="Fact name to value, of the type `fact_schema` gives; null when the "
        "latest period has none (no value measured, no target set, never evaluated)."
    )


class BackstageFacts(BaseModel):
    fact_schema: dict[str, FactDefinition] = Field(
        description="Every fact named below, with its Tech Insights type (a FactSchema)."
    )
    entities: list[EntityFacts] = Field(description="One per business service, by reference.")


class ServiceKpiFact(BaseModel):
    """One row read for the facts: a service and one KPI applying to it (none when no KPI
    applies), with that KPI's latest stored status for the service (none before the first)."""

    entity_ref: str
    service: str
    kpi: str | None
    unit: str | None
    status: str | None
    value: float | None
    target: float | None
    period_start: dt.datetime | None
    period_end: dt.datetime | None


def entity_of(entity_ref: str) -> EntityName:
    """A stored service reference as Tech Insights names the entity."""
    ref = SERVICE_REFS.parse(entity_ref)
    return EntityName(kind=ref.kind, namespace=ref.namespace, name=ref.name)


def kpi_facts(row: ServiceKpiFact) -> dict[str, FactValue]:
    """The facts of the row's KPI for its service."""
    assert row.kpi is not None
    values: dict[str, FactValue] = {
        "status": row.status or "no_data", "value": row.value, "target": row.target,
        "unit": row.unit, "period_start": row.period_start, "period_end": row.period_end,
    }  # fmt: skip
    return {fact_name(row.kpi, field): values[field] for field, _, _ in KPI_FACT_FIELDS}


def backstage_facts(rows: list[ServiceKpiFact]) -> BackstageFacts:
    """The answer for rows ordered by service: one entity per service, the schema of every
    KPI seen."""
    entities: dict[str, EntityFacts] = {}
    kpis: dict[str, None] = {}
    for row in rows:
        found = entities.get(row.entity_ref)
        if found is None:
            found = entities[row.entity_ref] = EntityFacts(
                entity=entity_of(row.entity_ref), entity_ref=row.entity_ref,
                service=row.service, facts={},
            )  # fmt: skip
        if row.kpi is not None:
            kpis[row.kpi] = None
            found.facts.update(kpi_facts(row))
    schema = {
        fact_name(kpi, field): FactDefinition(type=kind, description=f"KPI {kpi}: {text}")
        for kpi in sorted(kpis)
        for field, kind, text in KPI_FACT_FIELDS
    }
    return BackstageFacts(fact_schema=schema, entities=list(entities.values()))
