"""The OpenAPI 3.1 document, built from the same Endpoint list that builds the routes."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter

from service import __version__
from service.errors import PROBLEM_MEDIA_TYPE
from service.ingest import sources
from service.rest.endpoint import Endpoint

_CONVERTOR = re.compile(r"\{(\w+):\w+\}")
_REF = "#/components/schemas/{model}"

_STATUS_TEXT = {
    202: "Kept but not applied (unmapped): `detail` says why; replay it once mapped",
    400: "The request cannot be read",
    401: "No valid token",
    403: "The token lacks the required scope, or may not write to the source named",
    404: "No such resource",
    408: "The body stopped arriving before it was complete",
    409: "Conflict: a duplicate key, or the resource is still referenced",
    413: "Body or batch over the documented limit",
    415: "Unsupported Content-Type, or a compressed body (any Content-Encoding but identity)",
    422: "Validation failed; `errors` names each bad field",
    429: "Over a rate limit (the token's; on webhooks, the client address's or the source's "
    "limit of refused requests); retry after Retry-After seconds",
    503: "The database is unreachable, or rolled the request back on meeting a concurrent "
    "write (nothing stored); retry after Retry-After seconds",
}


#: How tools prove a webhook delivery is theirs (checked against the source's secret).
_SOURCE_SCHEMES = sources.security_schemes()


class ProblemFieldError(BaseModel):
    pointer: str = Field(description="JSON pointer to the bad field, e.g. #/3/ts.")
    field: str = Field(description="The same as a dotted name, e.g. 3.ts.")
    detail: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemFieldError] | None = Field(
        default=None, description="Every bad field (the first 100; see errors_total)."
    )
    errors_total: int | None = Field(
        default=None, description="How many bad fields there were, when more than 100."
    )


def _models(tp: Any, seen: set[type[BaseModel]]) -> Iterator[type[BaseModel]]:
    """Every pydantic model `tp` is or holds, through fields, unions, lists and Annotated."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if tp in seen:
            return
        seen.add(tp)
        yield tp
        for info in tp.model_fields.values():
            yield from _models(info.annotation, seen)
    for arg in typing.get_args(tp):
        yield from _models(arg, seen)


def _renamed_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: (_REF.format(model=renames.get(value.rsplit("/", 1)[1], value.rsplit("/", 1)[1]))
                  if key == "$ref" and isinstance(value, str) else _renamed_refs(value, renames))
            for key, value in node.items()
        }  # fmt: skip
    if isinstance(node, list):
        return [_renamed_refs(item, renames) for item in node]
    return node


class _Schemas:
    """The spec's components. Each type's schema is made on its own, so two different models
    of the same name (e.g. an incident's Change and an applied catalog's Change) would share a
    component: the later one is renamed, prefixed with its module (CatalogApplyChange)."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def _free_name(self, name: str, definition: Any, owner: Any) -> str:
        if self.components.get(name, definition) == definition:
            return name
        module = next((m.__module__ for m in _models(owner, set()) if m.__name__ == name), "")
        prefix = "".join(part.title() for part in module.rsplit(".", 1)[-1].split("_"))
        candidate, n = prefix + name, 1
        while self.components.get(candidate, definition) != definition:
            n += 1
            candidate = f"{prefix}{name}{n}"
        return candidate

    def add(self, schema: dict[str, Any], owner: Any) -> dict[str, Any]:
        """Registers the $defs of `owner`'s schema as components; returns the schema without
        them, its references pointing at the names registered."""
        definitions: dict[str, Any] = schema.pop("$defs", {})
        renames = {
            name: free
            for name, definition in definitions.items()
            if (free := self._free_name(name, definition, owner)) != name
        }
        if renames:
            schema = _renamed_refs(schema, renames)
        for name, definition in definitions.items():
            final = renames.get(name, name)
            definition = _renamed_refs(definition, renames)
            if self.components.setdefault(final, definition) != definition:
                raise ValueError(f"two different schemas for the component {final!r}")
        return schema

    def ref(self, tp: Any, mode: str) -> dict[str, Any]:
        schema = TypeAdapter(tp).json_schema(ref_template=_REF, mode=mode)  # type: ignore[arg-type]
        schema = self.add(schema, tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            name = self._free_name(tp.__name__, schema, tp)
            self.components.setdefault(name, schema)
            return {"$ref": _REF.format(model=name)}
        return schema


_IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": "Any unique string (a UUID) per logical request, the same on every retry: "
    "a retry gets the first answer (with Idempotent-Replayed: true) and is applied once. The "
    "same key with a different request is a 409. Kept for 24 hours.",
}  # fmt: skip
_IF_NONE_MATCH: dict[str, Any] = {
    "name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
    "description": "The ETag of an answer already held: when the answer is still the same, "
    "304 Not Modified and no body.",
}  # fmt: skip
_ETAG: dict[str, Any] = {
    "description": "Tag of the answer's body; it changes whenever anything in the body does.",
    "schema": {"type": "string"},
}


def _parameters(endpoint: Endpoint, path: str, schemas: _Schemas) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "integer" if f"{{{name}:int}}" in endpoint.path else "string"}}
        for name in re.findall(r"\{(\w+)", path)
    ]  # fmt: skip
    if endpoint.query is not None:
        for name, info in endpoint.query.model_fields.items():
            annotation = info.annotation or str
            # With the field's own constraints (a limit's maximum, a pattern, a length), which
            # the annotation alone leaves out: the spec states every bound the service checks.
            metadata = [*info.metadata]
            if info.json_schema_extra:
                metadata.append(Field(json_schema_extra=info.json_schema_extra))
            constrained: Any = annotation
            if metadata:
                constrained = Annotated[annotation, *metadata]
            schema = schemas.add(
                TypeAdapter(constrained).json_schema(ref_template=_REF), annotation
            )
            param: dict[str, Any] = {
                "name": info.alias or name,
                "in": "query",
                "required": info.is_required(),
                "schema": schema,
            }
            if info.description:
                param["description"] = info.description
            params.append(param)
    if endpoint.keyed or endpoint.idempotency == "delivery":
        params.append(_IDEMPOTENCY_KEY)
    if endpoint.etag:
        params.append(_IF_NONE_MATCH)
    return params


def _operation(endpoint: Endpoint, path: str, schemas: _Schemas) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
    }
    if endpoint.description:
        op["description"] = endpoint.description
    params = _parameters(endpoint, path, schemas)
    if params:
        op["parameters"] = params
    if endpoint.body is not None:
        body_schema = schemas.ref(endpoint.body, "validation")
        op["requestBody"] = {
            "required": True,
            "content": {ct: {"schema": body_schema} for ct in endpoint.content_types},
        }
    ok: dict[str, Any] = {"description": "Success"}
    if endpoint.response is not None:
        ok["content"] = {
            "application/json": {"schema": schemas.ref(endpoint.response, "serialization")}
        }
    responses: dict[str, Any] = {str(endpoint.status): ok}
    if endpoint.etag:
        ok["headers"] = {"ETag": _ETAG}
        responses["304"] = {"description": "Not modified: the If-None-Match tag is the "
                            "answer's own", "headers": {"ETag": _ETAG}}  # fmt: skip
    if endpoint.scope is not None:
        op["security"] = [{"bearerAuth": []}]
        op["x-required-scope"] = endpoint.scope.value
    if endpoint.auth == "source":
        op["security"] = [{name: []} for name in _SOURCE_SCHEMES]
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _REF.format(model="Problem")}}}
    for status in sorted(_error_statuses(endpoint, params)):
        responses[str(status)] = {"description": _STATUS_TEXT[status], "content": problem}
    op["responses"] = responses
    return op


def _error_statuses(endpoint: Endpoint, params: list[dict[str, Any]]) -> set[int]:
    """Every error status the operation may answer: its own, and those of the machinery it
    goes through (tokens, bodies, queries, idempotency keys, the database)."""
    errors = set(endpoint.errors)
    if endpoint.scope is not None:
        errors |= {401, 403, 429}
    if endpoint.body is not None or endpoint.keyed:
        # rest.endpoint.body_chunks: the client paused too long, or compressed the body.
        errors |= {408, 415}
    if endpoint.query is not None:
        errors.add(422)
    if any(p["schema"]["type"] == "string" for p in params if p["in"] == "path"):
        # A text Postgres cannot hold (a NUL character) is refused by the database: 422
        # (errors.refused_value), whatever the operation.
        errors.add(422)
    if endpoint.keyed or endpoint.idempotency == "delivery":
        errors |= {409, 422}
    errors.add(503)
    return errors


def _graphql_responses() -> dict[str, Any]:
    """What POST /graphql answers: GraphQL results (errors included) as JSON; requests that are
    not GraphQL requests and refused tokens as problems."""
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _REF.format(model="Problem")}}}
    graphql_result = {"application/json": {"schema": {"type": "object"}}}
    responses: dict[str, Any] = {
        "200": {"description": "A GraphQL response (data and/or errors)",
                "content": graphql_result},
        "400": {"description": "Not a GraphQL request: body not a JSON object, no query, an "
                               "unknown operationName or an unsupported Content-Type",
                "content": problem},
        # Without the read scope the token is refused at the door (a problem); a mutation
        # without the admin scope is refused by the graph (a GraphQL response with errors).
        "403": {"description": _STATUS_TEXT[403], "content": {**problem, **graphql_result}},
    }  # fmt: skip
    responses["422"] = {
        "description": "The body repeats a key in a JSON object",
        "content": problem,
    }
    for status in (401, 408, 413, 415, 429, 503):
        responses[str(status)] = {"description": _STATUS_TEXT[status], "content": problem}
    return dict(sorted(responses.items()))


def build_openapi(endpoints: list[Endpoint]) -> dict[str, Any]:
    schemas = _Schemas()
    schemas.ref(Problem, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        path = _CONVERTOR.sub(r"{\1}", endpoint.path)
        paths.setdefault(path, {})[endpoint.method.lower()] = _operation(endpoint, path, schemas)
    paths["/graphql"] = {
        "post": {
            "operationId": "graphql",
            "summary": "The GraphQL graph (schema.graphql); queries need read, mutations admin",
            "tags": ["graphql"],
            "security": [{"bearerAuth": []}],
            "x-required-scope": "read",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["query"],
                "properties": {"query": {"type": "string", "minLength": 1},
                               "variables": {"type": ["object", "null"]},
                               "operationName": {"type": ["string", "null"]}}}}}},
            "responses": _graphql_responses(),
        }
    }  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "KPI service",
            "version": __version__,
            "description": "Ingestion and administration API of the KPI service. Errors are "
            "RFC 9457 problem+json. Scopes: read, ingest, admin (admin implies the others).",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": {
                **_SOURCE_SCHEMES,
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token from `kpi token create` or POST /v1/tokens.",
                },
            },
        },
    }
