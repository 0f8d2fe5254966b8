"""Cost records (IT spend for a period, by category) as sent by clients, and ingestion results."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from service.models.catalog import Body, FieldProblem, NoNul, Slug, Text
from service.models.instants import Day

#: Largest magnitude of an amount: far beyond any real budget line, and within numeric(20, 2).
MAX_ABS_AMOUNT = 1e13

Category = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,59}$"),
    Field(
        description="Lower-case letters, digits, dashes and underscores, at most 60 characters, "
        "e.g. cloud, licences, staff."
    ),
]
Currency = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    Field(description="An ISO 4217 code: three upper-case letters, e.g. EUR."),
]


class CostIn(Body):
    service: Slug | None = Field(default=None, description="A service slug; omit for the estate.")
    category: Category
    period_start: Day = Field(description="First day of the period.")
    period_end: Day = Field(
        description="Day after the period's last day (exclusive); at most 2200-01-01."
    )
    amount: float = Field(
        allow_inf_nan=False, strict=True, ge=-MAX_ABS_AMOUNT, le=MAX_ABS_AMOUNT,
        description="A number (not a string or boolean), at most 1e13 in magnitude; kept to "
        "the cent.",
    )  # fmt: skip
    currency: Currency
    note: Text | None = None
    source: Annotated[str, StringConstraints(max_length=100), NoNul] | None = None
    initiative: Slug | None = Field(
        default=None,
        description="The key of the initiative the spend belongs to; part of the record's "
        "identity.",
    )

    @field_validator("amount")
    @classmethod
    def _cents(cls, value: float) -> float:
        # Stored as numeric(20, 2): round here so what is read back equals what was sent
        # (and -0.0 becomes 0.0).
        return round(value, 2) + 0.0

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.period_end <= self.period_start:
            raise FieldProblem("period_end", "must be after period_start (it is exclusive)")
        return self


class Cost(CostIn):
    id: int


class CostIngestResult(BaseModel):
    records: int = Field(description="Records received (after dropping in-batch duplicates).")
    inserted: int = Field(description="New records stored.")
    updated: int = Field(description="Existing records whose amount, note or source changed.")
    unchanged: int = Field(description="Records already stored exactly as sent.")
