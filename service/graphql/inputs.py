"""GraphQL input types, generated from the same pydantic models the REST API validates with."""

from __future__ import annotations

import strawberry
from strawberry.experimental.pydantic import input as pydantic_input

from service.graphql.types import common  # noqa: F401  (registers the enums first)
from service.models import catalog


@pydantic_input(model=catalog.TeamIn, all_fields=True)
class TeamInput:
    pass


@pydantic_input(model=catalog.ServiceIn, all_fields=True)
class ServiceInput:
    pass


@pydantic_input(model=catalog.OutcomeIn, all_fields=True)
class OutcomeInput:
    pass


@pydantic_input(model=catalog.EscalationStep, all_fields=True)
class EscalationStepInput:
    pass


@pydantic_input(model=catalog.BuiltinFilter, all_fields=True)
class BuiltinFilterInput:
    pass


@pydantic_input(model=catalog.KpiIn, all_fields=True)
class KpiInput:
    pass


@pydantic_input(model=catalog.TargetIn, all_fields=True)
class TargetInput:
    pass


@strawberry.input
class OutcomeLinkInput:
    kpi: str
    outcome: str
    weight: float = 1.0
    rationale: str | None = None
