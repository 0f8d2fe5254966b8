"""Rows read back from the database are validated with the STORED context: the rules for what
a request may send (names without invisible characters, webhook URL syntax, days within
1970-2200) are not applied again to rows stored before those rules, so such a row stays
readable (and correctable); `kpi doctor` lists the ones that matter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationInfo

M = TypeVar("M", bound=BaseModel)

STORED = {"stored": True}


def is_stored(info: ValidationInfo) -> bool:
    """Whether the value being validated was read from the database."""
    context = info.context
    return isinstance(context, dict) and bool(context.get("stored"))


def read(model: type[M], row: Mapping[str, Any], **extra: Any) -> M:
    """A model from a database row (and `extra` fields), under the STORED context."""
    return model.model_validate({**row, **extra}, context=STORED)
