"""Maintenance windows (planned downtime announced for a service) as sent and as stored."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from service.models.catalog import Body, FieldProblem, NoNul, NotBlank, Slug
from service.models.instants import Instant

Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000), NotBlank, NoNul]


class MaintenanceWindowIn(Body):
    """Planned downtime: outage inside [starts_at, ends_at) does not count against
    availability or the error budget. It must start after now, and cannot be changed or
    deleted once started."""

    starts_at: Instant = Field(description="Must be after now: a window is announced ahead.")
    ends_at: Instant = Field(description="Exclusive; after starts_at.")
    reason: Reason = Field(description="Why, e.g. the database upgrade's change ticket.")

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise FieldProblem("ends_at", "must be after starts_at")
        return self


class MaintenanceWindowSpec(MaintenanceWindowIn):
    # A window in a catalog file names its service (no docstring: it would become the
    # schema's description).

    service: Slug


class MaintenanceWindow(MaintenanceWindowIn):
    id: int
    service: str
    created_by: str = Field(description="The name of the token that announced it.")
    created_at: dt.datetime
    service_id: int = Field(default=0, exclude=True)


class MaintenanceWindowQuery(BaseModel):
    from_: Instant | None = Field(
        default=None, alias="from", description="Windows ending after this instant."
    )
    to: Instant | None = Field(default=None, description="Windows starting before this instant.")
    limit: int = Field(default=1000, ge=1, le=10_000)
