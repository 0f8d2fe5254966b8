"""The quarterly review of a closed calendar quarter, as JSON."""

from __future__ import annotations

from kpi_client.models import QuarterlyReview
from kpi_client.operation import Operation, answer, segment


def get_quarterly_review(quarter: str) -> Operation[QuarterlyReview]:
    """The review of `quarter` (`2026-Q3`, ended): board KPIs with their trend, availability
    and downtime cost by tier, incidents, DORA keys, failure clusters, spend and budgets, unit
    costs, initiatives, governance gaps and open escalations."""
    return Operation(
        "GET", f"/v1/reviews/{segment(quarter)}", answer(QuarterlyReview),
        query=(("format", "json"),),
    )  # fmt: skip
