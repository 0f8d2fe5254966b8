"""Burn-rate alerts: a KPI's policy (objective and rules) and the alerts it fired."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from kpi_client.models.base import ApiModel

BurnSeverity = Literal["page", "ticket"]
BurnAlertState = Literal["firing", "resolved"]


class BurnRule(ApiModel):
    """Fire while the budget burns at least `burn_rate` times its sustainable pace over both
    windows (minutes); the short window must be shorter than the long one."""

    name: str
    severity: BurnSeverity
    burn_rate: float
    long_window_minutes: int
    short_window_minutes: int


class BurnPolicyIn(ApiModel):
    """The objective as a share (0.999; None: the KPI's global target) and the rules (left
    out: the SRE workbook's three)."""

    objective: float | None = None
    rules: list[BurnRule] | None = Field(default=None, description="Left out: the defaults.")


class BurnPolicy(ApiModel):
    kpi: str
    objective: float | None
    rules: list[BurnRule]


class BurnAlert(ApiModel):
    """A rule's firing, with the windows and burn rates seen when it fired and resolved."""

    id: int
    kpi: str
    rule: str
    severity: str
    state: str
    threshold: float
    long_window_minutes: int
    short_window_minutes: int
    objective: float
    fired_at: dt.datetime
    long_burn_rate: float
    short_burn_rate: float
    resolved_at: dt.datetime | None = None
    resolved_long_burn_rate: float | None = None
    resolved_short_burn_rate: float | None = None
