"""The CDEvents specification's JSON Schemas, one set per spec version this service reads
(copied unchanged from github.com/cdevents/spec, Apache-2.0: see schemas/PROVENANCE.md).

An event is checked against the schema of its type in the spec version its context names
(`context.version` in 0.4, `context.specversion` since 0.5).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from service.ingest.jsonread import child

_HERE = Path(__file__).resolve().parent / "schemas"

#: Spec version (as the event's context names it) -> the folder of its schemas.
SPEC_VERSIONS: Mapping[str, str] = {
    "0.4.1": "v0.4.1",
    "0.5.1": "v0.5.1",
    "0.6.0-draft": "main-8917b18",
}


class SchemaViolation(Exception):
    """The event breaks its type's schema: `pointer` names the member at fault."""

    def __init__(self, pointer: str, detail: str) -> None:
        super().__init__(f"{pointer}: {detail}")
        self.pointer = pointer
        self.detail = detail


@functools.cache
def _validators(folder: str) -> dict[str, Draft202012Validator]:
    """The validators of one spec version, by the event type (with its version suffix) each
    schema's `context.type` admits."""
    resources = []
    by_type: dict[str, dict[str, Any]] = {}
    for path in sorted((_HERE / folder).rglob("*.json")):
        schema = json.loads(path.read_bytes())
        resources.append((schema["$id"], Resource.from_contents(schema, DRAFT202012)))
        context_type = schema.get("properties", {}).get("context", {}).get("properties", {})
        for name in context_type.get("type", {}).get("enum", []):
            by_type[name] = schema
    registry: Registry[Any] = Registry().with_resources(resources)
    return {
        name: Draft202012Validator(schema, registry=registry) for name, schema in by_type.items()
    }


def known_types(spec_version: str) -> frozenset[str]:
    """The event types (with their version suffix) the spec version has schemas for."""
    folder = SPEC_VERSIONS.get(spec_version)
    return frozenset(_validators(folder)) if folder else frozenset()


def check(event: object, spec_version: str, event_type: str, pointer: str) -> None:
    """Raise SchemaViolation, naming the member, unless the event meets its type's schema."""
    validator = _validators(SPEC_VERSIONS[spec_version])[event_type]
    error = best_match(validator.iter_errors(event))
    if error is None:
        return
    path = list(error.path)
    if error.validator == "required" and isinstance(error.instance, dict):
        # Name the member that is missing, not the object that lacks it.
        path += [name for name in error.validator_value if name not in error.instance][:1]
    at = "".join(child("", p) for p in path)
    raise SchemaViolation(f"{pointer}{at}", error.message)
