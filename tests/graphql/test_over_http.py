"""GraphQL over HTTP: the media type a client asks for and the status codes that go with it,
queries by GET with their caching headers, errors in the GraphQL shape for GraphQL clients,
and automatic persisted queries (Apollo's protocol) or a required list of trusted documents."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from service.graphql.over_http import wants_graphql_response
from service.usecases.persisted_queries import load_trusted_documents
from tests.conftest import app_client
from tests.graphql.helpers import Headers

GRAPHQL = "application/graphql-response+json"
AS_GRAPHQL = {"Accept": f"{GRAPHQL}, application/json;q=0.9"}
TEAMS = "{ teams { nodes { slug } } }"


def sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def apq(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


@pytest.mark.parametrize(
    ("accept", "graphql"),
    [
        (None, False),
        ("*/*", False),
        ("application/json", False),
        (GRAPHQL, True),
        (f"{GRAPHQL}, application/json;q=0.9", True),
        (f"application/json, {GRAPHQL}", False),  # equal quality: the first named wins
        (f"application/json;q=0.5, {GRAPHQL};q=0.8", True),
        (f"{GRAPHQL};q=0", False),
    ],
)
def test_the_media_type_follows_the_accept_header(accept: str | None, graphql: bool) -> None:
    assert wants_graphql_response(accept) is graphql


async def test_a_query_answers_in_the_media_type_asked_for(
    client: httpx.AsyncClient, reader: Headers
) -> None:
    r = await client.post("/graphql", json={"query": TEAMS}, headers=reader | AS_GRAPHQL)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == GRAPHQL
    assert r.json()["data"] == {"teams": {"nodes": []}}
    legacy = await client.post("/graphql", json={"query": TEAMS}, headers=reader)
    assert legacy.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("query", "words"),
    [("{ teams { nodes { slug }", "Syntax Error"), ("{ teams { nodes { nope } } }", "nope")],
)
async def test_a_request_that_does_not_parse_or_validate_is_a_400_without_data(
    client: httpx.AsyncClient, reader: Headers, query: str, words: str
) -> None:
    r = await client.post("/graphql", json={"query": query}, headers=reader | AS_GRAPHQL)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == GRAPHQL
    body = r.json()
    assert "data" not in body
    assert words in body["errors"][0]["message"]
    # application/json clients keep the 200 the specification allows them.
    legacy = await client.post("/graphql", json={"query": query}, headers=reader)
    assert legacy.status_code == 200
    assert legacy.json()["data"] is None


async def test_a_query_by_get_may_be_cached_privately_and_revalidated(
    client: httpx.AsyncClient, reader: Headers
) -> None:
    r = await client.get("/graphql", params={"query": TEAMS}, headers=reader | AS_GRAPHQL)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"teams": {"nodes": []}}
    assert r.headers["cache-control"] == "private, no-cache"
    assert r.headers["vary"] == "Authorization, Accept"
    tag = r.headers["etag"]
    again = await client.get(
        "/graphql", params={"query": TEAMS}, headers=reader | {"If-None-Match": tag}
    )
    assert again.status_code == 304
    assert again.content == b""
    # A POST is never cached.
    posted = await client.post("/graphql", json={"query": TEAMS}, headers=reader)
    assert "cache-control" not in posted.headers


async def test_a_mutation_by_get_is_refused_in_the_graphql_shape(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    mutation = 'mutation { upsertTeam(input: {slug: "viaget", name: "G"}) { __typename } }'
    r = await client.get("/graphql", params={"query": mutation}, headers=admin | AS_GRAPHQL)
    assert r.status_code == 405, r.text
    assert r.headers["content-type"] == GRAPHQL
    assert "data" not in r.json()
    assert r.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert await con.fetchval("select count(*) from team where slug = 'viaget'") == 0


async def test_no_token_and_a_batch_answer_in_the_graphql_shape_when_asked(
    client: httpx.AsyncClient, reader: Headers
) -> None:
    r = await client.post("/graphql", json={"query": TEAMS}, headers=AS_GRAPHQL)
    assert r.status_code == 401
    assert r.headers["content-type"] == GRAPHQL
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["errors"][0]["extensions"]["code"] == "UNAUTHORIZED"
    assert "data" not in r.json()
    # Other clients get the REST problem document, as before.
    plain = await client.post("/graphql", json={"query": TEAMS})
    assert plain.status_code == 401
    assert plain.headers["content-type"] == "application/problem+json"
    batch = [{"query": TEAMS}, {"query": TEAMS}]
    r = await client.post("/graphql", json=batch, headers=reader | AS_GRAPHQL)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == GRAPHQL
    assert r.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_automatic_persisted_queries_miss_then_store_then_hit(
    client: httpx.AsyncClient, reader: Headers, con: dbmod.Connection, settings: Settings
) -> None:
    query = "query Persisted { teams { nodes { slug name } } }"
    digest = sha(query)
    # 1. The hash alone: unknown, so the client is told to send the document.
    miss = await client.post("/graphql", json={"extensions": apq(digest)}, headers=reader)
    assert miss.status_code == 200
    assert miss.json() == {
        "errors": [{"message": "PersistedQueryNotFound",
                    "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    }  # fmt: skip
    # 2. The document with its hash: it runs, and is stored in Postgres.
    full = await client.post(
        "/graphql", json={"query": query, "extensions": apq(digest)}, headers=reader
    )
    assert full.json()["data"] == {"teams": {"nodes": []}}
    stored = await con.fetchval("select query from persisted_query where sha256 = $1", digest)
    assert stored == query
    # 3. The hash alone now runs it, by POST and by GET (as Apollo clients send it), also in
    # another worker (a new app: nothing in its memory, the document from Postgres).
    async with app_client(con, settings) as other:
        hit = await other.post("/graphql", json={"extensions": apq(digest)}, headers=reader)
        assert hit.json()["data"] == {"teams": {"nodes": []}}
        by_get = await other.get(
            "/graphql", params={"extensions": json.dumps(apq(digest))}, headers=reader
        )
        assert by_get.status_code == 200, by_get.text
        assert by_get.json()["data"] == {"teams": {"nodes": []}}


async def test_a_persisted_query_must_hash_to_its_hash_and_needs_a_token(
    client: httpx.AsyncClient, reader: Headers, con: dbmod.Connection
) -> None:
    wrong = {"query": TEAMS, "extensions": apq(sha("{ something { else } }"))}
    r = await client.post("/graphql", json=wrong, headers=reader)
    assert r.status_code == 400
    assert "provided sha does not match query" in r.text
    anonymous = await client.post("/graphql", json={"query": TEAMS, "extensions": apq(sha(TEAMS))})
    assert anonymous.status_code == 401
    assert await con.fetchval("select count(*) from persisted_query") == 0
    short = await client.post("/graphql", json={"extensions": apq("abc")}, headers=reader)
    assert short.status_code == 400
    assert "sha256Hash" in short.text


async def test_the_store_keeps_the_most_recently_used(
    con: dbmod.Connection, settings: Settings, reader: Headers
) -> None:
    queries = [f"query Q{i} {{ teams {{ nodes {{ slug }} }} }}" for i in range(3)]
    async with app_client(
        con, settings.model_copy(update={"graphql_persisted_queries_max": 2})
    ) as c:
        for query in queries:
            r = await c.post(
                "/graphql", json={"query": query, "extensions": apq(sha(query))}, headers=reader
            )
            assert r.status_code == 200, r.text
            # Each its own transaction time, so "least recently used" has an order.
            await con.execute("update persisted_query set used_at = used_at - interval '1 minute'")
    kept = await con.fetch("select query from persisted_query order by query")
    assert [r["query"] for r in kept] == queries[1:]


async def test_a_deployment_may_require_trusted_documents(
    con: dbmod.Connection, settings: Settings, reader: Headers, tmp_path: Path
) -> None:
    manifest = tmp_path / "documents.json"
    manifest.write_text(json.dumps({sha(TEAMS): TEAMS}))
    trusted = settings.model_copy(update={"graphql_trusted_documents": manifest})
    async with app_client(con, trusted) as c:
        by_hash = await c.post("/graphql", json={"extensions": apq(sha(TEAMS))}, headers=reader)
        assert by_hash.json()["data"] == {"teams": {"nodes": []}}
        in_full = await c.post("/graphql", json={"query": TEAMS}, headers=reader)
        assert in_full.json()["data"] == {"teams": {"nodes": []}}
        other = "{ services { nodes { slug } } }"
        refused = await c.post("/graphql", json={"query": other}, headers=reader)
        assert refused.status_code == 400
        assert "only trusted documents" in refused.text
        unknown = await c.post("/graphql", json={"extensions": apq(sha(other))}, headers=reader)
        assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
        by_get = await c.get("/graphql", params={"query": other}, headers=reader)
        assert by_get.status_code == 400
    # Nothing is written to the shared store when the list is required.
    assert await con.fetchval("select count(*) from persisted_query") == 0


def test_a_manifest_whose_hash_does_not_match_is_refused(tmp_path: Path) -> None:
    manifest = tmp_path / "documents.json"
    manifest.write_text(json.dumps({sha(TEAMS): "{ services { nodes { slug } } }"}))
    with pytest.raises(ValueError, match="does not hash to it"):
        load_trusted_documents(manifest)
    manifest.write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        load_trusted_documents(manifest)
    # GraphQL Code Generator writes the hashes with a `sha256:` prefix.
    manifest.write_text(json.dumps({f"sha256:{sha(TEAMS)}": TEAMS}))
    assert load_trusted_documents(manifest) == {sha(TEAMS): TEAMS}
