"""Free-form string pairs that catalog entries and changes carry, for grouping figures:
a service's attributes (its vendor, platform ...) and a change's labels."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from pydantic import BeforeValidator, Field, StringConstraints
from pydantic.fields import FieldInfo

from service.models.text import Identifier, Visible

LabelName = Annotated[str, StringConstraints(min_length=1, max_length=60), Identifier]
LabelValue = Annotated[str, StringConstraints(min_length=1, max_length=200), Visible]


def _pairs_as_object(value: Any) -> Any:
    """A list of {name, value} pairs (how GraphQL sends them) read as the object it stands
    for; a name given twice is refused rather than one value silently kept."""
    if not isinstance(value, list):
        return value
    out: dict[Any, Any] = {}
    for pair in value:
        if not isinstance(pair, dict) or set(pair) != {"name", "value"}:
            raise ValueError("each pair needs exactly a name and a value")
        if pair["name"] in out:
            raise ValueError(f"name {pair['name']!r} given twice")
        out[pair["name"]] = pair["value"]
    return out


_AS_OBJECT = BeforeValidator(_pairs_as_object)

#: At most 50 pairs: names of 1-60 characters in one script, values of 1-200 visible ones.
Labels = Annotated[dict[LabelName, LabelValue], _AS_OBJECT, Field(max_length=50)]


def is_labels(field: FieldInfo) -> bool:
    """Whether a model's field is `Labels` or `Labels | None` (for the GraphQL input made
    from the model)."""
    return field.annotation == Labels or Labels in get_args(field.annotation)
