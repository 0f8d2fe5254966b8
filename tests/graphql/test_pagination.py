"""Cursor pagination of the connections."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.graphql.helpers import Headers, gql, gql_data, rest

PAGE = """query($after: String) {
  services(first: 2, after: $after) {
    edges { cursor node { slug } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_cursor_pagination_visits_each_service_once(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    created = [f"svc-{i}" for i in range(5)]
    for slug in created:
        await rest(client, admin, "POST", "/v1/services", {"slug": slug, "name": slug, "tier": 2})
    seen: list[str] = []
    pages = []
    after = None
    for _ in range(4):
        page = (await gql_data(client, reader, PAGE, {"after": after}))["services"]
        pages.append(page)
        seen += [e["node"]["slug"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert [len(p["edges"]) for p in pages] == [2, 2, 1]
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, False]
    assert seen == created
    assert [p["pageInfo"]["endCursor"] for p in pages] == [p["edges"][-1]["cursor"] for p in pages]
    # after the last cursor: an empty page
    last = (await gql_data(client, reader, PAGE, {"after": after}))["services"]
    assert last == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}


@pytest.mark.parametrize(
    ("root", "path", "body"),
    [
        ("teams", "/v1/teams", lambda i: {"slug": f"team-{i}", "name": f"T{i}"}),
        ("outcomes", "/v1/outcomes", lambda i: {"slug": f"out-{i}", "name": f"O{i}"}),
    ],
)
async def test_teams_and_outcomes_page_in_creation_order(
    client: httpx.AsyncClient, admin: Headers, reader: Headers, root: str, path: str,
    body: Any,
) -> None:  # fmt: skip
    # Created in an order unlike their slugs' order: pages follow creation.
    for i in (3, 1, 4, 0, 2):
        await rest(client, admin, "POST", path, body(i))
    query = f"""query($after: String) {{ {root}(first: 2, after: $after) {{
        nodes {{ slug }} pageInfo {{ hasNextPage endCursor }} }} }}"""
    seen, after, more = [], None, True
    while more:
        page = (await gql_data(client, reader, query, {"after": after}))[root]
        seen.append([n["slug"] for n in page["nodes"]])
        after, more = page["pageInfo"]["endCursor"], page["pageInfo"]["hasNextPage"]
    prefix = path.rsplit("/", 1)[1][:-1].replace("outcome", "out")
    assert seen == [[f"{prefix}-3", f"{prefix}-1"], [f"{prefix}-4", f"{prefix}-0"], [f"{prefix}-2"]]


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_page_size_out_of_range_is_an_error(
    client: httpx.AsyncClient, reader: Headers, first: int
) -> None:
    body = await gql(client, reader, f"{{ services(first: {first}) {{ nodes {{ slug }} }} }}")
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == ["first must be between 1 and 100"]
    assert body["errors"][0]["path"] == ["services"]


async def test_invalid_cursor_is_an_error(client: httpx.AsyncClient, reader: Headers) -> None:
    body = await gql(client, reader, '{ services(after: "bm9wZQ==") { nodes { slug } } }')
    assert body["data"] is None
    assert body["errors"][0]["message"] == "invalid cursor 'bm9wZQ=='"


async def test_a_nul_character_is_the_clients_error_before_anything_runs(
    client: httpx.AsyncClient, reader: Headers
) -> None:
    """A NUL character in an argument used to reach Postgres, which refused it (first masked
    as 'Unexpected error.', then reported as REST reports it); it is now refused before the
    query runs, naming the argument."""
    body = await gql(client, reader, '{ service(slug: "a\\u0000b") { slug } }')
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == [
        "slug: must not contain the NUL character (U+0000)"
    ]


async def test_a_nul_character_in_a_mutation_is_refused_before_it_runs(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    body = await gql(client, admin, 'mutation { deleteService(slug: "a\\u0000b") { __typename } }')
    assert body["data"] is None
    assert [e["extensions"]["field"] for e in body["errors"]] == ["slug"]
