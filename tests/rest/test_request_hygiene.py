"""The smaller gaps of the hostile-client review: repeated JSON keys, compressed bodies, names
that only look alike, NUL characters in GraphQL strings, and the bounds the OpenAPI document
states."""

from __future__ import annotations

import gzip
import io
import unicodedata
from typing import Any

import httpx
import orjson
import pytest

from service import db as dbmod
from service.app import all_endpoints
from service.openapi import build_openapi
from service.usecases.imports import Format, ImportFailed, import_observations

Headers = dict[str, str]
OBS = "/v1/observations"
ORDERS = {"key": "orders", "name": "Orders", "unit": "count", "direction": "higher_is_better",
          "aggregation": "sum"}  # fmt: skip


async def make_kpi(client: httpx.AsyncClient, admin: Headers) -> None:
    resp = await client.post("/v1/kpis", json=ORDERS, headers=admin)
    assert resp.status_code == 201, resp.text


async def points_stored(con: dbmod.Connection) -> int:
    n: int = await con.fetchval("select count(*) from observation")
    return n


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = resp.json()
    return body


# Repeated keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (b'[{"kpi": "orders", "ts": "2026-11-02T09:00:00Z", "value": 1, "value": 2}]',
         "#/0/value"),
        (b'[{"kpi": "orders", "ts": "2026-11-02T09:00:00Z", "value": 1},'
         b' {"kpi": "orders", "ts": "2026-11-02T10:00:00Z", "value": 3,'
         b' "dimensions": {"region": "eu", "region": "us"}}]', "#/1/dimensions/region"),
        (b'[{"kpi": "orders", "kpi": "orders", "ts": "2026-11-02T09:00:00Z", "value": 1}]',
         "#/0/kpi"),
    ],
)  # fmt: skip
async def test_a_json_batch_repeating_a_key_is_refused_naming_it(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, body: bytes, pointer: str
) -> None:
    await make_kpi(client, admin)
    headers = {**admin, "Content-Type": "application/json"}
    found = problem(await client.post(OBS, content=body, headers=headers), 422)
    assert [e["pointer"] for e in found["errors"]] == [pointer]
    assert "appears twice" in found["detail"]
    assert await points_stored(con) == 0


async def test_an_ndjson_line_repeating_a_key_is_refused_naming_its_line(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    await make_kpi(client, admin)
    body = (
        b'{"kpi": "orders", "ts": "2026-11-02T09:00:00Z", "value": 1}\n'
        b"\n"
        b'{"kpi": "orders", "ts": "2026-11-02T10:00:00Z", "value": 1, "value": 9}\n'
    )
    headers = {**admin, "Content-Type": "application/x-ndjson"}
    found = problem(await client.post(OBS, content=body, headers=headers), 422)
    assert [e["pointer"] for e in found["errors"]] == ["#/2/value"]
    assert await points_stored(con) == 0


async def test_other_bodies_repeating_a_key_are_refused_too(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    body = b'{"slug": "shop", "name": "Shop", "name": "Other"}'
    headers = {**admin, "Content-Type": "application/json"}
    found = problem(await client.post("/v1/teams", content=body, headers=headers), 422)
    assert [e["pointer"] for e in found["errors"]] == ["#/name"]
    assert await con.fetchval("select count(*) from team") == 0
    graphql = b'{"query": "{ teams { nodes { slug } } }", "query": "mutation { deleteKpi(key: \\"x\\") { __typename } }"}'  # noqa: E501
    found = problem(await client.post("/graphql", content=graphql, headers=headers), 422)
    assert [e["pointer"] for e in found["errors"]] == ["#/query"]


async def test_kpi_import_refuses_a_line_repeating_a_key(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    await make_kpi(client, admin)
    lines = b'{"kpi": "orders", "ts": "2026-11-02T09:00:00Z", "value": 1, "value": 2}\n'
    with pytest.raises(ImportFailed) as failed:
        await import_observations(con, io.BytesIO(lines), name="p.ndjson", fmt=Format.NDJSON)
    assert failed.value.lines()[0].startswith("p.ndjson:1: value: the key 'value' appears twice")
    assert await points_stored(con) == 0


# Compressed bodies ------------------------------------------------------------------------------


async def test_a_compressed_body_is_a_415_naming_the_header(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    await make_kpi(client, admin)
    points = orjson.dumps([{"kpi": "orders", "ts": "2026-11-02T09:00:00Z", "value": 1}])
    for path, encoding in ((OBS, "gzip"), (OBS, "deflate"), ("/graphql", "gzip"),
                           ("/v1/webhooks/api", "gzip"), ("/v1/teams", "br")):  # fmt: skip
        headers = {**admin, "Content-Type": "application/json", "Content-Encoding": encoding}
        found = problem(await client.post(path, content=gzip.compress(points), headers=headers),
                        415)  # fmt: skip
        assert found["header"] == "Content-Encoding"
        assert encoding in found["detail"]
    assert await points_stored(con) == 0
    # identity is no encoding at all.
    headers = {**admin, "Content-Type": "application/json", "Content-Encoding": "identity"}
    assert (await client.post(OBS, content=points, headers=headers)).status_code == 200


# Names that look alike --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("r\u0435gion", "CYRILLIC"),  # Cyrillic ie for the e
        ("region\u200b", "U+200B"),  # zero-width space
        ("re\u00adgion", "U+00AD"),  # soft hyphen
        ("region\u202e", "U+202E"),  # right-to-left override
        ("reg\u00a0ion", "U+00A0"),  # no-break space
        ("reg\tion", "U+0009"),
    ],
)
async def test_dimension_names_that_only_look_alike_are_refused(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, name: str, why: str
) -> None:
    await make_kpi(client, admin)
    point = {"kpi": "orders", "ts": "2026-11-02T09:00:00Z", "value": 1,
             "dimensions": {name: "eu"}}  # fmt: skip
    found = problem(await client.post(OBS, json=[point], headers=admin), 422)
    assert why in found["errors"][0]["detail"]
    assert found["errors"][0]["pointer"].startswith("#/0/dimensions/")
    assert await points_stored(con) == 0


REGION_RU = "\u0440\u0435\u0433\u0438\u043e\u043d"  # "region", all Cyrillic
EUROPE_RU = "\u0435\u0432\u0440\u043e\u043f\u0430"


async def test_names_are_kept_in_nfc_so_one_spelling_is_one_series(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    await make_kpi(client, admin)
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    assert unicodedata.normalize("NFC", decomposed) == composed != decomposed
    points = [
        {"kpi": "orders", "ts": "2026-11-02T09:00:00Z", "value": 1,
         "dimensions": {composed: "Z\u00fcrich"}},
        {"kpi": "orders", "ts": "2026-11-02T09:00:00Z", "value": 5,
         "dimensions": {decomposed: "Zu\u0308rich"}},
        {"kpi": "orders", "ts": "2026-11-02T10:00:00Z", "value": 2,
         "dimensions": {REGION_RU: EUROPE_RU}},
    ]  # fmt: skip
    resp = await client.post(OBS, json=points, headers=admin)
    assert resp.status_code == 200, resp.text
    # The first two are one point (the last duplicate wins); the Cyrillic name is one script.
    assert resp.json() == {"points": 2, "inserted": 2, "updated": 0, "unchanged": 0}
    stored = await con.fetch("select dimensions, value from observation order by ts")
    assert [(r["dimensions"], r["value"]) for r in stored] == [
        ({composed: "Z\u00fcrich"}, 5.0),
        ({REGION_RU: EUROPE_RU}, 2.0),
    ]


async def test_service_and_kpi_names_refuse_invisible_characters(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    body = {"slug": "checkout", "name": "Check\u200bout", "tier": 1}
    found = problem(await client.post("/v1/services", json=body, headers=admin), 422)
    assert [e["pointer"] for e in found["errors"]] == ["#/name"]
    found = problem(
        await client.post("/v1/kpis", json={**ORDERS, "name": "Orders\u2066"}, headers=admin),
        422,
    )
    assert [e["pointer"] for e in found["errors"]] == ["#/name"]
    found = problem(
        await client.post("/v1/kpis", json={**ORDERS, "tags": ["r\u0435venue"]}, headers=admin),
        422,
    )
    assert [e["pointer"] for e in found["errors"]] == ["#/tags/0"]
    assert await con.fetchval("select count(*) from business_service") == 0
    assert await con.fetchval("select count(*) from kpi") == 0
    # A name in another script, or accented, is fine, and kept in NFC.
    resp = await client.post(
        "/v1/services", json={**body, "name": "Kasse \u041a\u0430\u0441\u0441\u0430 Cafe\u0301"},
        headers=admin,
    )  # fmt: skip
    assert resp.status_code == 201, resp.text
    assert resp.json()["name"] == "Kasse \u041a\u0430\u0441\u0441\u0430 Caf\u00e9"


# NUL in GraphQL strings ---------------------------------------------------------------------------


async def test_a_nul_in_a_graphql_string_is_refused_before_it_runs(
    client: httpx.AsyncClient, reader: Headers, admin: Headers
) -> None:
    literal = '{ service(slug: "check\\u0000out") { slug } }'
    resp = await client.post("/graphql", json={"query": literal}, headers=reader)
    (error,) = resp.json()["errors"]
    assert error["message"] == "slug: must not contain the NUL character (U+0000)"
    assert resp.json().get("data") is None  # nothing ran, so nothing reached the database

    query = "query($slug: String!) { service(slug: $slug) { slug } }"
    resp = await client.post(
        "/graphql", json={"query": query, "variables": {"slug": "a\u0000"}}, headers=reader
    )
    (error,) = resp.json()["errors"]
    assert error["message"] == "$slug: must not contain the NUL character (U+0000)"

    mutation = """mutation { upsertTeam(input: {slug: "shop", name: "Sh\\u0000op"}) {
        __typename } }"""
    resp = await client.post("/graphql", json={"query": mutation}, headers=admin)
    (error,) = resp.json()["errors"]
    assert error["message"] == "input.name: must not contain the NUL character (U+0000)"


# The spec states the bounds -----------------------------------------------------------------------


def test_the_openapi_document_states_the_bounds_the_service_enforces() -> None:
    paths = build_openapi(all_endpoints())["paths"]

    def param(path: str, name: str) -> dict[str, Any]:
        (found,) = [p for p in paths[path]["get"]["parameters"] if p["name"] == name]
        schema: dict[str, Any] = found["schema"]
        return schema

    assert param("/v1/costs", "limit")["maximum"] == 10_000
    assert param("/v1/escalations", "limit")["maximum"] == 1000
    state = param("/v1/escalations", "state")["anyOf"][0]
    assert state["pattern"] == "^(open|acknowledged|resolved)$"
    period = param("/v1/scorecard", "period")["anyOf"][0]
    assert (period["format"], period["x-formatMinimum"], period["x-formatExclusiveMaximum"]) == (
        "date-time", "1970-01-01T00:00:00Z", "2200-01-01T00:00:00Z"
    )  # fmt: skip
    day = param("/v1/costs", "from")["anyOf"][0]
    assert (day["format"], day["x-formatMinimum"], day["x-formatMaximum"]) == (
        "date", "1970-01-01", "2200-01-01"
    )  # fmt: skip
    for method, op in paths["/v1/observations"].items():
        assert "415" in op["responses"], method
