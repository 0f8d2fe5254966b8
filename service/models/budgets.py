"""Budgets (the spend planned for a calendar month or quarter, by category) as sent by
clients, and ingestion results."""

from __future__ import annotations

import datetime as dt
from typing import Self

from pydantic import model_validator

from service.models.catalog import FieldProblem
from service.models.costs import CostIn, CostIngestResult


def whole_period_problem(start: dt.date, end: dt.date) -> tuple[str, str] | None:
    """The field to blame and why [start, end) is not a whole calendar month or quarter, or
    None when it is."""
    if start.day != 1:
        return "period_start", "must be the first day of a month"
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day != 1 or months not in (1, 3):
        return "period_end", "must be the first day of the month or quarter after period_start"
    if months == 3 and start.month not in (1, 4, 7, 10):
        return "period_start", "a quarter starts in January, April, July or October"
    return None


class BudgetIn(CostIn):
    """The amount planned for a whole calendar month or quarter."""

    @model_validator(mode="after")
    def _whole_period(self) -> Self:
        problem = whole_period_problem(self.period_start, self.period_end)
        if problem is not None:
            raise FieldProblem(*problem)
        return self


class Budget(BudgetIn):
    id: int


class BudgetIngestResult(CostIngestResult):
    """How many budgets a batch stored, updated or left as they were."""
