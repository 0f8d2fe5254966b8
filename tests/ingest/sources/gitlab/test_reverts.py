"""A merged GitLab revert merge request ("This reverts commit <sha>") counts the production
change that shipped that commit as failed, and the change that ships the revert as rework:
through POST /v1/webhooks/{name} and POST /v1/changes on the real database, with the change
failure rate of GET /v1/services/{slug}/report worked out by hand.

The payload (tests/fixtures/webhooks/gitlab/reverts/, PROVENANCE.md there): shopfront/checkout
!17 'Revert "Cache tax rates per region"', description "This reverts commit b0b0c4d3...",
merged 2026-03-04 12:31:04 UTC as f17f17f... (its last commit c17c17c...).
"""

from __future__ import annotations

import httpx
import pytest

from service import db as dbmod
from tests.ingest.fixtures import fixture_set
from tests.ingest.sources import posting
from tests.ingest.sources.posting import Headers

TOKEN = "gl-revert-token"
SOURCE = posting.source(
    "gitlab-checkout", "gitlab", TOKEN, ("project", "shopfront/checkout", "checkout")
)
FOLDER = "gitlab/reverts"
REVERT = f"{FOLDER}/merge_request_revert_merged.json"
HEADERS = {"X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Token": TOKEN,
           "X-Gitlab-Event-UUID": "5b1f0e0a-8a4e-4a39-9d55-6d1c8f1e0c17"}  # fmt: skip
TAX_SHA = "b0b0c4d3e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"  # the reverted commit
MERGE_SHA = "f17f17f17f17f17f17f17f17f17f17f17f17f17f"  # !17's merge_commit_sha
REASON = 'shopfront/checkout!17 (Revert "Cache tax rates per region") reverts ' + TAX_SHA
WEEK = ("2026-03-01T00:00:00Z", "2026-03-08T00:00:00Z")


def test_every_payload_is_used_here() -> None:
    assert fixture_set(FOLDER) == [REVERT]


@pytest.mark.parametrize("revert_first", [False, True], ids=["deploys-first", "revert-first"])
async def test_a_revert_merge_request_counts_the_reverted_deploy_as_failed(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, ingester: Headers,
    reader: Headers, revert_first: bool,
) -> None:  # fmt: skip
    await posting.register(client, admin, SOURCE, "checkout")
    if revert_first:
        resp = await posting.post_fixture(client, SOURCE["name"], REVERT, HEADERS)
        assert resp.status_code == 200, resp.text
    # Three production deploys of checkout: t1 ships the tax cache b0b0c4d3 (2 Mar), t2 another
    # commit (3 Mar), t3 the revert's merge commit (5 Mar).
    t1 = await posting.deploy(client, ingester, "t1", "checkout", "success", "2026-03-02T09:00:00Z",
                      TAX_SHA)  # fmt: skip
    t2 = await posting.deploy(client, ingester, "t2", "checkout", "success", "2026-03-03T09:00:00Z",
                      "7a7a7a7a7a7a7a7a")  # fmt: skip
    t3 = await posting.deploy(client, ingester, "t3", "checkout", "success", "2026-03-05T09:00:00Z",
                      MERGE_SHA)  # fmt: skip
    if not revert_first:
        # Before the revert: 3 deployments, none failed: 0 %; no rework.
        assert await posting.dora(client, reader, "checkout", *WEEK) == (3, 0.0, 0.0)
        resp = await posting.post_fixture(client, SOURCE["name"], REVERT, HEADERS)
        assert resp.status_code == 200, resp.text
    # The merge commit and the last commit of !17, both kept with the request and the revert.
    rows = await con.fetch("select revert_sha, target from commit_revert order by revert_sha")
    assert [tuple(r) for r in rows] == [
        ("c17c17c17c17c17c17c17c17c17c17c17c17c17c", TAX_SHA),
        (MERGE_SHA, TAX_SHA),
    ]
    # t1 failed (reverted): 1 / 3 = 33.3 %; t3 shipped the revert: rework 1 / 3 = 33.3 %.
    deployments, cfr, rework = await posting.dora(client, reader, "checkout", *WEEK)
    assert (deployments, cfr, rework) == (3, pytest.approx(100 / 3), pytest.approx(100 / 3))
    assert await posting.change_reasons(client, reader, t1) == ("success", REASON, None)
    assert await posting.change_reasons(client, reader, t2) == ("success", None, None)
    assert await posting.change_reasons(client, reader, t3) == ("success", None, REASON)
