"""Budgets: the spend planned per service, category and calendar month or quarter."""

from __future__ import annotations

from kpi_client.models.costs import CostFields, CostIngestResult


class BudgetIn(CostFields):
    """The amount planned for a whole calendar month or quarter (`period_start` the 1st,
    `period_end` the 1st of the next month or quarter), identified as a cost record is."""


class Budget(CostFields):
    id: int


class BudgetIngestResult(CostIngestResult):
    """How many budgets a batch stored, updated or left as they were."""
