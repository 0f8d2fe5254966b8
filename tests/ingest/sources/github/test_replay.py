"""GitHub's replay identifiers: none in the signed body (its digest stands in)."""

from __future__ import annotations

from service.ingest.sources.github import replay as github_replay
from tests.ingest.fixtures import fixture
from tests.ingest.sources.github.test_adapter import PUSH_FIXTURE, delivery


def test_signed_key_and_times_are_none_github_signs_neither() -> None:
    given = delivery("push", fixture(PUSH_FIXTURE))
    assert (github_replay.signed_key(given), github_replay.signed_times(given)) == (None, [])
