"""The builtin metrics: one entry each, the single place that says what a metric reads, which
units and filters it takes, how its value is computed and how the README defines it.

The engine (service/store/metrics.py) reads, for each window of a series or period, the
inputs a metric names (per service and for the scope together) and calls its `compute`,
pure arithmetic over those figures. Adding a metric is its member of BuiltinMetric, its entry
here, the SQL of any input it is the first to need, and its tests; everything else (the
unit and filter checks of KPI definitions, the engine's dispatch, the README's table, the
client's vocabulary) is derived from or tested against this table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from service.kpi import budgets, units
from service.kpi.budgets import FiscalCalendar, MonthlySpend
from service.kpi.builtin import (
    ChangeFigures,
    IncidentFigures,
    Outage,
    Summary,
    availability,
    downtime_cost,
    error_budget,
    ratio,
)
from service.kpi.periods import Period
from service.kpi.units import UnitFamily
from service.models.enums import BuiltinMetric


class Input(StrEnum):
    """What the engine reads for a window."""

    #: Incidents whose impact started in the window: counts, durations, recurrences.
    INCIDENTS = "incidents"
    #: Production changes finished in the window with a final status: DORA figures.
    CHANGES = "changes"
    #: Cost records in the currency a metric is read in (its unit, or the scope's one currency
    #: for a share), spread over their days.
    SPEND = "spend"
    #: Each service's merged outage time in the window.
    OUTAGES = "outages"
    #: Each service's availability objective (the error budget KPI's availability KPI).
    OBJECTIVES = "objectives"
    #: Each service's revenue per hour.
    REVENUE = "revenue"
    #: Budgets in the metric's currency (as spend), spread over their days like spend.
    BUDGET = "budget"
    #: Spend per calendar month of the window (the first and last may be parts).
    MONTHLY_SPEND = "monthly_spend"
    #: Spend per calendar month, from the earliest of the window's month, its fiscal year's
    #: start and the run rate's first month, to the window's end.
    FISCAL_YEAR_SPEND = "fiscal_year_spend"


class FilterPart(StrEnum):
    """The parts of a builtin KPI's filter (service/models/catalog.py BuiltinFilter)."""

    SEVERITIES = "severities"
    ENVIRONMENTS = "environments"
    CHANGE_KINDS = "change_kinds"


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Inputs:
    """One window's figures, for a scope (its services) or one service."""

    seconds: float
    services: tuple[int, ...]
    incidents: IncidentFigures = field(default_factory=IncidentFigures)
    changes: ChangeFigures = field(default_factory=ChangeFigures)
    #: Spend in the window, and the cost records behind it.
    spend: tuple[float, int] = (0.0, 0)
    outages: Mapping[int, Outage] = field(default_factory=dict)
    objectives: Mapping[int, float] = field(default_factory=dict)
    revenue: Mapping[int, float] = field(default_factory=dict)
    #: Budget in the window, and the budgets behind it.
    budget: tuple[float, int] = (0.0, 0)
    #: Spend per month (Input.MONTHLY_SPEND or FISCAL_YEAR_SPEND), and the records behind it.
    monthly: tuple[MonthlySpend, int] = ({}, 0)
    #: The window itself (the monthly figures are placed by it) and the fiscal calendar.
    window: Period = field(default_factory=lambda: Period(_EPOCH, _EPOCH))
    fiscal: FiscalCalendar = field(default_factory=FiscalCalendar)

    @property
    def outage_incidents(self) -> int:
        return sum(o.incidents for o in self.outages.values())


#: A metric's value in the KPI's unit, and the records behind it (incidents, changes ...).
Value = tuple[float | None, int]
Compute = Callable[[Inputs, str], Value]


@dataclass(frozen=True)
class Metric:
    name: BuiltinMetric
    inputs: frozenset[Input]
    unit: UnitFamily
    filters: frozenset[FilterPart]
    #: The value per bucket, as the README's KPI engine table says it.
    definition: str
    compute: Compute


_INCIDENT_FILTER = frozenset({FilterPart.SEVERITIES})
_CHANGE_FILTER = frozenset({FilterPart.ENVIRONMENTS, FilterPart.CHANGE_KINDS})
_OUTAGE_INPUTS = frozenset({Input.OUTAGES})
_BUDGET_INPUTS = frozenset({Input.SPEND, Input.BUDGET})
_MONTHLY_INPUTS = frozenset({Input.MONTHLY_SPEND})
_FISCAL_INPUTS = frozenset({Input.FISCAL_YEAR_SPEND})


def _mean(pick: Callable[[IncidentFigures], Summary]) -> Compute:
    def compute(i: Inputs, unit: str) -> Value:
        summary = pick(i.incidents)
        return units.duration(summary.mean, unit), summary.n

    return compute


def _availability(i: Inputs, unit: str) -> Value:
    return units.rate(availability(i.outages, len(i.services), i.seconds), unit), i.outage_incidents


def _error_budget(i: Inputs, unit: str) -> Value:
    budget = error_budget(i.outages, i.objectives, i.seconds)
    return units.rate(budget[0] if budget else None, unit), i.outage_incidents


def _planned_downtime(i: Inputs, unit: str) -> Value:
    planned = sum(o.planned_seconds for o in i.outages.values())
    return units.duration(planned, unit), i.outage_incidents


def _downtime_cost(i: Inputs, unit: str) -> Value:
    # The count is the incidents whose impact started in the window (an outage running on
    # from an earlier window adds to the value, not to the count).
    cost = downtime_cost(i.outages, i.revenue, i.incidents.cost_estimate)
    return cost, i.incidents.incidents


def _spend(i: Inputs, unit: str) -> Value:
    total, records = i.spend
    return (total if records else None), records


def _budget(rule: Callable[[float, float, int], float | None], unit_of: Callable[
        [float | None, str], float | None]) -> Compute:  # fmt: skip
    def compute(i: Inputs, unit: str) -> Value:
        (actual, spent), (budget, planned) = i.spend, i.budget
        return unit_of(rule(actual, budget, planned), unit), spent + planned

    return compute


def _forecast(i: Inputs, unit: str) -> Value:
    monthly, records = i.monthly
    return (budgets.forecast(i.window, monthly, i.fiscal) if records else None), records


def _stability(i: Inputs, unit: str) -> Value:
    monthly, records = i.monthly
    return units.rate(budgets.stability(i.window, monthly), unit), records


def _change(value: Callable[[ChangeFigures, str, float], float | None],
            count: Callable[[ChangeFigures], int]) -> Compute:  # fmt: skip
    def compute(i: Inputs, unit: str) -> Value:
        return value(i.changes, unit, i.seconds), count(i.changes)

    return compute


def _deployments(f: ChangeFigures) -> int:
    return f.deployments


_AVAILABILITY_TEXT = (
    "1 - merged outage time / (services x bucket time). An outage is an incident at or above "
    "the service's `outage_threshold` (default sev2) from impact start to resolution, and "
    "from each reopening to the next resolution, or to now while open; overlapping outages "
    "count once, per service, and clip at bucket edges. Outage inside the service's "
    "maintenance windows is planned downtime and left out (see `planned_downtime`)."
)

METRICS: dict[BuiltinMetric, Metric] = {m.name: m for m in (
    Metric(BuiltinMetric.AVAILABILITY, _OUTAGE_INPUTS, UnitFamily.RATE, _INCIDENT_FILTER,
           _AVAILABILITY_TEXT, _availability),
    Metric(BuiltinMetric.ERROR_BUDGET_REMAINING, _OUTAGE_INPUTS | {Input.OBJECTIVES},
           UnitFamily.RATE, _INCIDENT_FILTER,
           "1 - outage time / budget, the budget being (1 - availability target) x bucket "
           "time summed over the services; negative once overspent. The target is the "
           "service's own on the KPI's `availability_kpi`, else its tier's, else global, else "
           "the tier default (99.95 / 99.9 / 99.5 / 99 %). Burn rate (outage / budget) is in "
           "the reports below.", _error_budget),
    Metric(BuiltinMetric.MTTD, frozenset({Input.INCIDENTS}), UnitFamily.DURATION,
           _INCIDENT_FILTER, "mean of detected - started over incidents whose impact started "
           "in the bucket and have both instants", _mean(lambda f: f.detect)),
    Metric(BuiltinMetric.MTTA, frozenset({Input.INCIDENTS}), UnitFamily.DURATION,
           _INCIDENT_FILTER, "mean of acknowledged (the first acknowledgement) - detected, "
           "likewise", _mean(lambda f: f.acknowledge)),
    Metric(BuiltinMetric.MTTR, frozenset({Input.INCIDENTS}), UnitFamily.DURATION,
           _INCIDENT_FILTER, "mean of resolved (the final resolution) - detected, likewise",
           _mean(lambda f: f.resolve)),
    Metric(BuiltinMetric.TIME_TO_RESTORE, frozenset({Input.INCIDENTS}), UnitFamily.DURATION,
           _INCIDENT_FILTER, "mean of resolved (the final resolution) - started, likewise",
           _mean(lambda f: f.restore)),
    Metric(BuiltinMetric.INCIDENT_COUNT, frozenset({Input.INCIDENTS}), UnitFamily.COUNT,
           _INCIDENT_FILTER, "count of incidents whose impact started in the bucket",
           lambda i, unit: (float(i.incidents.incidents), i.incidents.incidents)),
    Metric(BuiltinMetric.RECURRENCE_RATE, frozenset({Input.INCIDENTS}), UnitFamily.RATE,
           _INCIDENT_FILTER, "share of those incidents with an earlier one (strictly "
           "earlier: one starting at the same instant is not) of the same service and problem "
           "key started within the 30 days before",
           lambda i, unit: (units.rate(ratio(i.incidents.recurring, i.incidents.incidents),
                                       unit), i.incidents.incidents)),
    Metric(BuiltinMetric.USERS_AFFECTED, frozenset({Input.INCIDENTS}), UnitFamily.COUNT,
           _INCIDENT_FILTER, "sum of the users affected by those incidents",
           lambda i, unit: (i.incidents.users_affected or 0.0, i.incidents.incidents)),
    Metric(BuiltinMetric.DOWNTIME_COST,
           _OUTAGE_INPUTS | {Input.INCIDENTS, Input.REVENUE}, UnitFamily.COUNT,
           _INCIDENT_FILTER, "outage hours (planned downtime included) x the service's "
           "revenue per hour, plus the incidents' explicit cost estimates", _downtime_cost),
    Metric(BuiltinMetric.PLANNED_DOWNTIME, _OUTAGE_INPUTS, UnitFamily.DURATION,
           _INCIDENT_FILTER, "merged outage time inside the services' maintenance windows, "
           "summed over the services: the downtime availability and the error budget leave "
           "out", _planned_downtime),
    Metric(BuiltinMetric.DEPLOYMENT_FREQUENCY, frozenset({Input.CHANGES}), UnitFamily.DEPLOYS,
           _CHANGE_FILTER, "production changes finished in the bucket with a final status "
           "(success, failed, rolled back): their count (`deploys`), or that count per day or "
           "per week of the bucket (`deploys/day`, `deploys/week`)",
           _change(lambda f, unit, seconds: units.deploys(f.deployments, seconds, unit),
                   _deployments)),
    Metric(BuiltinMetric.LEAD_TIME, frozenset({Input.CHANGES}), UnitFamily.DURATION,
           _CHANGE_FILTER, "lead time for changes as DORA defines it: the median, over every "
           "commit those deployments shipped whose commit time is known, of deployment "
           "finished - commit time. A deployment ships the commits sent with it (`commits`) "
           "and its head commit (`commit_sha`), so one that names only its head commit "
           "contributes that one",
           _change(lambda f, unit, s: units.duration(f.lead_median, unit), lambda f: f.lead_n)),
    Metric(BuiltinMetric.CHANGE_FAILURE_RATE, frozenset({Input.CHANGES}), UnitFamily.RATE,
           _CHANGE_FILTER, "share of deployments that failed, were rolled back, are "
           "named as the cause of an incident (explicit or inferred link), or were the first "
           "production deployment of a commit a merged revert undid (GitHub, GitLab: \"This "
           "reverts commit <sha>\", \"Reverts owner/repo#N\", \"This reverts merge request "
           "!N\"; a source option, on by default)",
           _change(lambda f, unit, s: units.rate(ratio(f.failures, f.deployments), unit),
                   _deployments)),
    Metric(BuiltinMetric.RECOVERY_TIME, frozenset({Input.CHANGES}), UnitFamily.DURATION,
           _CHANGE_FILTER, "median, over failed deployments whose incidents are all "
           "resolved, of the last resolution - the deployment's finish",
           _change(lambda f, unit, s: units.duration(f.recovery_median, unit),
                   lambda f: f.recovery_n)),
    Metric(BuiltinMetric.REWORK_RATE, frozenset({Input.CHANGES}), UnitFamily.RATE,
           _CHANGE_FILTER, "share of deployments that are hotfixes or rollbacks, or ship "
           "a merged revert",
           _change(lambda f, unit, s: units.rate(ratio(f.rework, f.deployments), unit),
                   _deployments)),
    Metric(BuiltinMetric.IT_SPEND, frozenset({Input.SPEND}), UnitFamily.CURRENCY, frozenset(),
           "cost records in the KPI's currency (its `unit`, e.g. `EUR`), each spread evenly "
           "over the days of its period; the fleet scope includes estate-wide records",
           _spend),
    Metric(BuiltinMetric.BUDGET_VARIANCE, _BUDGET_INPUTS, UnitFamily.CURRENCY, frozenset(),
           "spend - budget in the bucket, in the KPI's currency: cost records and budgets "
           "(POST /v1/budgets) each spread evenly over the days of their period, so a bucket "
           "that cuts a month or quarter compares like with like; positive is overspent. No "
           "budget in the bucket gives no value (not 0); no cost record counts as no spend",
           _budget(budgets.variance, lambda v, unit: v)),
    Metric(BuiltinMetric.BUDGET_VARIANCE_SHARE, _BUDGET_INPUTS, UnitFamily.RATE, frozenset(),
           "(spend - budget) / budget in the bucket, likewise (no value with a budget of 0), in "
           "the one currency of the scope's cost records and budgets (no value when they are "
           "in several: use `budget_variance` with a currency unit)",
           _budget(budgets.variance_share, units.rate)),
    Metric(BuiltinMetric.SPEND_FORECAST, _FISCAL_INPUTS, UnitFamily.CURRENCY, frozenset(),
           "spend forecast for the fiscal year as of the bucket's end, in the KPI's currency: "
           "spend from the start of the fiscal year holding the bucket's last day to the "
           "bucket's end, plus the run rate times the months left in that fiscal year (a part "
           "month counted by its days). The run rate is a straight line: the mean monthly "
           "spend over the last `KPI_RUN_RATE_MONTHS` (default 3) whole calendar months up to "
           "the bucket's end, a month without cost records counting as 0. The fiscal year "
           "starts in `KPI_FISCAL_YEAR_START_MONTH` (default 1, January)", _forecast),
    Metric(BuiltinMetric.OPEX_STABILITY, _MONTHLY_INPUTS, UnitFamily.RATE, frozenset(),
           "coefficient of variation of the monthly spend over the bucket's whole calendar "
           "months: population standard deviation / mean (0 is perfectly steady). Fewer than "
           "two whole months (a monthly bucket, or a quarter's first month) or a mean of 0 "
           "gives no value; use a quarterly or yearly cadence. In the one currency of the "
           "scope's cost records and budgets (no value when they are in several)", _stability),
)}  # fmt: skip


def unit_problem(metric: BuiltinMetric, unit: str) -> str | None:
    """Why `unit` is not one `metric` is reported in, or None when it is."""
    problem = units.unit_problem(METRICS[metric].unit, unit)
    return None if problem is None else f"{metric} is {problem}"


def filter_problem(metric: BuiltinMetric, part: FilterPart) -> str | None:
    """Why a builtin KPI of `metric` cannot have that part of a filter, or None."""
    if part in METRICS[metric].filters:
        return None
    counts = "incidents" if part is FilterPart.SEVERITIES else "changes"
    return f"{metric} counts no {counts}"
