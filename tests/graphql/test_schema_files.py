"""The checked-in schema files do not drift from the code."""

from __future__ import annotations

import json

import httpx
import pytest

from service.cli.common import REPO_ROOT
from service.cli.export import exported_files
from service.config import Settings
from service.graphql.schema import build_schema
from service.ingest.sources.generated import generated_files


def test_schema_graphql_is_up_to_date() -> None:
    expected = build_schema(Settings()).as_str() + "\n"
    assert (REPO_ROOT / "schema.graphql").read_text() == expected, "run `kpi export`"


def test_exported_files_are_up_to_date() -> None:
    files = exported_files()
    schemas = {REPO_ROOT / "schema.graphql", REPO_ROOT / "openapi" / "openapi.json"}
    assert set(files) == schemas | set(generated_files(REPO_ROOT))
    for path, text in files.items():
        assert path.read_text() == text, f"{path.name} is stale: run `kpi export`"
    json.loads(files[REPO_ROOT / "openapi" / "openapi.json"])


@pytest.mark.parametrize("body", [b'"AAA"', b"42", b"null", b"true", b"{", b"[" * 5000])
async def test_a_body_that_is_not_a_json_object_is_a_400(
    client: httpx.AsyncClient, reader: dict[str, str], body: bytes
) -> None:
    r = await client.post(
        "/graphql", content=body, headers={**reader, "Content-Type": "application/json"}
    )
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("member", "value"),
    [("operationName", {}), ("operationName", 1), ("variables", []), ("variables", "x"),
     ("query", None), ("query", 1)],
)  # fmt: skip
async def test_a_request_member_of_the_wrong_type_is_a_400(
    client: httpx.AsyncClient, reader: dict[str, str], member: str, value: object
) -> None:
    body = {"query": "{ teams { nodes { slug } } }", member: value}
    r = await client.post("/graphql", json=body, headers=reader)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert member in r.json()["detail"]
