"""CloudEvents over HTTP, read with the CloudEvents SDK: binary mode (`ce-*` headers, the
CDEvent as the body), structured mode (`application/cloudevents+json`, the CDEvent in `data`)
and batches (`application/cloudevents-batch+json`: a JSON array of structured events, each
converted by the SDK, which has no batch mode of its own)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import orjson
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.http import HTTPMessage, from_binary_event
from cloudevents.core.exceptions import BaseCloudEventException, CloudEventValidationError
from cloudevents.core.formats.json import JSONFormat

from service.ingest.jsonread import child, list_at, nonempty, object_at, peek
from service.ingest.model import PayloadError
from service.ingest.timeparse import parse_time

BATCH = "application/cloudevents-batch+json"
STRUCTURED = "application/cloudevents+json"
_PREFIX = "ce-"


@dataclass(frozen=True)
class Envelope:
    """One CloudEvent of a delivery, with where its CDEvent (`data`) sits in the body."""

    source: str
    id: str
    type: str
    data: object
    #: The JSON pointer of the CDEvent in the body ("" in binary mode, "/data" structured).
    data_pointer: str

    @property
    def key(self) -> str:
        """CloudEvents identity: an event is its `source` plus its `id`."""
        return identity(self.source, self.id)


def identity(source: str, event_id: str) -> str:
    return f"{event_id}@{source}"


def is_batch(headers: Mapping[str, str]) -> bool:
    return headers.get("content-type", "").split(";")[0].strip().lower() == BATCH


def is_binary(headers: Mapping[str, str]) -> bool:
    return any(name.startswith(_PREFIX) for name in headers)


def read(headers: Mapping[str, str], payload: object) -> list[Envelope]:
    """The CloudEvents of one delivery; a PayloadError names what breaks the binding."""
    if is_batch(headers):
        elements = list_at(payload, "", detail=f"expected a JSON array ({BATCH})")
        return [_structured(e, child("", i)) for i, e in enumerate(elements)]
    if is_binary(headers):
        return [_binary(headers, payload)]
    return [_structured(payload, "")]


def _binary(headers: Mapping[str, str], payload: object) -> Envelope:
    # The SDK makes up an id when there is none: CloudEvents requires one, and it is half of
    # what makes a delivery a duplicate.
    if not nonempty(headers.get("ce-id")):
        raise PayloadError("", "required CloudEvent attribute id is missing", header="ce-id")
    message = HTTPMessage(headers=dict(headers), body=orjson.dumps(payload))
    try:
        event = from_binary_event(message)
    except CloudEventValidationError as exc:
        name = next(iter(exc.errors), "specversion")
        raise PayloadError("", str(exc), header=f"{_PREFIX}{name}") from exc
    except (BaseCloudEventException, ValueError) as exc:
        raise PayloadError("", f"not a CloudEvent in binary mode: {exc}") from exc
    return _envelope(event, "")


def _structured(value: object, pointer: str) -> Envelope:
    element = object_at(value, pointer)
    if not nonempty(element.get("id")):
        raise PayloadError(child(pointer, "id"), "required CloudEvent attribute is missing")
    if "data" not in element:
        raise PayloadError(child(pointer, "data"), "expected the CDEvent as the event's data")
    if element.get("time") is not None:  # the SDK's own error would not name it
        parse_time(element["time"], child(pointer, "time"))
    try:
        event = JSONFormat().read(None, orjson.dumps(element))
    except CloudEventValidationError as exc:
        name = next(iter(exc.errors), "specversion")
        raise PayloadError(child(pointer, name), str(exc)) from exc
    except (BaseCloudEventException, ValueError, TypeError) as exc:
        raise PayloadError(pointer, f"not a structured CloudEvent: {exc}") from exc
    return _envelope(event, child(pointer, "data"))


def _envelope(event: BaseCloudEvent, data_pointer: str) -> Envelope:
    data = event.get_data()
    if isinstance(data, bytes | str):  # data_base64, or a body not sent as JSON
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise PayloadError(data_pointer, "expected the CDEvent as a JSON object") from exc
    return Envelope(
        source=event.get_source(), id=event.get_id(), type=event.get_type(), data=data,
        data_pointer=data_pointer,
    )  # fmt: skip


# --- lenient reads, for the delivery log and the replay ids (never raise) --------------------


def attributes(headers: Mapping[str, str], payload: object) -> list[tuple[object, object, object]]:
    """(source, id, type) of each event as sent, unchecked."""
    if is_batch(headers):
        elements = payload if isinstance(payload, list) else []
        return [(peek(e, "source"), peek(e, "id"), peek(e, "type")) for e in elements]
    if is_binary(headers):
        return [(headers.get("ce-source"), headers.get("ce-id"), headers.get("ce-type"))]
    return [(peek(payload, "source"), peek(payload, "id"), peek(payload, "type"))]
