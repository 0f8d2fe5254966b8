"""The catalog's objectives written as OpenSLO: each KPI applied from an SLO, with its name,
service, window and target as the catalog holds them now and the rest of the document as it
was applied, and a Service for each service they name. v1 is the specification's current
version; v1alpha is what Sloth reads. Each document is checked against its version's rules
before it is written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from service.db import Connection
from service.errors import ValidationFailed
from service.models.catalog import Kpi, Service, Target
from service.models.enums import Cadence
from service.models.instants import EARLIEST_DAY
from service.models.openslo import DURATION, ServiceDocument, SloDocument
from service.models.openslo_v1alpha import SloDocument as SloV1alpha
from service.store import openslo as store
from service.usecases import catalog
from service.usecases.catalog import KPIS, SERVICES
from service.usecases.openslo_kpi import CADENCE_OF_UNIT, failure_share, name_of

Version = Literal["v1", "v1alpha"]

#: The window a KPI's cadence stands for when it no longer matches the window applied.
UNIT_OF_CADENCE = {
    Cadence.DAILY: "d",
    Cadence.WEEKLY: "w",
    Cadence.MONTHLY: "M",
    Cadence.QUARTERLY: "Q",
    Cadence.YEARLY: "Y",
}
#: v1alpha's units for the duration shorthand's: (unit, how many of it one stands for).
V1ALPHA_UNITS = {
    "m": ("Second", 60),
    "h": ("Second", 3600),
    "d": ("Day", 1),
    "w": ("Week", 1),
    "M": ("Month", 1),
    "Q": ("Quarter", 1),
    "Y": ("Month", 12),
}


def _objective_target(targets: Sequence[Target], start: dt.date) -> Target | None:
    """The KPI's global target the SLO's objectives are: the one from the window's start,
    else the latest in effect."""
    overall = [t for t in targets if t.service is None and t.tier is None]
    for t in overall:
        if t.effective_from == start:
            return t
    return max(overall, key=lambda t: t.effective_from, default=None)


def _with_warning(kept: Sequence[dict[str, Any]], target: Target | None) -> list[dict[str, Any]]:
    """The kept objectives, and for a warning given in the catalog since, a second objective
    like the first without its display name."""
    roles = {o["role"] for o in kept}
    if target is None or target.warning is None or "warning" in roles or not kept:
        return list(kept)
    copied = {k: v for k, v in kept[0].items() if k != "displayName"}
    return [*kept, {**copied, "role": "warning"}]


def _objectives(
    kept: Sequence[dict[str, Any]], target: Target | None, bad: bool
) -> list[dict[str, Any]]:
    """The objectives with the target's value (the looser) and warning (the stricter); one
    whose value the catalog no longer holds is left out."""
    written = []
    for objective in _with_warning(kept, target):
        rest = {k: v for k, v in objective.items() if k not in {"role", "percent"}}
        value = None
        if target is not None:
            value = target.value if objective["role"] == "target" else target.warning
        if value is None:
            continue
        if bad:  # the KPI holds failure shares, an objective the share of good
            value = failure_share(value)
        if objective.get("percent"):
            rest["targetPercent"] = round(value * 100, 10)
        else:
            rest["target"] = value
        written.append(rest)
    return written


def _window(kept: list[dict[str, Any]] | None, cadence: Cadence | None) -> Any:
    if not kept or cadence is None:
        return kept
    match = DURATION.match(kept[0]["duration"])
    if match is not None and CADENCE_OF_UNIT[match.group(2)] is cadence:
        return kept
    return [{**kept[0], "duration": f"1{UNIT_OF_CADENCE[cadence]}"}]  # same start and zone


def slo_document(kpi: Kpi, service: str, kept: dict[str, Any], targets: Sequence[Target]) -> Any:
    """The v1 SLO of one KPI: the kept document with the catalog's name, service, window and
    target values."""
    spec = dict(kept["spec"])
    window = spec.get("timeWindow")
    calendar = window[0].get("calendar") if window else None
    start = dt.date.fromisoformat(calendar["startTime"][:10]) if calendar else EARLIEST_DAY
    bad = "bad" in spec["indicator"]["spec"].get("ratioMetric", {})
    objectives = _objectives(spec.pop("objectives"), _objective_target(targets, start), bad)
    if not objectives:
        raise ValidationFailed(
            f"SLO {name_of(kpi.key)!r}: spec.objectives: KPI {kpi.key!r} has no overall "
            "target to write as its objective: give it one"
        )
    spec["timeWindow"] = _window(window, kpi.cadence)
    ordered = {
        k: spec[k]
        for k in ("description", "indicator", "timeWindow", "budgetingMethod")
        if spec.get(k) is not None
    }
    document = {
        "apiVersion": "openslo/v1",
        "kind": "SLO",
        "metadata": {"name": name_of(kpi.key), "displayName": kpi.name, **kept["metadata"]},
        "spec": {
            "service": service,
            **ordered,
            "objectives": objectives,
            **({"alertPolicies": spec["alertPolicies"]} if "alertPolicies" in spec else {}),
        },
    }
    return SloDocument.model_validate(document).model_dump(mode="json", exclude_none=True)


def service_document(service: Service, kept: dict[str, Any]) -> Any:
    meta = kept.get("metadata") or {}
    labels = {**(meta.get("labels") or {}), "serviceTier": f"tier-{service.tier}"}
    document = {
        "apiVersion": "openslo/v1",
        "kind": "Service",
        "metadata": {"name": service.slug, "displayName": service.name, **meta, "labels": labels},
        "spec": kept.get("spec") or {},
    }
    return ServiceDocument.model_validate(document).model_dump(mode="json", exclude_none=True)


async def export_openslo(con: Connection, version: Version = "v1") -> list[Any]:
    """The Service and SLO documents of every KPI applied from OpenSLO in v1, the SLO
    documents in v1alpha."""
    kept = await store.slo_documents(con)
    if not kept:
        return []
    kept_services = await store.service_documents(con)
    slos, named = [], set()
    for kpi in await KPIS.list(con, sorted(kept)):
        links = sorted(link.service for link in await catalog.service_links(con, kpi=kpi.key))
        if not links:
            continue
        named.add(links[0])
        targets = await catalog.list_targets(con, kpi=kpi.key)
        slos.append(slo_document(kpi, links[0], kept[kpi.key], targets))
    services = [
        service_document(s, kept_services.get(s.slug, {}))
        for s in await SERVICES.list(con, sorted(named))
    ]
    # Sloth reads every document of a file as an SLO: v1alpha writes the SLOs alone, which
    # name their service.
    return [*services, *slos] if version == "v1" else [as_v1alpha(d) for d in slos]


def _source(metric: dict[str, Any], where: str, name: str) -> dict[str, Any]:
    source = metric["metricSource"]
    kind = "".join(
        c for c in str(source.get("type") or source.get("metricSourceRef")) if c.isalpha()
    ).lower()
    query = source["spec"].get("query")
    if not isinstance(query, str) or not query:
        raise ValidationFailed(
            f"SLO {name!r}: {where}.metricSource.spec.query: v1alpha needs the query as text"
        )
    query_type = source["spec"].get("queryType") or ("promql" if kind == "prometheus" else kind)
    return {"source": kind, "queryType": query_type, "query": query}


def _v1alpha_window(window: dict[str, Any]) -> dict[str, Any]:
    match = DURATION.match(window["duration"])
    assert match is not None  # checked when the document was read
    unit, factor = V1ALPHA_UNITS[match.group(2)]
    written: dict[str, Any] = {
        "unit": unit,
        "count": int(match.group(1)) * factor,
        "isRolling": bool(window.get("isRolling")),
    }
    if window.get("calendar"):
        written["calendar"] = window["calendar"]
    return written


def as_v1alpha(document: dict[str, Any]) -> Any:
    """A v1 SLO as v1alpha: the indicator moves into each objective (ratio) or stays on
    the spec (threshold), the window becomes a unit and a count."""
    meta = {k: document["metadata"][k] for k in ("name", "displayName")}
    spec, name = document["spec"], meta["name"]
    if not spec.get("timeWindow"):
        raise ValidationFailed(f"SLO {name!r}: spec.timeWindow: v1alpha needs a time window")
    metric = spec["indicator"]["spec"]
    where = "spec.indicator.spec"
    alpha: dict[str, Any] = {
        "timeWindows": [_v1alpha_window(spec["timeWindow"][0])],
        "budgetingMethod": spec["budgetingMethod"],
        "description": spec.get("description"),
        "service": spec["service"],
    }
    ratio = None
    if "thresholdMetric" in metric:
        alpha["indicator"] = {
            "thresholdMetric": _source(metric["thresholdMetric"], where + ".thresholdMetric", name)
        }
    else:
        r = metric["ratioMetric"]
        if "bad" in r:
            raise ValidationFailed(
                f"SLO {name!r}: {where}.ratioMetric.bad: v1alpha counts good events only"
            )
        ratio = {
            "good": _source(r["good"], where + ".ratioMetric.good", name),
            "total": _source(r["total"], where + ".ratioMetric.total", name),
            "counter": bool(r.get("counter")),
        }
    alpha["objectives"] = [
        {
            "displayName": o.get("displayName"),
            "value": o.get("value"),
            "ratioMetrics": ratio,
            "target": o["target"] if "target" in o else round(o["targetPercent"] / 100, 12),
            "timeSliceTarget": o.get("timeSliceTarget"),
            "op": o.get("op"),
        }
        for o in spec["objectives"]
    ]
    written = {"apiVersion": "openslo/v1alpha", "kind": "SLO", "metadata": meta, "spec": alpha}
    return SloV1alpha.model_validate(written).model_dump(mode="json", exclude_none=True)
