"""The spec generator (service/openapi.py): component names and the statuses documented."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import create_model

from service.app import all_endpoints
from service.openapi import _Schemas, build_openapi
from service.rest.endpoint import Endpoint


def _component(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def test_models_of_the_same_name_get_their_own_components() -> None:
    """An incident's Change and an applied catalog's Change are different models: the apply
    report's changes used to point at the incident's Change (id, source, ...)."""
    spec = build_openapi(all_endpoints())
    report = spec["components"]["schemas"]["ApplyReport"]
    applied = _component(spec, report["properties"]["changes"]["items"]["$ref"])
    assert set(applied["properties"]) == {"action", "kind", "key", "fields"}
    ops = spec["paths"]["/v1/changes/{id}"]["get"]["responses"]["200"]["content"]
    detail = _component(spec, ops["application/json"]["schema"]["$ref"])
    assert "commit_sha" in detail["properties"]
    assert "commit_sha" in spec["components"]["schemas"]["Change"]["properties"]


def test_a_later_model_of_a_taken_name_is_renamed_with_its_refs() -> None:
    first = create_model("Item", id=(int, ...))
    second = create_model("Item", label=(str, ...))
    first.__module__ = "service.models.things"
    second.__module__ = "service.other_things"
    outer = create_model("Outer", items=(list[second], ...))  # type: ignore[valid-type]
    outer.__module__ = "service.other_things"
    schemas = _Schemas()
    assert schemas.ref(first, "serialization") == {"$ref": "#/components/schemas/Item"}
    assert schemas.ref(outer, "serialization") == {"$ref": "#/components/schemas/Outer"}
    items = schemas.components["Outer"]["properties"]["items"]["items"]
    assert items == {"$ref": "#/components/schemas/OtherThingsItem"}
    assert set(schemas.components["OtherThingsItem"]["properties"]) == {"label"}
    assert set(schemas.components["Item"]["properties"]) == {"id"}
    # the same model again reuses its component
    assert schemas.ref(first, "serialization") == {"$ref": "#/components/schemas/Item"}


async def test_graphql_documents_what_it_answers(
    client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    """A request that is not a GraphQL request is a 400 problem (it was undocumented); a
    mutation without the admin scope is a 403 GraphQL response, not a problem."""
    op = build_openapi(all_endpoints())["paths"]["/graphql"]["post"]
    responses = op["responses"]
    assert set(responses) == {
        "200", "400", "401", "403", "408", "413", "415", "422", "429", "503"
    }  # fmt: skip
    assert set(responses["400"]["content"]) == {"application/problem+json"}
    assert set(responses["403"]["content"]) == {"application/problem+json", "application/json"}
    # An empty query is a 400, so the spec does not count it valid.
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["query"] == {"type": "string", "minLength": 1}
    r = await client.post("/graphql", json={"query": ""}, headers=reader)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    mutation = 'mutation { deleteKpi(key: "k") { __typename } }'
    r = await client.post("/graphql", json={"query": mutation}, headers=reader)
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/json"


def test_operations_with_a_body_document_the_408_of_a_stalled_body() -> None:
    ops = build_openapi(all_endpoints())["paths"]
    assert "408" in ops["/v1/teams"]["post"]["responses"]
    assert "408" in ops["/v1/observations"]["post"]["responses"]
    assert "408" not in ops["/v1/teams"]["get"]["responses"]


async def test_text_path_parameters_document_the_422_they_can_get(
    client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    """A NUL character in a slug is refused by Postgres: 422, which GET by slug did not
    document (only operations with a body or a query string did)."""
    ops = build_openapi(all_endpoints())["paths"]
    assert "422" in ops["/v1/teams/{slug}"]["get"]["responses"]
    assert "422" in ops["/v1/sources/{name}"]["get"]["responses"]
    assert "422" not in ops["/v1/targets/{id}"]["get"]["responses"]  # an int: never text
    r = await client.get("/v1/teams/a%00b", headers=reader)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_an_endpoint_declaring_202_documents_it_as_a_problem() -> None:
    """Webhook receivers answer 202 problem+json for a delivery kept as unmapped: declaring
    202 among an endpoint's errors documents it."""

    async def receive(call: Any) -> None:
        return None

    endpoint = Endpoint("POST", "/v1/hooks/{name}", receive, None, "Receive", "hooks",
                        body=dict, errors=(202, 401), auth="source")  # fmt: skip
    op = build_openapi([endpoint])["paths"]["/v1/hooks/{name}"]["post"]
    assert set(op["responses"]["202"]["content"]) == {"application/problem+json"}
