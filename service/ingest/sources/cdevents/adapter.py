"""CDEvents (https://cdevents.dev) sent as CloudEvents: deployments, rollbacks, pipeline runs
and incidents, from any tool that speaks the standard.

Each CDEvent is checked against the JSON Schema of its type in the spec version its context
names (0.4.1, 0.5.1 and the 0.6.0 draft: schemas.py), then:

* `service.deployed`, `service.upgraded`: a successful deploy of the service the subject
  names (`subject.id`), in `environment.id` (production if the source lists it), the artifact
  id kept as its title and label;
* `service.rolledback`: a successful change of kind rollback, which counts against the deploy
  it undid: the event names only the environment and artifact, so the rule is the last
  successful production deploy of that service in that environment before it (inferred);
* `pipelinerun.finished` with an `outcome`: a pipeline change (success, failure or error
  failed, cancel canceled), of no environment, as GitHub's workflow runs;
* `incident.detected`, `.reported` (opened) and `.resolved`: the incident `subject.id`, of the
  service `service.id`.

Every other type (change, environment, pipelinerun queued/started, service published/removed)
and other spec versions are valid deliveries the service does not use: kept as unmapped with
the reason. A batch applies the events it can use; it is unmapped when it has none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from service.ingest.jsonread import (
    Json,
    child,
    nonempty,
    object_at,
    optional_object_at,
    required_text,
    validated,
    without_none,
)
from service.ingest.model import AdapterOptions, Delivery, Mapped, PayloadError, Unsupported
from service.ingest.sources.cdevents import cloudevent, schemas
from service.ingest.sources.cdevents.cloudevent import Envelope
from service.ingest.timeparse import parse_time
from service.models.enums import ChangeKind, ChangeStatus, IncidentStep
from service.models.events import ChangeEvent, IncidentEvent

KIND = "cdevents"

_PREFIX = "dev.cdevents."
#: A pipeline run's outcome (free text in 0.4, an enum since 0.5) and the change status it is.
_OUTCOMES: Mapping[str, ChangeStatus] = {
    "success": ChangeStatus.SUCCESS,
    **dict.fromkeys(("failure", "error"), ChangeStatus.FAILED),
    "cancel": ChangeStatus.CANCELED,
}
#: Detected (by a tool) and reported (by a person) both open the incident.
_INCIDENT_STEPS: Mapping[str, IncidentStep] = {
    **dict.fromkeys(("incident.detected", "incident.reported"), IncidentStep.TRIGGERED),
    "incident.resolved": IncidentStep.RESOLVED,
}


# --- the adapter contract ------------------------------------------------------------------


def event_type(delivery: Delivery) -> str:
    types = [t for _, _, t in cloudevent.attributes(delivery.headers, delivery.payload)]
    names = dict.fromkeys(t for t in types if isinstance(t, str) and t)
    return ",".join(names) or "unknown"


def parse(delivery: Delivery, options: AdapterOptions) -> Mapped:
    mapped, skipped = Mapped(), []
    for envelope in cloudevent.read(delivery.headers, delivery.payload):
        try:
            _add(mapped, envelope)
        except Unsupported as exc:
            skipped.append(str(exc))
    if mapped.is_empty():
        raise Unsupported("; ".join(dict.fromkeys(skipped)))
    return mapped


def base_type(name: str) -> str:
    """The type without its prefix and version: dev.cdevents.service.deployed.0.2.0 ->
    service.deployed."""
    parts = name.removeprefix(_PREFIX).split(".")
    return ".".join(parts[:2])


# --- one CDEvent ---------------------------------------------------------------------------


def _add(mapped: Mapped, envelope: Envelope) -> None:
    pointer = envelope.data_pointer
    cdevent = object_at(envelope.data, pointer)
    context = object_at(cdevent.get("context"), child(pointer, "context"))
    name = _checked_type(envelope, context, child(pointer, "context"))
    version = nonempty(context.get("specversion")) or nonempty(context.get("version"))
    if version is None or version not in schemas.SPEC_VERSIONS:
        readable = ", ".join(schemas.SPEC_VERSIONS)
        raise Unsupported(f"CDEvents spec version {version} is not read (only {readable})")
    if name not in schemas.known_types(version):
        raise Unsupported(f"CDEvent type {name} is not used (no schema in spec {version})")
    try:
        schemas.check(cdevent, version, name, pointer)
    except schemas.SchemaViolation as exc:
        raise PayloadError(exc.pointer, exc.detail) from exc
    reader = _READERS.get(base_type(name))
    if reader is None:
        raise Unsupported(f"CDEvent {base_type(name)} is not used (only {', '.join(_READERS)})")
    reader(mapped, _Read(envelope, cdevent, pointer))


def _checked_type(envelope: Envelope, context: Json, pointer: str) -> str:
    """The CDEvent's type, which the CloudEvent's type must equal (the binding says so)."""
    name = required_text(context, "type", pointer)
    if name != envelope.type:
        raise PayloadError(
            child(pointer, "type"), f"differs from the CloudEvent's type {envelope.type}"
        )
    return name


class _Read:
    """A CDEvent that met its schema: its context and subject, with their pointers."""

    def __init__(self, envelope: Envelope, cdevent: Json, pointer: str) -> None:
        self.envelope = envelope
        context_at = child(pointer, "context")
        self.context = object_at(cdevent.get("context"), context_at)
        self.subject_at = child(pointer, "subject")
        self.subject = object_at(cdevent.get("subject"), self.subject_at)
        self.content_at = child(self.subject_at, "content")
        self.content = optional_object_at(self.subject.get("content"), self.content_at)
        self.at = parse_time(self.context.get("timestamp"), child(context_at, "timestamp"))

    def subject_id(self) -> str:
        return required_text(self.subject, "id", self.subject_at)

    def subject_source(self) -> str:
        return nonempty(self.subject.get("source")) or self.envelope.source

    def environment(self) -> str | None:
        environment = optional_object_at(self.content.get("environment"), self.content_at)
        return nonempty(environment.get("id"))

    def labels(self, **more: str | None) -> dict[str, str]:
        return without_none(
            environment=self.environment(),
            artifact=nonempty(self.content.get("artifactId")),
            cloudevent_source=self.envelope.source,
            **more,
        )


def _service_change(kind: ChangeKind) -> Callable[[Mapped, _Read], None]:
    def read(mapped: Mapped, r: _Read) -> None:
        event = validated(
            ChangeEvent, r.envelope.data_pointer,
            external_id=r.envelope.key, event_key=r.envelope.key,
            status=ChangeStatus.SUCCESS, occurred_at=r.at, finished_at=r.at,
            service_ref=r.subject_id(),
            service_labels=r.labels(subject_source=r.subject_source()),
            environment=r.environment(), kind=kind, title=nonempty(r.content.get("artifactId")),
            rolls_back_previous=kind is ChangeKind.ROLLBACK,
        )  # fmt: skip
        mapped.changes.append(event)

    return read


def _pipeline_run(mapped: Mapped, r: _Read) -> None:
    outcome = nonempty(r.content.get("outcome"))
    status = _OUTCOMES.get(outcome) if outcome else None
    if status is None:  # 0.4 leaves the outcome free text, and optional
        raise Unsupported(
            f"CDEvent pipelinerun.finished without an outcome of {', '.join(_OUTCOMES)}"
        )
    pipeline = nonempty(r.content.get("pipelineName"))
    url = nonempty(r.content.get("uri")) or nonempty(r.content.get("url"))  # 0.5 renamed it
    event = validated(
        ChangeEvent, r.envelope.data_pointer,
        external_id=f"pipelinerun:{identity(r)}", event_key=r.envelope.key,
        status=status, occurred_at=r.at, finished_at=r.at,
        service_ref=pipeline, service_labels=r.labels(pipeline=pipeline),
        kind=ChangeKind.DEPLOY, title=pipeline, url=url,
    )  # fmt: skip
    mapped.changes.append(event)


def _incident(mapped: Mapped, r: _Read) -> None:
    step = _INCIDENT_STEPS[base_type(r.envelope.type)]
    service = optional_object_at(r.content.get("service"), child(r.content_at, "service"))
    description = nonempty(r.content.get("description"))
    event = validated(
        IncidentEvent, r.envelope.data_pointer,
        external_id=identity(r), event_key=r.envelope.key, step=step, occurred_at=r.at,
        detected_at=r.at if step is IncidentStep.TRIGGERED else None,
        service_ref=nonempty(service.get("id")),
        service_labels=r.labels(service_source=nonempty(service.get("source"))),
        title=description, text=description,
    )  # fmt: skip
    mapped.incidents.append(event)


def identity(r: _Read) -> str:
    """The subject (an incident, a pipeline run) as its source names it."""
    return cloudevent.identity(r.subject_source(), r.subject_id())


_READERS: Mapping[str, Callable[[Mapped, _Read], None]] = {
    "service.deployed": _service_change(ChangeKind.DEPLOY),
    "service.upgraded": _service_change(ChangeKind.DEPLOY),
    "service.rolledback": _service_change(ChangeKind.ROLLBACK),
    "pipelinerun.finished": _pipeline_run,
    **dict.fromkeys(_INCIDENT_STEPS, _incident),
}
