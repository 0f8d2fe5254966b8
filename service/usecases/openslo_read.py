"""OpenSLO v1 documents read into the catalog: a Service becomes a service, an SLO a ratio KPI
of good over total events (or time slices) with its objectives as the KPI's target, its
AlertPolicies its escalation path. What the catalog has no field for (the SLI's queries,
labels, descriptions, windows) is kept beside the KPI or service, so export writes it back.
A construct the service has no equivalent for is refused, naming the document and field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from service.errors import FieldError, ValidationFailed
from service.models.catalog import EscalationStep, ServiceIn
from service.models.enums import Cadence, Channel
from service.models.instants import EARLIEST_DAY
from service.models.openslo import (
    DOCUMENT_KINDS,
    DURATION,
    Document,
    InlineAlertPolicy,
    InlineNotificationTarget,
    InlineSli,
    Objective,
    ServiceDocument,
    SloDocument,
    SloSpec,
)
from service.usecases.catalog_file import KpiDefinition

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
#: Tier of a service an SLO names that neither the file nor the catalog defines.
DEFAULT_TIER = 4
#: KPI keys of an SLO's two counts: `<key>_good` and `<key>_total` must fit 63 characters.
LONGEST_KEY = 63 - len("_total")
GOOD, BAD, TOTAL = "_good", "_bad", "_total"


class OpensloProblem(Exception):
    """A field of one document the service cannot take."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


@dataclass
class OpensloPlan:
    """What the documents ask of the catalog, and what is kept beside it for export."""

    services: list[ServiceIn] = field(default_factory=list)
    kpis: list[KpiDefinition] = field(default_factory=list)
    slo_documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    service_documents: dict[str, dict[str, Any]] = field(default_factory=dict)


def is_openslo(document: Any) -> bool:
    return isinstance(document, dict) and str(document.get("apiVersion", "")).startswith("openslo/")


def key_of(name: str) -> str:
    """The KPI key of an SLO name (dashes become underscores)."""
    return name.replace("-", "_")


def name_of(key: str) -> str:
    """The SLO name of a KPI key."""
    return key.replace("_", "-")


def _dotted(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text


def _label(document: Any, index: int) -> str:
    if isinstance(document, dict):
        name = (document.get("metadata") or {}).get("name")
        if document.get("kind") and name:
            return f"{document['kind']} {name!r}"
    return f"document {index + 1}"


def _refused(label: str, index: int, field_name: str, detail: str) -> ValidationFailed:
    pointer = "#/" + "/".join(
        [str(index), *field_name.replace("[", ".").replace("]", "").split(".")]
    )
    return ValidationFailed(
        f"{label}: {field_name}: {detail}", errors=[FieldError(pointer, detail)]
    )


def _pydantic_problem(exc: ValidationError, prefix: Sequence[str | int] = ()) -> OpensloProblem:
    err = exc.errors(include_url=False)[0]
    loc = [*prefix, *err["loc"]]
    cause = err.get("ctx", {}).get("error")
    blamed = getattr(cause, "field", None)
    if isinstance(blamed, str):
        loc.extend(blamed.split("."))
    return OpensloProblem(_dotted(loc), err["msg"] if cause is None else str(cause))


def _parse(document: Any) -> Document:
    if not isinstance(document, dict):
        raise OpensloProblem("apiVersion", "an OpenSLO document is a mapping")
    if document.get("apiVersion") != "openslo/v1":
        raise OpensloProblem("apiVersion", "only openslo/v1 documents are read")
    kind = document.get("kind")
    if kind == "DataSource":
        raise OpensloProblem(
            "kind",
            "the service runs no queries and keeps no connection "
            "details: leave DataSource out (metricSourceRef is kept as written)",
        )
    model = DOCUMENT_KINDS.get(str(kind))
    if model is None:
        raise OpensloProblem(
            "kind",
            f"{kind!r} is not an OpenSLO v1 kind the service reads ({', '.join(DOCUMENT_KINDS)})",
        )
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise _pydantic_problem(exc) from exc


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)


def _tier(labels: Mapping[str, str | list[str]] | None) -> int | None:
    given = (labels or {}).get("serviceTier")
    if given is None:
        return None
    values = [given] if isinstance(given, str) else given
    text = values[0].removeprefix("tier-") if len(values) == 1 else ""
    if text not in {"1", "2", "3", "4"}:
        raise OpensloProblem("metadata.labels.serviceTier", "one of tier-1, tier-2, tier-3, tier-4")
    return int(text)


class _Reader:
    def __init__(self, documents: Sequence[tuple[int, Document]], tiers: Mapping[str, int]) -> None:
        self.tiers = tiers
        self.by_kind: dict[str, dict[str, dict[str, Any]]] = {}
        for _, doc in documents:
            self.by_kind.setdefault(doc.kind, {})[doc.metadata.name] = _dump(doc)
        self.plan = OpensloPlan()
        self.declared: set[str] = set()

    def named(self, kind: str, name: str, field_name: str) -> dict[str, Any]:
        """The document of that kind and name in the file, or a problem naming the field."""
        found = self.by_kind.get(kind, {}).get(name)
        if found is None:
            raise OpensloProblem(field_name, f"no {kind} {name!r} in the file")
        return found

    def service(self, doc: ServiceDocument) -> None:
        slug = doc.metadata.name
        tier = _tier(doc.metadata.labels) or self.tiers.get(slug, DEFAULT_TIER)
        name = doc.metadata.displayName or slug
        try:
            self.plan.services.append(ServiceIn(slug=slug, name=name, tier=tier))
        except ValidationError as exc:  # the name is the one field not checked yet
            raise OpensloProblem("metadata.displayName", _pydantic_problem(exc).detail) from exc
        self.declared.add(slug)
        kept = _dump(doc)
        labels = {
            k: v for k, v in (kept["metadata"].get("labels") or {}).items() if k != "serviceTier"
        }
        meta = {
            k: v
            for k, v in (("labels", labels), ("annotations", kept["metadata"].get("annotations")))
            if v
        }
        self.plan.service_documents[slug] = {"metadata": meta, "spec": kept.get("spec") or {}}

    def slo(self, doc: SloDocument) -> None:
        key = key_of(doc.metadata.name)
        spec = doc.spec
        indicator = self.indicator(doc)
        _check_slo(key, indicator, spec.budgetingMethod)
        objectives = _objectives(spec.objectives, spec.budgetingMethod, _is_threshold(indicator))
        name = doc.metadata.displayName or doc.metadata.name
        self.implicit_service(spec.service)
        steps, policies = self.escalation_path(spec.alertPolicies or [])
        counted = "time slices" if spec.budgetingMethod == "Timeslices" else "events"
        kpi = _ratio_kpi(key, name, spec, counts_bad(indicator))
        if spec.alertPolicies:
            kpi["escalation_path"] = steps
        sides = [
            {"key": key + suffix, "name": f"{name}: {side} {counted}"[:200],
             "unit": counted.replace(" ", "_"), "direction": "higher_is_better",
             "aggregation": "sum", "services": [spec.service]}
            for suffix, side in ((BAD, "bad") if counts_bad(indicator) else (GOOD, "good"),
                                 (TOTAL, "total"))
        ]  # fmt: skip
        try:
            self.plan.kpis.extend(KpiDefinition.model_validate(k) for k in (kpi, *sides))
        except ValidationError as exc:
            problem = _pydantic_problem(exc)
            # The KPI's only field taken from the document as written is its name.
            raise OpensloProblem("metadata.displayName", problem.detail) from exc
        kept = _dump(doc)
        kept["metadata"] = {
            k: v for k, v in kept["metadata"].items() if k not in {"name", "displayName"}
        }
        kept["spec"] = {
            k: v
            for k, v in kept["spec"].items()
            if k not in {"service", "indicatorRef", "objectives", "alertPolicies"}
        }
        kept["spec"]["indicator"] = _dump(indicator)
        kept["spec"]["objectives"] = objectives
        if policies:
            kept["spec"]["alertPolicies"] = policies
        self.plan.slo_documents[key] = kept

    def implicit_service(self, slug: str) -> None:
        """A service an SLO names that neither the file nor the catalog defines: created
        with its slug as its name, at the least critical tier."""
        if slug not in self.declared and slug not in self.tiers:
            self.plan.services.append(ServiceIn(slug=slug, name=slug, tier=DEFAULT_TIER))
            self.declared.add(slug)

    def indicator(self, doc: SloDocument) -> InlineSli:
        if doc.spec.indicator is not None:
            return doc.spec.indicator
        sli = self.named("SLI", doc.spec.indicatorRef or "", "spec.indicatorRef")
        return InlineSli.model_validate({"metadata": sli["metadata"], "spec": sli["spec"]})

    def escalation_path(
        self, policies: Sequence[dict[str, Any]]
    ) -> tuple[list[EscalationStep], list[dict[str, Any]]]:
        """The steps of the policies that alert when breaching (one per notification
        target, in order), and the policies with their references written inline."""
        steps: list[EscalationStep] = []
        kept: list[dict[str, Any]] = []
        for i, given in enumerate(policies):
            where = f"spec.alertPolicies[{i}]"
            policy = self.policy(given, where)
            kept.append(_dump(policy))
            if not policy.spec.alertWhenBreaching:
                continue
            for j, target in enumerate(policy.spec.notificationTargets):
                steps.append(_step(target, f"{where}.spec.notificationTargets[{j}]"))
        return steps, kept

    def policy(self, given: dict[str, Any], where: str) -> InlineAlertPolicy:
        if set(given) == {"alertPolicyRef"}:
            found = self.named(
                "AlertPolicy", str(given["alertPolicyRef"]), where + ".alertPolicyRef"
            )
            given = {"kind": "AlertPolicy", "metadata": found["metadata"], "spec": found["spec"]}
        try:
            policy = InlineAlertPolicy.model_validate(given)
        except ValidationError as exc:
            raise _pydantic_problem(exc, (where,)) from exc
        spec = policy.spec
        conditions = [
            self.condition(c, f"{where}.spec.conditions[{k}]")
            for k, c in enumerate(spec.conditions)
        ]
        targets = [
            self.target(t, f"{where}.spec.notificationTargets[{k}]")
            for k, t in enumerate(spec.notificationTargets)
        ]
        return policy.model_copy(
            update={
                "spec": spec.model_copy(
                    update={"conditions": conditions, "notificationTargets": targets}
                )
            }
        )

    def condition(self, given: dict[str, Any], where: str) -> dict[str, Any]:
        if set(given) != {"conditionRef"}:
            return given
        found = self.named("AlertCondition", str(given["conditionRef"]), where + ".conditionRef")
        return {"kind": "AlertCondition", "metadata": found["metadata"], "spec": found["spec"]}

    def target(self, given: dict[str, Any], where: str) -> dict[str, Any]:
        if set(given) == {"targetRef"}:
            found = self.named(
                "AlertNotificationTarget", str(given["targetRef"]), where + ".targetRef"
            )
            given = {
                "kind": "AlertNotificationTarget",
                "metadata": found["metadata"],
                "spec": found["spec"],
            }
        try:
            return _dump(InlineNotificationTarget.model_validate(given))
        except ValidationError as exc:
            raise _pydantic_problem(exc, (where,)) from exc


def _step(target: dict[str, Any], where: str) -> EscalationStep:
    address = str(target["spec"]["target"])
    who = target["metadata"]["name"]
    if address.startswith(("http://", "https://")):
        channel = Channel.WEBHOOK
    elif "@" in address and " " not in address:
        channel = Channel.EMAIL
    else:
        raise OpensloProblem(
            f"{where}.spec.target",
            f"{address!r} is neither an e-mail "
            "address nor an http(s) URL: the service notifies only those",
        )
    try:
        return EscalationStep(who=who, channel=channel, address=address)
    except ValidationError as exc:
        raise _pydantic_problem(exc, (where, "spec")) from exc


def _is_threshold(indicator: InlineSli) -> bool:
    return indicator.spec.thresholdMetric is not None


def _check_slo(key: str, indicator: InlineSli, method: str) -> None:
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


def _ratio_kpi(key: str, name: str, spec: SloSpec, bad: bool) -> dict[str, Any]:
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


def _objectives(objectives: Sequence[Objective], method: str, threshold: bool) -> list[Any]:
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


def _documents(raw: Sequence[tuple[int, Any]]) -> Iterator[tuple[int, Document]]:
    for index, document in raw:
        try:
            yield index, _parse(document)
        except OpensloProblem as exc:
            raise _refused(_label(document, index), index, exc.field, exc.detail) from exc


def read_openslo(raw: Sequence[tuple[int, Any]], tiers: Mapping[str, int]) -> OpensloPlan:
    """The plan for the OpenSLO documents of a file (with their index in the file), given
    the tiers of the services the catalog holds; ValidationFailed names document and field."""
    documents = list(_documents(raw))
    names: dict[tuple[str, str], int] = {}
    for index, doc in documents:
        kind = doc.kind
        if (kind, doc.metadata.name) in names:
            label = f"{doc.kind} {doc.metadata.name!r}"
            raise _refused(label, index, "metadata.name", "given twice in the file")
        names[(kind, doc.metadata.name)] = index
    reader = _Reader(documents, tiers)
    for kinds in ((ServiceDocument,), (SloDocument,)):
        for index, doc in documents:
            if not isinstance(doc, kinds):
                continue
            try:
                reader.service(doc) if isinstance(doc, ServiceDocument) else reader.slo(doc)
            except OpensloProblem as exc:
                label = f"{doc.kind} {doc.metadata.name!r}"
                raise _refused(label, index, exc.field, exc.detail) from exc
    return reader.plan
