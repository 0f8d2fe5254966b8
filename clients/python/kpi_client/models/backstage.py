"""The KPI facts a Backstage Tech Insights fact retriever reads, per service entity."""

from __future__ import annotations

import datetime as dt

from kpi_client.models.base import ApiModel


class FactDefinition(ApiModel):
    """One entry of a Tech Insights fact schema: the fact's type and what it means."""

    type: str
    description: str


class EntityName(ApiModel):
    kind: str
    namespace: str
    name: str


class EntityFacts(ApiModel):
    """One service entity and its facts, named `<kpi key>_<field>`."""

    entity: EntityName
    entity_ref: str
    service: str
    facts: dict[str, str | float | dt.datetime | None]


class BackstageFacts(ApiModel):
    fact_schema: dict[str, FactDefinition]
    entities: list[EntityFacts]
