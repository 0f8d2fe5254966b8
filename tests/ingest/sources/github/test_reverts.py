"""A merged GitHub pull request that reverts another counts the production change that shipped
the reverted work as failed, and the change that ships the revert as rework: through
POST /v1/webhooks/{name} and POST /v1/changes on the real database, with the change failure
rate of GET /v1/services/{slug}/report worked out by hand.

The payloads (tests/fixtures/webhooks/github/reverts/, PROVENANCE.md there): acme/shop#41
"Add retry to card capture", merged as a41a41a...; acme/shop#45, whose body says "Reverts
acme/shop#41", merged as e45e45e....
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

import httpx
import pytest

from tests.graphql.helpers import gql_data
from tests.ingest.fixtures import fixture_bytes, fixture_set
from tests.ingest.sources import posting
from tests.ingest.sources.posting import Headers, Json

SECRET = "gh-revert-secret"
SOURCE = posting.source("github-shop", "github", SECRET, ("repository", "acme/shop", "shop"))
FOLDER = "github/reverts"
MERGED = f"{FOLDER}/pull_request_merged.json"
REVERT = f"{FOLDER}/pull_request_revert_merged.json"
RETRY_SHA = "a41a41a41a41a41a41a41a41a41a41a41a41a41a"  # #41's merge_commit_sha
REVERT_SHA = "e45e45e45e45e45e45e45e45e45e45e45e45e45e"  # #45's merge_commit_sha
REASON = 'acme/shop#45 (Revert "Add retry to card capture") reverts acme/shop#41'
WEEK = ("2026-03-01T00:00:00Z", "2026-03-08T00:00:00Z")


def signed(relative: str, body: bytes | None = None) -> tuple[bytes, Headers]:
    raw = fixture_bytes(relative) if body is None else body
    signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": str(uuid.uuid5(uuid.NAMESPACE_URL, relative)),
        "X-Hub-Signature-256": f"sha256={signature}",
    }


async def deliver(client: httpx.AsyncClient, relative: str, name: str = "github-shop") -> Json:
    resp = await posting.post(client, name, *signed(relative))
    assert resp.status_code == 200, resp.text
    outcome: Json = resp.json()
    return outcome


async def week_of_deploys(client: httpx.AsyncClient, ingester: Headers) -> dict[str, int]:
    """Four production deploys of shop, one commit each:
    d1 success 2 Mar (ships #41), d2 success 3 Mar, d3 failed 4 Mar, d4 success 5 Mar
    (ships #45, the revert)."""
    rows = [
        ("d1", "success", "2026-03-02T10:00:00Z", RETRY_SHA),
        ("d2", "success", "2026-03-03T10:00:00Z", "d2d2d2d2d2d2d2d2"),
        ("d3", "failed", "2026-03-04T10:00:00Z", "d3d3d3d3d3d3d3d3"),
        ("d4", "success", "2026-03-05T10:00:00Z", REVERT_SHA),
    ]
    return {
        name: await posting.deploy(client, ingester, name, "shop", status, finished, sha)
        for name, status, finished, sha in rows
    }


def test_every_payload_is_used_here() -> None:
    assert fixture_set(FOLDER) == [MERGED, REVERT]


@pytest.mark.parametrize("order", [(MERGED, REVERT), (REVERT, MERGED)], ids=["sent", "reversed"])
async def test_a_revert_counts_the_reverted_deploy_as_failed(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers,
    order: tuple[str, str],
) -> None:  # fmt: skip
    await posting.register(client, admin, SOURCE, "shop")
    ids = await week_of_deploys(client, ingester)
    # Before the revert is known: 4 deployments, d3 failed: 1 / 4 = 25 %; no rework.
    assert await posting.dora(client, reader, "shop", *WEEK) == (4, 25.0, 0.0)

    for relative in order:
        outcome = await deliver(client, relative)
        assert (outcome["status"], outcome["commits"]) == ("applied", 1)

    # #45 reverts #41, merged as a41a41a, which d1 shipped first: d1 and d3 failed,
    # 2 / 4 = 50 %; d4 shipped the revert e45e45e: rework 1 / 4 = 25 %.
    assert await posting.dora(client, reader, "shop", *WEEK) == (4, 50.0, 25.0)
    assert await posting.change_reasons(client, reader, ids["d1"]) == ("success", REASON, None)
    assert await posting.change_reasons(client, reader, ids["d4"]) == ("success", None, REASON)
    assert await posting.change_reasons(client, reader, ids["d2"]) == ("success", None, None)
    query = "query($id: Int!) { change(id: $id) { status revertedBy reverts } }"
    for name, reasons in (("d1", (REASON, None)), ("d4", (None, REASON))):
        data = await gql_data(client, reader, query, {"id": ids[name]})
        assert data["change"] == dict(
            zip(("status", "revertedBy", "reverts"), ("SUCCESS", *reasons), strict=True)
        )


async def test_only_the_first_production_deploy_of_the_reverted_commit_fails(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """d5 deploys a41a41a again on 6 Mar (a redeploy): d1, the first to ship it, is the one
    the revert marks. 5 deployments, d1 and d3 failed: 2 / 5 = 40 %; rework d4: 1 / 5 = 20 %."""
    await posting.register(client, admin, SOURCE, "shop")
    ids = await week_of_deploys(client, ingester)
    redeploy = await posting.deploy(
        client, ingester, "d5", "shop", "success", "2026-03-06T10:00:00Z", RETRY_SHA
    )
    await deliver(client, MERGED)
    await deliver(client, REVERT)
    assert await posting.dora(client, reader, "shop", *WEEK) == (5, 40.0, 20.0)
    assert await posting.change_reasons(client, reader, ids["d1"]) == ("success", REASON, None)
    assert await posting.change_reasons(client, reader, redeploy) == ("success", None, None)


async def test_a_source_that_does_not_count_reverts(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """With reverts_are_failures off the figures stay as before the revert: 25 %, no rework."""
    source = SOURCE | {"options": {"reverts_are_failures": False}}
    await posting.register(client, admin, source, "shop")
    await week_of_deploys(client, ingester)
    await deliver(client, MERGED)
    await deliver(client, REVERT)
    assert await posting.dora(client, reader, "shop", *WEEK) == (4, 25.0, 0.0)


async def test_the_same_revert_twice_is_a_duplicate(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await posting.register(client, admin, SOURCE, "shop")
    first = await deliver(client, REVERT)
    again = await deliver(client, REVERT)
    assert (again["status"], again["delivery_id"]) == ("duplicate", first["delivery_id"])


async def test_a_body_one_byte_changed_is_401(client: httpx.AsyncClient, admin: Headers) -> None:
    """The signature of the body as sent, over the body with its first "1" made a "2"."""
    await posting.register(client, admin, SOURCE, "shop")
    body, headers = signed(REVERT)
    changed = posting.one_byte_changed(body, b"1", b"2")
    resp = await posting.post(client, SOURCE["name"], changed, headers)
    assert resp.status_code == 401, resp.text
