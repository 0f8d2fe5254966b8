"""The short path for plain scalar fields (service/graphql/plain_fields.py) answers exactly as
stock execution does: the same queries, run with it and without it on the same data, give the
same JSON, errors included."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bench.graphql_portal import OUR_QUERY, seed_portal
from service import db as dbmod
from service.graphql.plain_fields import PlainFieldsExecutionContext
from tests.graphql.helpers import Headers, gql

#: Beside the portal page: aliases, __typename, enums, nullable and non-null scalars, nested
#: objects, arguments, and fields that fail (an unknown service's status) next to ones that
#: do not.
MIXED_QUERY = """
query Mixed($first: Int!) {
  page: services(first: $first) {
    nodes {
      __typename slug tier alias: name
      team { __typename slug email }
      kpis(first: 3) {
        nodes { kpi { key direction unit cadence } status { value status target } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
  kpis(first: 5) { nodes { key boardLevel owners { business technology } } }
  missing: kpi(key: "no-such-kpi") { key }
}
"""
FAILING_QUERY = """
{ kpis(first: 3) { nodes { key status(service: "no-such-service") { value } } } }
"""


async def both_ways(
    client: httpx.AsyncClient,
    reader: Headers,
    query: str,
    variables: dict[str, Any] | None,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[dict[str, Any], dict[str, Any]]:
    short = await gql(client, reader, query, variables)
    with monkeypatch.context() as stock:
        stock.setattr(PlainFieldsExecutionContext, "enabled", False)
        ordinary = await gql(client, reader, query, variables)
    return short, ordinary


@pytest.mark.parametrize(
    ("query", "variables"),
    [(OUR_QUERY, {"first": 12}), (MIXED_QUERY, {"first": 6}), (FAILING_QUERY, None)],
    ids=["portal", "mixed", "failing"],
)
async def test_plain_fields_answer_as_stock_execution_does(
    client: httpx.AsyncClient,
    con: dbmod.Connection,
    reader: Headers,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any] | None,
) -> None:
    await seed_portal(con, services=12, periods_per_kpi=2, seed=3)
    short, ordinary = await both_ways(client, reader, query, variables, monkeypatch)
    assert short == ordinary
    if query is FAILING_QUERY:
        assert short["errors"], short  # the unknown service is refused, the same both ways
        assert all(e["path"][-1] == "status" for e in short["errors"])
        return
    assert "errors" not in short, short
    services = next(iter(short["data"].values()))["nodes"]
    assert len(services) == (variables or {})["first"]
    # Real rows came back through the short path: every service its slug and tier 1-4.
    assert all(s["slug"].startswith("p3-") and 1 <= s["tier"] <= 4 for s in services)


async def test_plain_fields_are_on_for_queries_and_the_switch_turns_them_off(
    client: httpx.AsyncClient,
    con: dbmod.Connection,
    reader: Headers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The comparison above compares two different executions: the short path is taken when
    enabled (a field read counted) and not when disabled."""
    await seed_portal(con, services=3, periods_per_kpi=1, seed=4)
    taken: list[int] = []
    original = PlainFieldsExecutionContext.plain_value

    def counted(self: PlainFieldsExecutionContext, plan: Any, source: Any) -> Any:
        taken.append(1)
        return original(self, plan, source)

    monkeypatch.setattr(PlainFieldsExecutionContext, "plain_value", counted)
    await gql(client, reader, OUR_QUERY, {"first": 3})
    assert len(taken) > 100
    taken.clear()
    monkeypatch.setattr(PlainFieldsExecutionContext, "enabled", False)
    await gql(client, reader, OUR_QUERY, {"first": 3})
    assert taken == []
