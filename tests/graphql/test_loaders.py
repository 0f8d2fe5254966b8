"""DataLoaders and the read model: the SQL statements of a query do not grow with its size."""

from __future__ import annotations

from typing import Any

import httpx

from service import db as dbmod
from tests.graphql.helpers import Headers, gql_data, rest, slugs, unwrap


async def seed_services(client: httpx.AsyncClient, admin: Headers, start: int, stop: int) -> None:
    """Services start..stop-1: each with a team, a dependency on the previous one, both KPIs."""
    for i in range(start, stop):
        body: dict[str, Any] = {
            "slug": f"s{i}",
            "name": f"Service {i}",
            "tier": 1 + i % 4,
            "team": f"team-{i % 3}",
        }
        if i > 0:
            body["depends_on"] = [f"s{i - 1}"]
        await rest(client, admin, "POST", "/v1/services", body)
        for kpi in ("k_a", "k_b"):
            await rest(client, admin, "PUT", f"/v1/kpis/{kpi}/services/s{i}", status=200)
        await rest(
            client,
            admin,
            "POST",
            "/v1/targets",
            {"kpi": "k_a", "service": f"s{i}", "value": i, "effective_from": "2024-01-01"},
        )


LOADER_QUERY = """{
  services(first: 100) {
    nodes {
      slug
      team { slug }
      dependencies { nodes { slug } }
      dependents { nodes { slug } }
      kpis { nodes { kpi { key targets(first: 10) { nodes { value } }
                            outcomes { nodes { outcome { slug } } } } } }
      outcomes { nodes { slug } }
      availability(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z") {
        availability targetScope
      }
    }
  }
}"""


async def count_statements(
    con: dbmod.Connection, client: httpx.AsyncClient, headers: Headers
) -> tuple[int, dict[str, Any]]:
    statements: list[str] = []

    def log(record: Any) -> None:
        statements.append(record.query)

    con.add_query_logger(log)
    try:
        data = unwrap(await gql_data(client, headers, LOADER_QUERY))
    finally:
        con.remove_query_logger(log)
    return len(statements), data


async def test_dataloaders_make_statement_count_independent_of_size(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers
) -> None:
    for i in range(3):
        await rest(client, admin, "POST", "/v1/teams", {"slug": f"team-{i}", "name": f"T{i}"})
    await rest(client, admin, "POST", "/v1/outcomes", {"slug": "o-1", "name": "O1"})
    await rest(client, admin, "POST", "/v1/outcomes", {"slug": "o-2", "name": "O2"})
    for key in ("k_a", "k_b"):
        await rest(
            client,
            admin,
            "POST",
            "/v1/kpis",
            {
                "key": key,
                "name": key,
                "unit": "n",
                "direction": "higher_is_better",
                "aggregation": "sum",
            },
        )
        await rest(
            client,
            admin,
            "POST",
            "/v1/targets",
            {"kpi": key, "value": 1, "effective_from": "2024-01-01"},
        )
        await rest(client, admin, "PUT", f"/v1/kpis/{key}/outcomes/o-1", {}, status=200)
    await rest(client, admin, "PUT", "/v1/kpis/k_b/outcomes/o-2", {}, status=200)

    await seed_services(client, admin, 0, 3)
    # A first run lets the driver learn the array and row types it has not met yet (its
    # introspection statements would count once, on whichever run came first).
    await count_statements(con, client, reader)
    small, data = await count_statements(con, client, reader)
    nodes = data["services"]["nodes"]
    assert [n["slug"] for n in nodes] == ["s0", "s1", "s2"]
    assert nodes[1]["team"] == {"slug": "team-1"}
    assert nodes[1]["dependencies"] == [{"slug": "s0"}]
    assert nodes[1]["dependents"] == [{"slug": "s2"}]
    assert slugs(nodes[1]["outcomes"]) == ["o-1", "o-2"]
    kpis = sorted((n["kpi"] for n in nodes[1]["kpis"]), key=lambda k: k["key"])
    assert [k["key"] for k in kpis] == ["k_a", "k_b"]
    assert sorted(t["value"] for t in kpis[0]["targets"]) == [0.0, 1.0, 1.0, 2.0]
    assert slugs([o["outcome"] for o in kpis[1]["outcomes"]]) == ["o-1", "o-2"]
    # No incidents: fully available against the tier default (no availability KPI targets).
    assert nodes[1]["availability"] == {"availability": 100.0, "targetScope": "DEFAULT"}

    await seed_services(client, admin, 3, 30)
    large, data = await count_statements(con, client, reader)
    assert [n["slug"] for n in data["services"]["nodes"]] == [f"s{i}" for i in range(30)]
    assert data["services"]["nodes"][29]["dependencies"] == [{"slug": "s28"}]

    print(f"SQL statements for one services query: 3 services -> {small}, 30 -> {large}")
    assert small == large


RATIO_QUERY = "{ kpis(first: 100) { nodes { key numerator { key } denominator { key } } } }"


async def test_ratio_sides_are_loaded_in_batches(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers
) -> None:
    """Kpi.numerator/denominator too: the statement count does not grow with the KPIs."""
    for key in ("num", "den"):
        await rest(
            client,
            admin,
            "POST",
            "/v1/kpis",
            {
                "key": key,
                "name": key,
                "unit": "n",
                "direction": "higher_is_better",
                "aggregation": "sum",
            },
        )

    async def add_ratios(start: int, stop: int) -> None:
        for i in range(start, stop):
            await rest(
                client,
                admin,
                "POST",
                "/v1/kpis",
                {
                    "key": f"r{i}",
                    "name": f"R{i}",
                    "unit": "%",
                    "direction": "higher_is_better",
                    "aggregation": "avg",
                    "kind": "ratio",
                    "numerator": "num",
                    "denominator": "den",
                },
            )

    async def count() -> tuple[int, list[dict[str, Any]]]:
        statements: list[str] = []

        def log(record: Any) -> None:
            statements.append(record.query)

        con.add_query_logger(log)
        try:
            data = await gql_data(client, reader, RATIO_QUERY)
        finally:
            con.remove_query_logger(log)
        nodes: list[dict[str, Any]] = data["kpis"]["nodes"]
        return len(statements), nodes

    await add_ratios(0, 1)
    small, nodes = await count()
    assert nodes[2] == {"key": "r0", "numerator": {"key": "num"}, "denominator": {"key": "den"}}
    await add_ratios(1, 10)
    large, nodes = await count()
    assert [n["key"] for n in nodes] == ["num", "den", *(f"r{i}" for i in range(10))]
    assert all(n["numerator"] == {"key": "num"} for n in nodes[2:])
    print(f"SQL statements for kpis with numerator/denominator: 1 ratio -> {small}, 10 -> {large}")
    assert small == large


INITIATIVES_QUERY = """{
  services(first: 100) {
    nodes { slug initiatives(first: 10) { nodes { key kpis { kpi { key } } } } }
  }
  kpis(first: 100) { nodes { key initiatives(first: 10) { nodes { key services { slug } } } } }
}"""


async def test_initiatives_of_services_and_kpis_are_loaded_in_batches(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers
) -> None:
    """Service.initiatives and Kpi.initiatives (with their links): one statement per field,
    for 2 services and KPIs as for 12."""

    async def add(start: int, stop: int) -> None:
        for i in range(start, stop):
            await rest(client, admin, "POST", "/v1/services",
                       {"slug": f"s{i}", "name": f"S{i}", "tier": 1})  # fmt: skip
            await rest(client, admin, "POST", "/v1/kpis", {
                "key": f"k{i}", "name": f"K{i}", "unit": "n", "direction": "higher_is_better",
                "aggregation": "sum",
            })  # fmt: skip
            await rest(client, admin, "POST", "/v1/initiatives", {
                "key": f"i{i}", "name": f"I{i}", "started_on": "2026-01-01",
                "services": [f"s{i}"], "kpis": [{"kpi": f"k{i}", "expected_change": i}],
            })  # fmt: skip

    async def count() -> tuple[int, dict[str, Any]]:
        statements: list[str] = []

        def log(record: Any) -> None:
            statements.append(record.query)

        con.add_query_logger(log)
        try:
            data = unwrap(await gql_data(client, reader, INITIATIVES_QUERY))
        finally:
            con.remove_query_logger(log)
        return len(statements), data

    await add(0, 2)
    await count()  # the driver learns the row types once
    small, data = await count()
    assert data["services"]["nodes"][1] == {
        "slug": "s1", "initiatives": [{"key": "i1", "kpis": [{"kpi": {"key": "k1"}}]}],
    }  # fmt: skip
    await add(2, 12)
    large, data = await count()
    assert data["kpis"]["nodes"][11] == {
        "key": "k11", "initiatives": [{"key": "i11", "services": [{"slug": "s11"}]}],
    }  # fmt: skip
    print(f"SQL statements for initiatives of services and KPIs: 2 -> {small}, 12 -> {large}")
    assert small == large
