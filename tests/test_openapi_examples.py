"""The OpenAPI document as generators and linters read it: an example for every request body,
main answer and problem, each valid against its schema; unique schema titles; a description,
a declared tag and an explicit security list on every operation."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, TypeAdapter

from service.app import all_endpoints
from service.errors import PROBLEM_MEDIA_TYPE
from service.openapi import TAGS, build_openapi
from service.rest import examples

SPEC = json.loads((Path(__file__).resolve().parents[1] / "openapi" / "openapi.json").read_text())
OPERATIONS = [
    (f"{method.upper()} {path}", op)
    for path, methods in SPEC["paths"].items()
    for method, op in methods.items()
]


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of `schema` whose $refs (#/components/...) reach the document's
    components, checking formats (date, date-time ...) too."""
    rooted = {**schema, "components": SPEC["components"]}
    return Draft202012Validator(rooted, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _media(op: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, media type object) of the request body and of every answer of `op`."""
    found = [
        (f"request {ct}", media)
        for ct, media in op.get("requestBody", {}).get("content", {}).items()
    ]
    for status, answer in op["responses"].items():
        found += [(f"{status} {ct}", media) for ct, media in answer.get("content", {}).items()]
    return found


@pytest.mark.parametrize(("label", "op"), OPERATIONS, ids=[label for label, _ in OPERATIONS])
def test_every_body_and_answer_has_an_example_valid_against_its_schema(
    label: str, op: dict[str, Any]
) -> None:
    media = _media(op)
    assert media, label
    for where, content in media:
        assert "example" in content, f"{label}: {where} has no example"
        errors = [e.message for e in _validator(content["schema"]).iter_errors(content["example"])]
        assert errors == [], f"{label}: {where}"


def test_every_operation_has_a_request_success_and_problem_example() -> None:
    for label, op in OPERATIONS:
        if "requestBody" in op:
            assert all("example" in m for m in op["requestBody"]["content"].values()), label
        success = [s for s in op["responses"] if s.startswith("2") and s != "202"]
        assert success, label
        assert any("content" in op["responses"][s] for s in success) or label.startswith(
            "DELETE"
        ), label
        problems = [
            r for r in op["responses"].values() if PROBLEM_MEDIA_TYPE in r.get("content", {})
        ]
        assert problems, label


def test_a_problem_example_is_what_the_service_answers() -> None:
    # The 422 of a point without a zone offset (tests/rest/test_observations.py gives the
    # same answer): the problem type ends with the error class's slug, and names the field.
    assert examples.problem_example(422) == {
        "type": "https://kpi.example/problems/validation",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "invalid fields: 0.ts",
        "errors": [{"pointer": "#/0/ts", "field": "0.ts", "detail": "give a time zone offset"}],
    }
    assert examples.problem_example(404)["type"] == "https://kpi.example/problems/not-found"


@pytest.mark.parametrize("model", list(examples.EXAMPLES), ids=lambda m: m.__name__)
def test_each_model_example_is_read_by_the_model_and_written_back_the_same(
    model: type[BaseModel],
) -> None:
    """More than the JSON Schema says: the model's own validators (references between fields,
    ranges, patterns) accept the example, and an answer's example is exactly what the service
    writes for it (no field left out, dates in the service's form)."""
    adapter: TypeAdapter[Any] = TypeAdapter(model)
    example = examples.EXAMPLES[model]
    parsed = adapter.validate_python(example)
    if not model.__name__.endswith("In") and model.__name__ not in ("CatalogFile",):
        assert json.loads(adapter.dump_json(parsed)) == example


def test_list_examples_repeat_the_example_of_the_item() -> None:
    team = examples.EXAMPLES[examples.Team]
    assert examples.example_of(list[examples.Team]) == [team]
    assert examples.example_of(dict) is None


def test_schema_titles_are_unique_and_name_their_component() -> None:
    schemas = SPEC["components"]["schemas"]
    titles = Counter(schema["title"] for schema in schemas.values())
    assert [title for title, n in titles.items() if n > 1] == []
    assert all(schema["title"] == name for name, schema in schemas.items())
    # The applied catalog's change was titled Change, as the incident's change is: code
    # generators dropped one of the two.
    assert schemas["CatalogApplyChange"]["title"] == "CatalogApplyChange"


def test_every_operation_is_described_tagged_and_states_its_security() -> None:
    declared = [tag["name"] for tag in SPEC["tags"]]
    assert declared == list(TAGS)
    assert all(tag["description"] for tag in SPEC["tags"])
    used = set()
    ids = Counter()
    for label, op in OPERATIONS:
        assert op["description"].strip(), label
        assert "security" in op, label
        used.update(op["tags"])
        ids[op["operationId"]] += 1
    assert used == set(declared)
    assert [op_id for op_id, n in ids.items() if n > 1] == []
    health = SPEC["paths"]["/healthz"]["get"]
    assert health["security"] == []
    assert health["description"] == "Answers as long as the process is up. Open: needs no token."
    teams = SPEC["paths"]["/v1/teams"]["post"]
    assert teams["operationId"] == "create_team"
    assert teams["description"] == (
        "Needs a token with the `admin` scope (admin implies the others). A retry with the "
        "same Idempotency-Key gets the first answer and is applied once."
    )


def test_the_checked_in_document_is_the_generated_one() -> None:
    assert build_openapi(all_endpoints()) == SPEC


async def test_the_graphql_examples_are_what_the_graph_answers(
    client: httpx.AsyncClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    kpi = examples.EXAMPLES[examples.KpiIn]
    mttr = {"key": "incident_mttr", "name": "Mean time to restore (sev1-sev2)", "unit": "minutes",
            "direction": "lower_is_better", "kind": "builtin", "metric": "mttr"}  # fmt: skip
    for body in (kpi, mttr):
        created = await client.post("/v1/kpis", json=body, headers=admin)
        assert created.status_code == 201, created.text
    op = SPEC["paths"]["/graphql"]["post"]
    query = op["requestBody"]["content"]["application/json"]["example"]
    answer = await client.post("/graphql", json=query, headers=reader)
    assert answer.status_code == 200, answer.text
    assert answer.json() == op["responses"]["200"]["content"]["application/json"]["example"]
    mutation = 'mutation { deleteKpi(key: "incident_mttr") { __typename } }'
    refused = await client.post("/graphql", json={"query": mutation}, headers=reader)
    assert refused.status_code == 403, refused.text
    forbidden = op["responses"]["403"]["content"]["application/json"]["example"]
    got = refused.json()
    for error in got["errors"]:
        # Where in the query: the example's query is not this one.
        error.pop("locations", None)
        error.pop("path", None)
    assert got == forbidden
