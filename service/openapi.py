"""The OpenAPI 3.1 document, built from the same Endpoint list that builds the routes."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter

from service import __version__
from service.errors import PROBLEM_MEDIA_TYPE
from service.rest.endpoint import Endpoint

_CONVERTOR = re.compile(r"\{(\w+):\w+\}")
_REF = "#/components/schemas/{model}"

_STATUS_TEXT = {
    400: "The request cannot be read",
    401: "No valid token",
    403: "The token lacks the required scope",
    404: "No such resource",
    409: "Conflict: a duplicate key, or the resource is still referenced",
    413: "Body or batch over the documented limit",
    415: "Unsupported Content-Type",
    422: "Validation failed; `errors` names each bad field",
    429: "The token is over its rate limit; retry after Retry-After seconds",
    503: "The database is unreachable; retry after Retry-After seconds",
}


#: How tools prove a webhook delivery is theirs (checked against the source's secret).
_SOURCE_SCHEMES: dict[str, Any] = {
    "githubSignature": {"type": "apiKey", "in": "header", "name": "X-Hub-Signature-256",
                        "description": "sha256=<hex HMAC-SHA256 of the body with the secret>"},
    "gitlabToken": {"type": "apiKey", "in": "header", "name": "X-Gitlab-Token",
                    "description": "The source's secret token"},
    "pagerdutySignature": {"type": "apiKey", "in": "header", "name": "X-PagerDuty-Signature",
                           "description": "v1=<hex HMAC-SHA256>[,v1=...] (any may match)"},
    "sourceBearer": {"type": "http", "scheme": "bearer",
                     "description": "The source's secret as a bearer token"},
    "sourceBasic": {"type": "http", "scheme": "basic",
                    "description": "The source's username and secret"},
    "sourceToken": {"type": "apiKey", "in": "query", "name": "token",
                    "description": "The source's secret in the URL"},
}  # fmt: skip


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
    errors: list[ProblemFieldError] | None = None


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, tp: Any, mode: str) -> dict[str, Any]:
        schema = TypeAdapter(tp).json_schema(ref_template=_REF, mode=mode)  # type: ignore[arg-type]
        for name, definition in schema.pop("$defs", {}).items():
            self.components.setdefault(name, definition)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            name = tp.__name__
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


def _parameters(endpoint: Endpoint, path: str, schemas: _Schemas) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "integer" if f"{{{name}:int}}" in endpoint.path else "string"}}
        for name in re.findall(r"\{(\w+)", path)
    ]  # fmt: skip
    if endpoint.query is not None:
        for name, info in endpoint.query.model_fields.items():
            schema = TypeAdapter(info.annotation or str).json_schema(ref_template=_REF)
            for def_name, definition in schema.pop("$defs", {}).items():
                schemas.components.setdefault(def_name, definition)
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
    errors = set(endpoint.errors)
    if endpoint.scope is not None:
        op["security"] = [{"bearerAuth": []}]
        op["x-required-scope"] = endpoint.scope.value
        errors |= {401, 403, 429}
    if endpoint.auth == "source":
        op["security"] = [{name: []} for name in _SOURCE_SCHEMES]
    if endpoint.query is not None:
        errors.add(422)
    if endpoint.keyed or endpoint.idempotency == "delivery":
        errors |= {409, 422}
    errors.add(503)
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _REF.format(model="Problem")}}}
    for status in sorted(errors):
        responses[str(status)] = {"description": _STATUS_TEXT[status], "content": problem}
    op["responses"] = responses
    return op


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
                "properties": {"query": {"type": "string"},
                               "variables": {"type": ["object", "null"]},
                               "operationName": {"type": ["string", "null"]}}}}}},
            "responses": {
                "200": {"description": "A GraphQL response (data and/or errors)",
                        "content": {"application/json": {"schema": {"type": "object"}}}},
                "401": {"description": _STATUS_TEXT[401], "content": {
                    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _REF.format(model="Problem")}}}},
                "403": {"description": _STATUS_TEXT[403], "content": {
                    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _REF.format(model="Problem")}}}},
                "429": {"description": _STATUS_TEXT[429], "content": {
                    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _REF.format(model="Problem")}}}},
            },
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
