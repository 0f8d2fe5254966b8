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
from service.models.enums import Channel
from service.models.openslo import (
    DOCUMENT_KINDS,
    Document,
    InlineAlertPolicy,
    InlineNotificationTarget,
    InlineSli,
    ServiceDocument,
    SloDocument,
)
from service.usecases.catalog_file import KpiDefinition
from service.usecases.openslo_kpi import (
    BAD,
    GOOD,
    TOTAL,
    OpensloProblem,
    check_slo,
    counts_bad,
    is_threshold,
    kept_objectives,
    key_of,
    ratio_kpi,
)

#: Tier of a service an SLO names that neither the file nor the catalog defines.
DEFAULT_TIER = 4


@dataclass
class OpensloPlan:
    """What the documents ask of the catalog, and what is kept beside it for export."""

    services: list[ServiceIn] = field(default_factory=list)
    kpis: list[KpiDefinition] = field(default_factory=list)
    slo_documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    service_documents: dict[str, dict[str, Any]] = field(default_factory=dict)


def is_openslo(document: Any) -> bool:
    return isinstance(document, dict) and str(document.get("apiVersion", "")).startswith("openslo/")


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
        check_slo(key, indicator, spec.budgetingMethod)
        objectives = kept_objectives(spec.objectives, spec.budgetingMethod, is_threshold(indicator))
        name = doc.metadata.displayName or doc.metadata.name
        self.implicit_service(spec.service)
        steps, policies = self.escalation_path(spec.alertPolicies or [])
        counted = "time slices" if spec.budgetingMethod == "Timeslices" else "events"
        kpi = ratio_kpi(key, name, spec, counts_bad(indicator))
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
