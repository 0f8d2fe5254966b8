"""GraphQL input types, generated from the same pydantic models the REST API validates with."""

from __future__ import annotations

import datetime as dt
import functools
import typing
from typing import Any

import strawberry
from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo
from strawberry.experimental.pydantic import input as pydantic_input

from service.graphql.types import (
    common,  # noqa: F401  (registers the enums first)
    data_source,  # noqa: F401  (and the SLI's bucket)
)
from service.models import catalog
from service.models.initiatives import InitiativeKpiIn
from service.models.labels import is_labels


@strawberry.input(description="A name and its value (a service's attribute, a change's label).")
class LabelInput:
    name: str
    value: str


@functools.cache
def input_of(model: type[BaseModel]) -> Any:
    """The input type of a pydantic model, with all its fields, named after it: TeamIn gives
    TeamInput, EscalationStep gives EscalationStepInput. Made once per model. A field of
    free-form pairs (`Labels`, a JSON object) is a list of LabelInput, which the model reads
    as pairs; an instant (Instant, optional or not) is a DateTime."""
    name = model.__name__.removesuffix("In") + "Input"
    pairs = [f for f, info in model.model_fields.items() if is_labels(info)]
    annotations: dict[str, Any] = dict.fromkeys(pairs, list[LabelInput] | None)
    for f, info in model.model_fields.items():
        if info.annotation is AwareDatetime:
            annotations[f] = dt.datetime
        elif _optional_instant(info):
            annotations[f] = dt.datetime | None
    namespace = {"__annotations__": annotations}
    return pydantic_input(model=model, all_fields=True)(type(name, (), namespace))


def _optional_instant(info: FieldInfo) -> bool:
    """Whether a field is an optional instant (Instant | None), a DateTime in GraphQL."""
    args = typing.get_args(info.annotation)
    return type(None) in args and any(
        a is AwareDatetime or AwareDatetime in typing.get_args(a) for a in args
    )


# The inputs a KPI's or an initiative's input nests, which strawberry must know first.
for nested in (catalog.EscalationStep, catalog.BuiltinFilter, InitiativeKpiIn):
    input_of(nested)
input_of(catalog.PrometheusSli)


@strawberry.input
class OutcomeLinkInput:
    kpi: str
    outcome: str
    weight: float = 1.0
    rationale: str | None = None
