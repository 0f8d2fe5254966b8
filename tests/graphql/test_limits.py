"""Depth, alias, token and page limits of queries."""

from __future__ import annotations

import httpx

from service import db as dbmod
from service.config import Settings
from tests.graphql.helpers import Headers, gql


def nested(levels: int) -> str:
    """A query `levels` fields deep, the leaf included: services > nodes > team > services >
    nodes > team ... (pages of one, so its cost stays small)."""
    for prefix in (["services(first: 1)", "nodes"], ['service(slug: "none")']):
        for tail in (["slug"], ["team", "slug"]):
            cycles, left = divmod(levels - len(prefix) - len(tail), 3)
            if cycles >= 0 and left == 0:
                names = [*prefix, *["team", "services(first: 1)", "nodes"] * cycles, *tail]
                inner = names[-1]
                for name in reversed(names[:-1]):
                    inner = f"{name} {{ {inner} }}"
                return f"{{ {inner} }}"
    raise ValueError(levels)


async def test_depth_limit(client: httpx.AsyncClient, reader: Headers) -> None:
    max_depth = Settings().graphql_max_depth
    assert max_depth == 10
    # depth counts the levels below the root field: 11 fields in a chain are depth 10
    ok = await gql(client, reader, nested(max_depth + 1))
    assert "errors" not in ok, ok
    refused = await gql(client, reader, nested(max_depth + 2))
    assert refused.get("data") is None
    assert len(refused["errors"]) == 1
    assert "depth" in refused["errors"][0]["message"]
    assert str(max_depth) in refused["errors"][0]["message"]


async def test_alias_limit(client: httpx.AsyncClient, reader: Headers) -> None:
    def aliases(n: int) -> str:
        return "{ " + " ".join(f"a{i}: teams {{ nodes {{ slug }} }}" for i in range(n)) + " }"

    ok = await gql(client, reader, aliases(30))
    assert "errors" not in ok, ok
    assert len(ok["data"]) == 30
    refused = await gql(client, reader, aliases(31))
    assert refused.get("data") is None
    assert len(refused["errors"]) == 1
    assert "alias" in refused["errors"][0]["message"]


async def test_batched_requests_are_refused(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    batch = [
        {"query": "{ teams { nodes { slug } } }"},
        {"query": 'mutation { upsertTeam(input: {slug: "batched", name: "B"}) { __typename } }'},
    ]
    r = await client.post("/graphql", json=batch, headers=admin)
    assert r.status_code != 200 or "errors" in r.json(), r.text
    assert 400 <= r.status_code < 500, r.text
    assert await con.fetchval("select count(*) from team where slug = 'batched'") == 0
