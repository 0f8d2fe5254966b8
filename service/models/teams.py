"""A team's figures over a window, rolled up over its services and those of every team below
it as each was owned during the window (service/kpi/team_rollup.py states the rules), and its
DORA keys per bucket."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from service.models.enums import Grain
from service.models.reports import CategoryAmount, DoraReport, IncidentReport, Window


class TeamAvailability(BaseModel):
    window: Window
    availability: float | None = Field(
        description="Percent of service-minutes without outage: 1 - outage minutes / service "
        "minutes, over every service the team (or a team below it) owned during the window, "
        "each for the minutes it owned it; null without any."
    )
    weighted_availability: float | None = Field(
        description="The same with each service's minutes weighted by tier (tier 1: 4, "
        "tier 2: 3, tier 3: 2, tier 4: 1)."
    )
    service_minutes: float = Field(description="Minutes each service was owned, summed.")
    outage_minutes: float = Field(
        description="Merged outage minutes of each service while owned, summed."
    )
    outage_incidents: int = Field(description="Outage incidents counted, per stretch owned.")
    services: int = Field(description="Services owned for some of the window.")


class TeamCurrencySpend(BaseModel):
    currency: str
    total: float
    by_category: list[CategoryAmount]
    per_user: float | None = Field(
        description="Unit cost: the total over the users served (see `users`); null without."
    )


class TeamSpend(BaseModel):
    window: Window
    currencies: list[TeamCurrencySpend] = Field(
        description="Spend of the services while owned, per currency; cost records are spread "
        "evenly over their days."
    )
    users: float | None = Field(
        description="Users served: each service's user count weighted by the share of the "
        "window the team owned it; null when no service states one."
    )


class TeamFigures(BaseModel):
    team: str
    availability: TeamAvailability
    incidents: IncidentReport
    dora: DoraReport
    spend: TeamSpend


class DoraTrend(BaseModel):
    team: str
    grain: Grain
    buckets: list[DoraReport] = Field(
        description="The DORA keys of each bucket overlapping the window (its part inside "
        "the window, up to now), oldest first; `window.complete` is false for the bucket "
        "now cuts."
    )


class Ownership(BaseModel):
    """A stretch of a service's ownership history."""

    team: str
    since: dt.datetime = Field(description="When the team took the service over.")
    until: dt.datetime | None = Field(
        description="When it handed it on; null for the current owner."
    )
