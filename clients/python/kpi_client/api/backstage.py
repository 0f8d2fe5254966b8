"""What a Backstage portal reads: the KPI facts per entity."""

from __future__ import annotations

from kpi_client.models import BackstageFacts
from kpi_client.operation import Operation, answer


def get_backstage_facts() -> Operation[BackstageFacts]:
    """Every service entity with its KPIs' latest status, value, target, unit and period."""
    return Operation("GET", "/v1/backstage/facts", answer(BackstageFacts))
