"""The OpenAPI 3.1 document, built from the same Endpoint list that builds the routes."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter

from service import __version__
from service.ingest import sources
from service.openapi_graphql import graphql_operation
from service.openapi_problems import problem_response
from service.rest import examples
from service.rest.csv_tables import CsvTable
from service.rest.endpoint import Endpoint
from service.rest.negotiation import DOCUMENT_FORMATS, FORMATS

CSV_MEDIA_TYPE = "text/csv"
_CONVERTOR = re.compile(r"\{(\w+):\w+\}")
_REF = "#/components/schemas/{model}"

#: Every tag of the document, in the order readers meet them, with what its operations do.
TAGS: dict[str, str] = {
    "health": "Liveness, readiness and the Prometheus metrics.",
    "teams": "The teams that own business services, their hierarchy, and their figures "
    "rolled up over their services and sub-teams.",
    "services": "Business services: tier, owners, revenue per hour, dependencies.",
    "outcomes": "Business outcomes the KPIs contribute to.",
    "kpis": "KPI definitions: owners, cadence, kind (observed, ratio, builtin metric), "
    "escalation path.",
    "targets": "Target values of a KPI, for all services, one service or one tier, by period.",
    "links": "The edges of the graph: a KPI contributes to an outcome, applies to a service.",
    "observations": "Measured points of observed KPIs, and every KPI's series.",
    "costs": "Cost records per service, category and period.",
    "backstage": "Facts for a Backstage Tech Insights fact retriever, per service entity.",
    "initiatives": "Technology programs: their services, the KPIs they should move, spend "
    "against budget, and the KPIs before and after.",
    "budgets": "Budgets per service, category and whole month or quarter, to compare spend with.",
    "maintenance": "Maintenance windows: planned downtime per service, announced ahead, left "
    "out of availability and the error budget.",
    "gates": "Error-budget policies, the deploy gate CI pipelines ask before releasing, "
    "and overrides recorded as change annotations.",
    "statuses": "Evaluated KPI statuses against their targets, the scorecard and reports.",
    "reviews": "The quarterly review for leaders: one closed quarter's reads as a printable "
    "HTML document or JSON.",
    "alerts": "Multi-window, multi-burn-rate alerts on a KPI's error budget: the policy "
    "per KPI and the alerts it fired and resolved.",
    "escalations": "Escalations opened by breached KPIs, acknowledged and resolved by people.",
    "incidents": "Incidents from the generic endpoint and every source, with their timelines.",
    "changes": "Changes (deploys, rollbacks ...) and the incidents they caused.",
    "webhooks": "Deliveries from the tools, each signed or authenticated in the tool's own way.",
    "sources": "The tools registered to send webhooks, with their mapping rules.",
    "datasources": "Prometheus servers that ratio KPIs take good and total events from.",
    "deliveries": "The log of every delivery received, refused deliveries, and replay.",
    "admin": "API tokens and the catalog applied as a whole.",
    "audit": "The audit trail: who changed the catalog, when, how, and what before and after.",
    "notifications": "The outbox of notifications sent to escalation webhooks.",
    "graphql": "The GraphQL graph, for portals.",
}

_SCOPE_TEXT = {
    "token": "Needs a token with the `{scope}` scope (admin implies the others).",
    "source": "Authenticated by the source's own scheme (its signature or its token), not by "
    "an API token.",
    "none": "Open: needs no token.",
}
_IDEMPOTENCY_TEXT = {
    "stored": "A retry with the same Idempotency-Key gets the first answer and is applied once.",
    "natural": "Sending the same request again changes nothing.",
    "delivery": "A retried delivery (the same Idempotency-Key or the tool's delivery id) is "
    "applied once.",
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
    "same key with a different request is a 409. Kept for 24 hours (KPI_RETAIN_IDEMPOTENCY_HOURS).",
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


_FORMAT: dict[str, Any] = {
    "name": "format", "in": "query", "required": False,
    "schema": {"type": "string", "enum": list(FORMATS)},
    "description": "csv answers RFC 4180 CSV (text/csv) with a header line, json JSON; "
    "without it the Accept header decides (q-values honoured; JSON on a tie or when absent).",
}  # fmt: skip


_DOCUMENT_FORMAT: dict[str, Any] = {
    "name": "format", "in": "query", "required": False,
    "schema": {"type": "string", "enum": list(DOCUMENT_FORMATS)},
    "description": "html answers the printable HTML document (text/html), json JSON; without "
    "it the Accept header decides (q-values honoured; JSON on a tie or when absent).",
}  # fmt: skip


def _csv_content(table: CsvTable) -> dict[str, Any]:
    """The text/csv answer: its header line as the example (the README lists the columns)."""
    header = ",".join(table.header) + "\r\n"
    return {
        CSV_MEDIA_TYPE: {
            "schema": {"type": "string", "description": "RFC 4180 CSV, UTF-8, with a header "
                       "line; text cells starting with = + - @ tab, CR or ' carry a leading '"},
            "example": header,
        }
    }  # fmt: skip


def _path_parameters(endpoint: Endpoint, path: str) -> list[dict[str, Any]]:
    """The path's parameters, with the pattern the endpoint declares for any of them."""
    patterns = dict(endpoint.path_patterns)
    params: list[dict[str, Any]] = []
    for name in re.findall(r"\{(\w+)", path):
        schema = {"type": "integer" if f"{{{name}:int}}" in endpoint.path else "string"}
        if name in patterns:
            schema["pattern"] = patterns[name]
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


def _parameters(endpoint: Endpoint, path: str, schemas: _Schemas) -> list[dict[str, Any]]:
    params = _path_parameters(endpoint, path)
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
    if endpoint.csv is not None:
        params.append(_FORMAT)
    if endpoint.other_media:
        params.append(_DOCUMENT_FORMAT)
    if endpoint.etag:
        params.append(_IF_NONE_MATCH)
    return params


def _operation(endpoint: Endpoint, path: str, schemas: _Schemas) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
    }
    op["description"] = _description(endpoint)
    params = _parameters(endpoint, path, schemas)
    if params:
        op["parameters"] = params
    if endpoint.body is not None:
        body_schema = schemas.ref(endpoint.body, "validation")
        request = _with_example(
            {"schema": body_schema},
            endpoint.request_example
            if endpoint.request_example is not None
            else examples.example_of(endpoint.body),
        )
        op["requestBody"] = {
            "required": True,
            "content": dict.fromkeys(endpoint.content_types, request),
        }
    ok: dict[str, Any] = {"description": "Success"}
    if endpoint.response is not None:
        answer = _with_example(
            {"schema": schemas.ref(endpoint.response, "serialization")},
            endpoint.response_example
            if endpoint.response_example is not None
            else examples.example_of(endpoint.response),
        )
        ok["content"] = {endpoint.response_media_type: answer}
    if endpoint.csv is not None:
        ok["content"] |= _csv_content(endpoint.csv)
    for media, text in endpoint.other_media:
        ok["content"][media] = {"schema": {"type": "string"}, "example": text}
    responses: dict[str, Any] = {str(endpoint.status): ok}
    # Operations open to anyone say so with an empty list: no scheme is needed.
    op["security"] = []
    if endpoint.etag:
        ok["headers"] = {"ETag": _ETAG}
        responses["304"] = {"description": "Not modified: the If-None-Match tag is the "
                            "answer's own", "headers": {"ETag": _ETAG}}  # fmt: skip
    if endpoint.scope is not None:
        op["security"] = [{"bearerAuth": []}]
        op["x-required-scope"] = endpoint.scope.value
    if endpoint.auth == "source":
        op["security"] = [{name: []} for name in _SOURCE_SCHEMES]
    for status in sorted(_error_statuses(endpoint, params)):
        responses[str(status)] = problem_response(status)
    op["responses"] = responses
    return op


def _description(endpoint: Endpoint) -> str:
    """The endpoint's own description, then who may call it and what a retry does."""
    scope = endpoint.scope.value if endpoint.scope is not None else ""
    access = _SCOPE_TEXT["token" if endpoint.scope is not None else endpoint.auth]
    parts = [endpoint.description, access.format(scope=scope)]
    if endpoint.keyed or endpoint.idempotency != "stored":
        parts.append(_IDEMPOTENCY_TEXT.get(endpoint.idempotency, ""))
    return " ".join(part for part in parts if part)


def _with_example(media: dict[str, Any], example: Any) -> dict[str, Any]:
    if example is not None:
        media["example"] = example
    return media


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
    if endpoint.csv is not None or endpoint.other_media:
        errors.add(406)
    if any(p["schema"]["type"] == "string" for p in params if p["in"] == "path"):
        # A text Postgres cannot hold (a NUL character) is refused by the database: 422
        # (errors.refused_value), whatever the operation.
        errors.add(422)
    if endpoint.keyed or endpoint.idempotency == "delivery":
        errors |= {409, 422}
    errors.add(503)
    return errors


def build_openapi(endpoints: list[Endpoint]) -> dict[str, Any]:
    schemas = _Schemas()
    schemas.ref(Problem, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        path = _CONVERTOR.sub(r"{\1}", endpoint.path)
        paths.setdefault(path, {})[endpoint.method.lower()] = _operation(endpoint, path, schemas)
    paths["/graphql"] = {"post": graphql_operation()}
    # Each schema's title is its component's name: code generators name their classes by the
    # title, so two schemas titled alike would make two classes of one name.
    components = {
        name: {**schema, "title": name} for name, schema in sorted(schemas.components.items())
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "KPI service",
            "version": __version__,
            "description": "Ingestion and administration API of the KPI service. Errors are "
            "RFC 9457 problem+json. Scopes: read, ingest, admin (admin implies the others).",
            "contact": {"name": "KPI service"},
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": name, "description": text} for name, text in TAGS.items()],
        "paths": paths,
        "components": {
            "schemas": components,
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
