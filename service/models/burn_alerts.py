"""Burn-rate alert policies as clients send them, and the alerts as read back."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from service.kpi.burn_rate import DEFAULT_RULES, Rule
from service.models.catalog import Body, FieldProblem

#: The longest window a rule may read: 30 days, the budget period of the workbook.
MAX_WINDOW_MINUTES = 30 * 24 * 60

RuleName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$"),
    Field(description="Lower-case letters, digits and underscores, starting with a letter."),
]


class BurnSeverity(StrEnum):
    """How urgently a firing rule asks for a human: now, or in working hours."""

    PAGE = "page"
    TICKET = "ticket"


class BurnAlertState(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class BurnRuleIn(Body):
    name: RuleName
    severity: BurnSeverity
    burn_rate: float = Field(
        gt=0, le=1_000_000, allow_inf_nan=False,
        description="Fire when the budget burns at least this fast over both windows "
        "(1 spends exactly the budget over the budget's period).",
    )  # fmt: skip
    long_window_minutes: int = Field(
        ge=1, le=MAX_WINDOW_MINUTES, description="The window that shows enough budget is gone."
    )
    short_window_minutes: int = Field(
        ge=1, le=MAX_WINDOW_MINUTES,
        description="The window that shows it is still burning; shorter than the long one.",
    )  # fmt: skip

    @model_validator(mode="after")
    def _short_within_long(self) -> Self:
        if self.short_window_minutes >= self.long_window_minutes:
            raise FieldProblem("short_window_minutes", "must be shorter than long_window_minutes")
        return self

    def rule(self) -> Rule:
        return Rule(
            self.name, self.severity.value, self.burn_rate,
            dt.timedelta(minutes=self.long_window_minutes),
            dt.timedelta(minutes=self.short_window_minutes),
        )  # fmt: skip

    @classmethod
    def of(cls, rule: Rule) -> BurnRuleIn:
        return cls(
            name=rule.name, severity=BurnSeverity(rule.severity), burn_rate=rule.burn_rate,
            long_window_minutes=int(rule.long_window.total_seconds()) // 60,
            short_window_minutes=int(rule.short_window.total_seconds()) // 60,
        )  # fmt: skip


def default_rules() -> list[BurnRuleIn]:
    """The workbook's three rules (service/kpi/burn_rate.py)."""
    return [BurnRuleIn.of(r) for r in DEFAULT_RULES]


class BurnPolicyIn(Body):
    """How a KPI's error budget is watched: its objective and the rules that fire alerts."""

    objective: float | None = Field(
        default=None, gt=0, lt=1, allow_inf_nan=False,
        description="The objective as a share, e.g. 0.999 for 99.9 %; null: the KPI's global "
        "target in effect (in percent or as a share as its unit says; for a lower-is-better "
        "ratio, 1 - target).",
    )  # fmt: skip
    rules: list[BurnRuleIn] = Field(
        default_factory=default_rules, min_length=1, max_length=10,
        description="Left out: page at 14.4 over 1 h and 5 min, page at 6 over 6 h and 30 min, "
        "ticket at 1 over 3 days and 6 h.",
    )  # fmt: skip

    @model_validator(mode="after")
    def _names_once(self) -> Self:
        names = [r.name for r in self.rules]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise FieldProblem(f"rules.{i}.name", f"rule {name!r} is named twice")
        return self


class BurnPolicy(BurnPolicyIn):
    kpi: str


class BurnAlert(BaseModel):
    """A rule's firing: when it fired and resolved, with the windows and burn rates seen."""

    id: int
    kpi: str
    rule: str
    severity: BurnSeverity
    state: BurnAlertState
    threshold: float = Field(description="The rule's burn rate when it fired.")
    long_window_minutes: int
    short_window_minutes: int
    objective: float = Field(description="The objective (a share) the burn rates are against.")
    fired_at: dt.datetime
    long_burn_rate: float = Field(description="Over the long window, when it fired.")
    short_burn_rate: float = Field(description="Over the short window, when it fired.")
    resolved_at: dt.datetime | None
    resolved_long_burn_rate: float | None = Field(description="Over the long window, when "
                                                  "it resolved.")  # fmt: skip
    resolved_short_burn_rate: float | None = Field(description="Over the short window, when "
                                                   "it resolved.")  # fmt: skip
