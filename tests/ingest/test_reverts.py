"""What a merged request's text says it reverts (service/ingest/reverts.py)."""

from __future__ import annotations

import pytest

from service.ingest import reverts
from service.ingest.sources.github.reverts import REVERTS_LINE
from service.ingest.sources.gitlab.reverts import REVERTS_REQUEST

SHA = "b0b0c4d3e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (f'Revert "Cache"\n\nThis reverts commit {SHA}.', [SHA]),
        (f"This reverts commit {SHA.upper()[:12]}", [SHA[:12]]),  # abbreviated, lower-cased
        (f"This reverts commit {SHA}.\nThis reverts commit {SHA}.", [SHA]),  # once
        ("This reverts commit b0b0c4", []),  # 6 digits: too short to name a commit
        ("this reverts commit " + SHA, []),  # git writes it capitalised
        (None, []),
    ],
)
def test_reverted_commits(text: str | None, found: list[str]) -> None:
    assert reverts.reverted_commits(text) == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Reverts acme/shop#41", ["acme/shop#41"]),
        ("Reverts #41\n\nReverts other-org/lib.js#7", ["acme/shop#41", "other-org/lib.js#7"]),
        ("It reverts acme/shop#41", []),  # GitHub's button starts the line with it
        ("", []),
    ],
)
def test_reverted_github_requests(text: str, found: list[str]) -> None:
    assert reverts.reverted_requests(text, REVERTS_LINE, "acme/shop", "#") == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('Revert "Cache tax rates"\n\nThis reverts merge request !12', ["shop/checkout!12"]),
        ("This reverts merge request group/sub/tax-rates!3", ["group/sub/tax-rates!3"]),
        ("This reverts merge request 12", []),  # no "!": not a merge request reference
    ],
)
def test_reverted_gitlab_requests(text: str, found: list[str]) -> None:
    assert reverts.reverted_requests(text, REVERTS_REQUEST, "shop/checkout", "!") == found
