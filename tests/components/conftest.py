"""Fixtures of the component tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.components.replication import ReplicatedPair, replicated_pair


@pytest.fixture(scope="module")
def pair() -> Iterator[ReplicatedPair]:
    """A PostgreSQL primary and its synchronous streaming standby, one per test module."""
    with replicated_pair() as built:
        yield built
