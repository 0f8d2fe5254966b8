"""GraphQL input types, generated from the same pydantic models the REST API validates with."""

from __future__ import annotations

import functools
from typing import Any

import strawberry
from pydantic import BaseModel
from strawberry.experimental.pydantic import input as pydantic_input

from service.graphql.types import common  # noqa: F401  (registers the enums first)
from service.models import catalog


@functools.cache
def input_of(model: type[BaseModel]) -> Any:
    """The input type of a pydantic model, with all its fields, named after it: TeamIn gives
    TeamInput, EscalationStep gives EscalationStepInput. Made once per model."""
    name = model.__name__.removesuffix("In") + "Input"
    return pydantic_input(model=model, all_fields=True)(type(name, (), {}))


# The inputs a KPI's input nests, which strawberry must know before that one.
for nested in (catalog.EscalationStep, catalog.BuiltinFilter):
    input_of(nested)


@strawberry.input
class OutcomeLinkInput:
    kpi: str
    outcome: str
    weight: float = 1.0
    rationale: str | None = None
