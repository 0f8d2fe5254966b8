"""Scopes: queries need read, mutations admin."""

from __future__ import annotations

import httpx

from service import db as dbmod
from service.models.enums import Scope
from service.usecases import tokens
from tests.graphql.helpers import Headers, gql_data


async def test_no_token_is_401_problem(client: httpx.AsyncClient) -> None:
    r = await client.post("/graphql", json={"query": "{ teams { nodes { slug } } }"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
    body = r.json()
    assert (body["status"], body["title"]) == (401, "Unauthorized")
    assert body["instance"] == "/graphql"


async def test_unknown_token_is_401(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/graphql",
        json={"query": "{ teams { nodes { slug } } }"},
        headers={"Authorization": "Bearer kpi_nope"},
    )
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"


async def test_reader_cannot_mutate(
    client: httpx.AsyncClient, con: dbmod.Connection, reader: Headers
) -> None:
    r = await client.post(
        "/graphql",
        json={
            "query": 'mutation { upsertTeam(input: {slug: "sneaky", name: "S"}) { __typename } }'
        },
        headers=reader,
    )
    assert r.status_code == 403, r.text
    body = r.json()
    assert body.get("data") is None
    assert len(body["errors"]) == 1
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await con.fetchval("select count(*) from team where slug = 'sneaky'") == 0


async def test_reader_can_query(client: httpx.AsyncClient, reader: Headers) -> None:
    assert await gql_data(client, reader, "{ teams { nodes { slug } } }") == {
        "teams": {"nodes": []}
    }


async def test_ingest_only_token_cannot_query(client: httpx.AsyncClient, ingester: Headers) -> None:
    r = await client.post(
        "/graphql", json={"query": "{ teams { nodes { slug } } }"}, headers=ingester
    )
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["required_scope"] == "read"


async def test_ingest_only_token_cannot_mutate(
    client: httpx.AsyncClient, con: dbmod.Connection
) -> None:
    token = await tokens.create_token(con, name="ingest", scopes=[Scope.INGEST])
    r = await client.post(
        "/graphql",
        json={
            "query": 'mutation { upsertTeam(input: {slug: "sneaky", name: "S"}) { __typename } }'
        },
        headers={"Authorization": f"Bearer {token.token}"},
    )
    assert r.status_code == 403, r.text
    assert await con.fetchval("select count(*) from team where slug = 'sneaky'") == 0


async def test_mutation_via_get_is_refused(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    r = await client.get(
        "/graphql",
        params={
            "query": 'mutation { upsertTeam(input: {slug: "viaget", name: "G"}) { __typename } }'
        },
        headers=admin,
    )
    assert 400 <= r.status_code < 500, r.text
    assert await con.fetchval("select count(*) from team where slug = 'viaget'") == 0
