"""Burn-rate alerts in the graph: a KPI's policy and the alerts its rules fired, generated
from the pydantic models the REST API answers with."""

from __future__ import annotations

import strawberry
import strawberry.experimental.pydantic as from_model

from service.models import burn_alerts

strawberry.enum(burn_alerts.BurnSeverity)
strawberry.enum(burn_alerts.BurnAlertState)


@from_model.type(
    model=burn_alerts.BurnRuleIn,
    all_fields=True,
    description="Fire while the burn rate reaches `burnRate` over both windows.",
)
class BurnRule:
    pass


@from_model.type(
    model=burn_alerts.BurnPolicy,
    all_fields=True,
    description="How a KPI's error budget is watched.",
)
class BurnPolicy:
    pass


@from_model.type(
    model=burn_alerts.BurnAlert,
    all_fields=True,
    description="A rule's firing, with the windows and burn rates seen when it fired and resolved.",
)
class BurnAlert:
    pass
