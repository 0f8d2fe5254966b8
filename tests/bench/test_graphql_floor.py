"""The floor of stock execution: graphql-core completes our own answer from memory, against
the checked-in schema, and must give it back unchanged."""

from __future__ import annotations

import pytest

from bench.graphql_floor import completion_floor, count_fields

QUERY = "query P($first: Int!) { services(first: $first) { nodes { slug name tier } } }"


def test_the_floor_completes_the_answer_it_is_given() -> None:
    answer = {"services": {"nodes": [{"slug": "checkout", "name": "Checkout", "tier": 1},
                                     {"slug": "search", "name": "Search", "tier": 2}]}}  # fmt: skip
    # services + nodes + 2 x (slug, name, tier) = 1 + 1 + 6 fields.
    assert count_fields(answer) == 8
    assert completion_floor(answer, QUERY, {"first": 2}, runs=3) > 0


def test_an_answer_the_query_does_not_give_back_is_refused() -> None:
    answer = {"services": {"nodes": [{"slug": "checkout", "name": "Checkout"}]}}  # no tier
    with pytest.raises(ValueError, match="unchanged"):
        completion_floor(answer, QUERY, {"first": 1}, runs=1)


def test_a_query_outside_the_schema_is_refused() -> None:
    with pytest.raises(ValueError, match="does not validate"):
        completion_floor({}, "{ nothing }", {}, runs=1)
