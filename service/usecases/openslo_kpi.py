"""How one OpenSLO SLO fits one ratio KPI: the checks that refuse what it cannot hold, the KPI
its objectives and window make, and the objectives as kept beside it for export."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.models.enums import Cadence
from service.models.instants import EARLIEST_DAY
from service.models.openslo import DURATION, InlineSli, Objective, SloSpec

#: The catalog period each duration unit of a time window is evaluated by (the service's
#: shortest period is a day).
CADENCE_OF_UNIT = {
    "m": Cadence.DAILY,
    "h": Cadence.DAILY,
    "d": Cadence.DAILY,
    "w": Cadence.WEEKLY,
    "M": Cadence.MONTHLY,
    "Q": Cadence.QUARTERLY,
    "Y": Cadence.YEARLY,
}
#: KPI keys of an SLO's two counts: `<key>_good` and `<key>_total` must fit 63 characters.
LONGEST_KEY = 63 - len("_total")
GOOD, BAD, TOTAL = "_good", "_bad", "_total"


class OpensloProblem(Exception):
    """A field of one document the service cannot take."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


def key_of(name: str) -> str:
    """The KPI key of an SLO name (dashes become underscores)."""
    return name.replace("-", "_")


def name_of(key: str) -> str:
    """The SLO name of a KPI key."""
    return key.replace("_", "-")


def is_threshold(indicator: InlineSli) -> bool:
    return indicator.spec.thresholdMetric is not None


def check_slo(key: str, indicator: InlineSli, method: str) -> None:
    """Refuse what one ratio KPI of good over total cannot hold."""
    if not key[0].isalpha() or len(key) > LONGEST_KEY:
        raise OpensloProblem(
            "metadata.name",
            f"must start with a letter and have at most {LONGEST_KEY} characters "
            "(it keys the SLO's KPIs)",
        )
    ratio = indicator.spec.ratioMetric
    if ratio is not None and ratio.raw is not None:
        raise OpensloProblem(
            "spec.indicator.spec.ratioMetric.raw",
            "a precomputed ratio cannot be budgeted by events: give good and total",
        )
    if method == "RatioTimeslices":
        raise OpensloProblem(
            "spec.budgetingMethod",
            "RatioTimeslices (the mean of each slice's ratio) has no equivalent: a ratio KPI "
            "divides sums; use Occurrences or Timeslices",
        )


def counts_bad(indicator: InlineSli) -> bool:
    """Whether the SLI counts bad events (bad over total) rather than good ones."""
    ratio = indicator.spec.ratioMetric
    return ratio is not None and ratio.bad is not None


def failure_share(share: float) -> float:
    """1 - a share, rounded so that taking it twice gives the share back (1 - 0.99 is
    0.010000000000000009 in binary floating point)."""
    return round(1 - share, 12)


def ratio_kpi(key: str, name: str, spec: SloSpec, bad: bool) -> dict[str, Any]:
    """The SLO's ratio KPI: good over total (higher is better), or bad over total (lower is
    better, its objectives as failure shares); its objectives as the target (the looser) and
    warning (the stricter), its window as the cadence, from the calendar's first day (else
    from the earliest day)."""
    shares = sorted(o.share() for o in spec.objectives)
    if bad:
        shares = [failure_share(s) for s in shares]
    window = spec.timeWindow[0] if spec.timeWindow else None
    unit = DURATION.match(window.duration) if window else None
    start = window.calendar.startTime[:10] if window and window.calendar else EARLIEST_DAY
    target = {"value": shares[0], "warning": shares[1] if len(shares) > 1 else None}
    return {
        "key": key,
        "name": name,
        "unit": "share",
        "direction": "lower_is_better" if bad else "higher_is_better",
        "kind": "ratio",
        "numerator": key + (BAD if bad else GOOD),
        "denominator": key + TOTAL,
        "cadence": CADENCE_OF_UNIT[unit.group(2)] if unit else None,
        "services": [spec.service],
        "targets": [{**target, "effective_from": start}],
    }


def _check_objective(where: str, o: Objective, method: str, threshold: bool) -> None:
    if o.indicator is not None or o.indicatorRef is not None or o.compositeWeight is not None:
        raise OpensloProblem(
            f"{where}.indicator",
            "composite SLOs have no equivalent: write one SLO for each indicator",
        )
    if threshold and (o.op is None or o.value is None):
        field_name = f"{where}.op" if o.op is None else f"{where}.value"
        raise OpensloProblem(field_name, "required with a thresholdMetric")
    if method == "Timeslices":
        for name in ("timeSliceTarget", "timeSliceWindow"):
            if getattr(o, name) is None:
                raise OpensloProblem(f"{where}.{name}", "required with Timeslices")


def _check_pair(first: Objective, second: Objective) -> None:
    for name in ("timeSliceTarget", "timeSliceWindow"):
        if getattr(first, name) != getattr(second, name):
            raise OpensloProblem(
                f"spec.objectives[1].{name}",
                "must equal the first objective's: one KPI counts one kind of time slice",
            )
    if first.share() == second.share():
        raise OpensloProblem("spec.objectives[1].target", "must differ from the first's")


def kept_objectives(objectives: Sequence[Objective], method: str, threshold: bool) -> list[Any]:
    """The objectives as kept (their targets live in the catalog), after the checks that
    make them fit one KPI: at most two (the looser is the target, the stricter the warning),
    one for a threshold SLI, the same time slices for both."""
    most = 1 if threshold else 2
    if len(objectives) > most:
        raise OpensloProblem(
            f"spec.objectives[{most}]",
            "a threshold SLI takes one objective"
            if threshold
            else "at most two objectives: the looser is the KPI's target, the stricter its warning",
        )
    for i, o in enumerate(objectives):
        _check_objective(f"spec.objectives[{i}]", o, method, threshold)
    if len(objectives) == 2:
        _check_pair(*objectives)
    low = min(o.share() for o in objectives)
    return [
        {
            **o.model_dump(mode="json", exclude_none=True, exclude={"target", "targetPercent"}),
            "role": "target" if o.share() == low else "warning",
            "percent": o.targetPercent is not None,
        }
        for o in objectives
    ]
