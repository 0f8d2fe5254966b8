"""The catalog mutations, evaluations and escalations, and the problems they answer."""

from __future__ import annotations

from typing import Any

import httpx

from service import db as dbmod
from tests.graphql.helpers import Headers, gql_data, unwrap

UPSERT_TEAM = """mutation($input: TeamInput!) {
  upsertTeam(input: $input) {
    __typename
    ... on Team { slug name email }
    ... on Problem { status title detail errors { field pointer detail } }
  }
}"""


UPSERT_SERVICE = """mutation($input: ServiceInput!) {
  upsertService(input: $input) {
    __typename
    ... on Service { slug name tier team { slug } dependencies { nodes { slug } }
                     outageThreshold }
    ... on Problem { status title detail errors { field pointer detail } }
  }
}"""


UPSERT_OUTCOME = """mutation($input: OutcomeInput!) {
  upsertOutcome(input: $input) {
    __typename
    ... on Outcome { slug name description owner }
    ... on Problem { status errors { field detail } }
  }
}"""


UPSERT_KPI = """mutation($input: KpiInput!) {
  upsertKpi(input: $input) {
    __typename
    ... on Kpi { key name unit kind direction aggregation tags numerator { key }
                 denominator { key } escalationPath { position who channel address } }
    ... on Problem { status title detail errors { field pointer detail } }
  }
}"""


CREATE_TARGET = """mutation($input: TargetInput!) {
  createTarget(input: $input) {
    __typename
    ... on Target { id service tier value warning effectiveFrom effectiveTo }
    ... on Problem { status errors { field detail } }
  }
}"""


DELETE_RESULT = """
    __typename
    ... on Deleted { ok }
    ... on Problem { status title detail errors { field detail } }
"""


async def mutate(
    client: httpx.AsyncClient, admin: Headers, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    data = unwrap(await gql_data(client, admin, query, variables))
    (result,) = data.values()
    assert isinstance(result, dict)
    return result


async def test_upsert_team_creates_then_replaces(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    created = await mutate(client, admin, UPSERT_TEAM, {"input": {"slug": "ops", "name": "Ops"}})
    assert created == {"__typename": "Team", "slug": "ops", "name": "Ops", "email": None}
    updated = await mutate(
        client,
        admin,
        UPSERT_TEAM,
        {"input": {"slug": "ops", "name": "Operations", "email": "ops@x.io"}},
    )
    assert updated == {
        "__typename": "Team",
        "slug": "ops",
        "name": "Operations",
        "email": "ops@x.io",
    }
    rows = await con.fetch("select slug, name, email from team where slug = 'ops'")
    assert [tuple(r) for r in rows] == [("ops", "Operations", "ops@x.io")]
    bad = await mutate(client, admin, UPSERT_TEAM, {"input": {"slug": "Bad Slug", "name": "x"}})
    assert bad["__typename"] == "Problem"
    assert bad["status"] == 422
    assert [e["field"] for e in bad["errors"]] == ["slug"]


async def test_upsert_service_and_validation_problems(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    await mutate(client, admin, UPSERT_TEAM, {"input": {"slug": "ops", "name": "Ops"}})
    a = await mutate(
        client,
        admin,
        UPSERT_SERVICE,
        {"input": {"slug": "a", "name": "A", "tier": 1, "team": "ops"}},
    )
    assert a == {
        "__typename": "Service",
        "slug": "a",
        "name": "A",
        "tier": 1,
        "team": {"slug": "ops"},
        "dependencies": [],
        "outageThreshold": "SEV2",
    }
    b = await mutate(
        client,
        admin,
        UPSERT_SERVICE,
        {
            "input": {
                "slug": "b",
                "name": "B",
                "tier": 2,
                "dependsOn": ["a"],
                "outageThreshold": "SEV3",
            }
        },
    )
    assert b == {
        "__typename": "Service",
        "slug": "b",
        "name": "B",
        "tier": 2,
        "team": None,
        "dependencies": [{"slug": "a"}],
        "outageThreshold": "SEV3",
    }
    # replace: same slug, new tier and name
    b2 = await mutate(
        client,
        admin,
        UPSERT_SERVICE,
        {"input": {"slug": "b", "name": "B two", "tier": 4, "dependsOn": ["a"]}},
    )
    assert (b2["name"], b2["tier"], b2["dependencies"]) == ("B two", 4, [{"slug": "a"}])
    assert await con.fetchval("select count(*) from business_service where slug = 'b'") == 1

    tier = await mutate(
        client, admin, UPSERT_SERVICE, {"input": {"slug": "c", "name": "C", "tier": 9}}
    )
    assert tier["__typename"] == "Problem"
    assert tier["status"] == 422
    assert [e["field"] for e in tier["errors"]] == ["tier"]
    assert tier["errors"][0]["pointer"] == "#/tier"

    team = await mutate(
        client,
        admin,
        UPSERT_SERVICE,
        {"input": {"slug": "c", "name": "C", "tier": 1, "team": "nope"}},
    )
    assert team["__typename"] == "Problem"
    assert team["status"] == 422
    assert [e["field"] for e in team["errors"]] == ["team"]
    assert "nope" in team["errors"][0]["detail"]

    unknown_dep = await mutate(
        client,
        admin,
        UPSERT_SERVICE,
        {"input": {"slug": "c", "name": "C", "tier": 1, "dependsOn": ["a", "ghost"]}},
    )
    assert unknown_dep["__typename"] == "Problem"
    assert [e["field"] for e in unknown_dep["errors"]] == ["dependsOn.1"]

    cycle = await mutate(
        client,
        admin,
        UPSERT_SERVICE,
        {"input": {"slug": "a", "name": "A", "tier": 1, "dependsOn": ["b"]}},
    )
    assert cycle["__typename"] == "Problem"
    assert cycle["status"] == 422
    assert [e["field"] for e in cycle["errors"]] == ["dependsOn.0"]
    assert "cycle" in cycle["errors"][0]["detail"]

    self_dep = await mutate(
        client,
        admin,
        UPSERT_SERVICE,
        {"input": {"slug": "a", "name": "A", "tier": 1, "dependsOn": ["a"]}},
    )
    assert self_dep["__typename"] == "Problem"
    assert [e["field"] for e in self_dep["errors"]] == ["dependsOn.0"]

    # nothing of the refused writes stuck: no service c, a unchanged with no dependencies
    assert await con.fetchval("select count(*) from business_service where slug = 'c'") == 0
    rows = await con.fetch(
        "select d.slug from service_dependency sd join business_service s on s.id = sd.service_id"
        " join business_service d on d.id = sd.depends_on_id where s.slug = 'a'"
    )
    assert rows == []


async def test_upsert_outcome(client: httpx.AsyncClient, admin: Headers) -> None:
    created = await mutate(
        client, admin, UPSERT_OUTCOME, {"input": {"slug": "grow", "name": "Grow"}}
    )
    assert created == {
        "__typename": "Outcome",
        "slug": "grow",
        "name": "Grow",
        "description": None,
        "owner": None,
    }
    updated = await mutate(
        client,
        admin,
        UPSERT_OUTCOME,
        {"input": {"slug": "grow", "name": "Grow more", "description": "d", "owner": "ceo@x.io"}},
    )
    assert updated == {
        "__typename": "Outcome",
        "slug": "grow",
        "name": "Grow more",
        "description": "d",
        "owner": "ceo@x.io",
    }
    bad = await mutate(client, admin, UPSERT_OUTCOME, {"input": {"slug": "grow", "name": ""}})
    assert bad["__typename"] == "Problem"
    assert [e["field"] for e in bad["errors"]] == ["name"]


KPI_BASE = {"unit": "n", "direction": "HIGHER_IS_BETTER", "aggregation": "SUM"}


async def test_upsert_kpi_and_ratio_problems(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    made = await mutate(
        client,
        admin,
        UPSERT_KPI,
        {
            "input": {
                **KPI_BASE,
                "key": "sales",
                "name": "Sales",
                "tags": ["x"],
                "escalationPath": [{"who": "boss", "channel": "EMAIL", "address": "boss@x.io"}],
            }
        },
    )
    assert made == {
        "__typename": "Kpi",
        "key": "sales",
        "name": "Sales",
        "unit": "n",
        "kind": "OBSERVED",
        "direction": "HIGHER_IS_BETTER",
        "aggregation": "SUM",
        "tags": ["x"],
        "numerator": None,
        "denominator": None,
        "escalationPath": [
            {"position": 1, "who": "boss", "channel": "EMAIL", "address": "boss@x.io"}
        ],
    }
    await mutate(
        client, admin, UPSERT_KPI, {"input": {**KPI_BASE, "key": "visits", "name": "Visits"}}
    )
    ratio = await mutate(
        client,
        admin,
        UPSERT_KPI,
        {
            "input": {
                **KPI_BASE,
                "key": "conversion",
                "name": "Conversion",
                "kind": "RATIO",
                "numerator": "sales",
                "denominator": "visits",
            }
        },
    )
    assert ratio["__typename"] == "Kpi"
    assert (ratio["numerator"], ratio["denominator"]) == ({"key": "sales"}, {"key": "visits"})

    replaced = await mutate(
        client, admin, UPSERT_KPI, {"input": {**KPI_BASE, "key": "sales", "name": "Net sales"}}
    )
    assert (replaced["name"], replaced["tags"], replaced["escalationPath"]) == ("Net sales", [], [])
    assert (
        await con.fetchval(
            "select count(*) from escalation_step e join kpi k on k.id = e.kpi_id"
            " where k.key = 'sales'"
        )
        == 0
    )

    itself = await mutate(
        client,
        admin,
        UPSERT_KPI,
        {
            "input": {
                **KPI_BASE,
                "key": "loop",
                "name": "Loop",
                "kind": "RATIO",
                "numerator": "loop",
                "denominator": "visits",
            }
        },
    )
    assert itself["__typename"] == "Problem"
    assert itself["status"] == 422
    assert [e["field"] for e in itself["errors"]] == ["numerator"]

    unknown = await mutate(
        client,
        admin,
        UPSERT_KPI,
        {
            "input": {
                **KPI_BASE,
                "key": "broken",
                "name": "Broken",
                "kind": "RATIO",
                "numerator": "sales",
                "denominator": "ghost",
            }
        },
    )
    assert unknown["__typename"] == "Problem"
    assert [e["field"] for e in unknown["errors"]] == ["denominator"]

    # sales := conversion / visits would make sales reach itself
    cycle = await mutate(
        client,
        admin,
        UPSERT_KPI,
        {
            "input": {
                **KPI_BASE,
                "key": "sales",
                "name": "Sales",
                "kind": "RATIO",
                "numerator": "conversion",
                "denominator": "visits",
            }
        },
    )
    assert cycle["__typename"] == "Problem"
    assert [e["field"] for e in cycle["errors"]] == ["numerator"]
    assert "cycle" in cycle["errors"][0]["detail"]

    builtin = await mutate(
        client,
        admin,
        UPSERT_KPI,
        {"input": {**KPI_BASE, "key": "avail", "name": "Availability", "kind": "BUILTIN"}},
    )
    assert builtin["__typename"] == "Problem"
    assert [e["field"] for e in builtin["errors"]] == ["metric"]

    keys = await con.fetch("select key, kind from kpi order by id")
    assert [tuple(r) for r in keys] == [
        ("sales", "observed"),
        ("visits", "observed"),
        ("conversion", "ratio"),
    ]


async def test_problem_in_a_nested_input_names_its_full_path(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    """A bad escalation step is blamed on its index, as REST does: "address" alone does not
    say which step is wrong."""
    steps = [
        {"who": "ops", "channel": "EMAIL", "address": "ops@x.io"},
        {"who": "ops", "channel": "WEBHOOK", "address": "not-a-url"},
    ]
    r = await client.post(
        "/v1/kpis",
        headers=admin,
        json={
            "key": "hooked",
            "name": "Hooked",
            "unit": "n",
            "direction": "higher_is_better",
            "aggregation": "sum",
            "escalation_path": [{**s, "channel": s["channel"].lower()} for s in steps],
        },
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["escalation_path.1.address"]

    webhook = await mutate(
        client,
        admin,
        UPSERT_KPI,
        {"input": {**KPI_BASE, "key": "hooked", "name": "Hooked", "escalationPath": steps}},
    )
    assert webhook["__typename"] == "Problem"
    assert webhook["status"] == 422
    assert await con.fetchval("select count(*) from kpi where key = 'hooked'") == 0
    # GraphQL names fields as its schema does.
    assert [e["field"] for e in webhook["errors"]] == ["escalationPath.1.address"]
    assert webhook["errors"][0]["pointer"] == "#/escalationPath/1/address"


async def test_targets_links_and_deletes(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers
) -> None:
    await mutate(client, admin, UPSERT_SERVICE, {"input": {"slug": "a", "name": "A", "tier": 1}})
    await mutate(client, admin, UPSERT_OUTCOME, {"input": {"slug": "grow", "name": "Grow"}})
    await mutate(client, admin, UPSERT_KPI, {"input": {**KPI_BASE, "key": "sales", "name": "S"}})

    target = await mutate(
        client,
        admin,
        CREATE_TARGET,
        {
            "input": {
                "kpi": "sales",
                "service": "a",
                "value": 10,
                "warning": 12,
                "effectiveFrom": "2024-01-01",
            }
        },
    )
    assert target["__typename"] == "Target"
    target_id = target.pop("id")
    assert target == {
        "__typename": "Target",
        "service": "a",
        "tier": None,
        "value": 10.0,
        "warning": 12.0,
        "effectiveFrom": "2024-01-01",
        "effectiveTo": None,
    }
    assert await con.fetchval("select count(*) from target where id = $1", target_id) == 1

    wrong_side = await mutate(
        client,
        admin,
        CREATE_TARGET,
        {"input": {"kpi": "sales", "value": 10, "warning": 8, "effectiveFrom": "2024-01-01"}},
    )
    assert wrong_side == {
        "__typename": "Problem",
        "status": 422,
        "errors": [
            {
                "field": "warning",
                "detail": "must be at or above the target value for this KPI's direction",
            }
        ],
    }
    both = await mutate(
        client,
        admin,
        CREATE_TARGET,
        {
            "input": {
                "kpi": "sales",
                "service": "a",
                "tier": 1,
                "value": 1,
                "effectiveFrom": "2024-01-01",
            }
        },
    )
    assert both["__typename"] == "Problem"
    assert [e["field"] for e in both["errors"]] == ["tier"]
    no_kpi = await mutate(
        client,
        admin,
        CREATE_TARGET,
        {"input": {"kpi": "ghost", "value": 1, "effectiveFrom": "2024-01-01"}},
    )
    assert [e["field"] for e in no_kpi["errors"]] == ["kpi"]

    deleted = await mutate(
        client,
        admin,
        f"mutation($id: Int!) {{ deleteTarget(id: $id) {{ {DELETE_RESULT} }} }}",
        {"id": target_id},
    )
    assert deleted == {"__typename": "Deleted", "ok": True}
    assert await con.fetchval("select count(*) from target where id = $1", target_id) == 0
    again = await mutate(
        client,
        admin,
        f"mutation($id: Int!) {{ deleteTarget(id: $id) {{ {DELETE_RESULT} }} }}",
        {"id": target_id},
    )
    assert again["__typename"] == "Problem"
    assert again["status"] == 404

    linked = await mutate(
        client,
        admin,
        """mutation {
      linkKpiOutcome(input: {kpi: "sales", outcome: "grow", weight: 3, rationale: "why"}) {
        __typename ... on Kpi { key outcomes { nodes { outcome { slug } weight rationale } } }
      } }""",
        {},
    )
    assert linked == {
        "__typename": "Kpi",
        "key": "sales",
        "outcomes": [{"outcome": {"slug": "grow"}, "weight": 3.0, "rationale": "why"}],
    }
    reweighted = await mutate(
        client,
        admin,
        """mutation {
      linkKpiOutcome(input: {kpi: "sales", outcome: "grow", weight: 1.5}) {
        __typename ... on Kpi { outcomes { nodes { weight rationale } } }
      } }""",
        {},
    )
    assert reweighted == {"__typename": "Kpi", "outcomes": [{"weight": 1.5, "rationale": None}]}
    bad_weight = await mutate(
        client,
        admin,
        """mutation {
      linkKpiOutcome(input: {kpi: "sales", outcome: "grow", weight: 0}) {
        __typename ... on Problem { status errors { field } }
      } }""",
        {},
    )
    assert bad_weight == {"__typename": "Problem", "status": 422, "errors": [{"field": "weight"}]}
    no_outcome = await mutate(
        client,
        admin,
        """mutation {
      linkKpiOutcome(input: {kpi: "sales", outcome: "ghost"}) {
        __typename ... on Problem { status }
      } }""",
        {},
    )
    assert no_outcome == {"__typename": "Problem", "status": 404}

    applied = await mutate(
        client,
        admin,
        """mutation {
      linkKpiService(kpi: "sales", service: "a") {
        __typename ... on Kpi { key services { nodes { slug } } }
      } }""",
        {},
    )
    assert applied == {"__typename": "Kpi", "key": "sales", "services": [{"slug": "a"}]}
    no_service = await mutate(
        client,
        admin,
        """mutation {
      linkKpiService(kpi: "sales", service: "ghost") { __typename ... on Problem { status } }
    }""",
        {},
    )
    assert no_service == {"__typename": "Problem", "status": 404}
    outcome = await gql_data(
        client, reader, '{ outcome(slug: "grow") { services { nodes { slug } } } }'
    )
    assert outcome == {"outcome": {"services": {"nodes": [{"slug": "a"}]}}}

    deleted_kpi = await mutate(
        client, admin, f'mutation {{ deleteKpi(key: "sales") {{ {DELETE_RESULT} }} }}', {}
    )
    assert deleted_kpi == {"__typename": "Deleted", "ok": True}
    assert (await gql_data(client, reader, '{ kpi(key: "sales") { key } }')) == {"kpi": None}
    missing_kpi = await mutate(
        client, admin, f'mutation {{ deleteKpi(key: "sales") {{ {DELETE_RESULT} }} }}', {}
    )
    assert (missing_kpi["__typename"], missing_kpi["status"]) == ("Problem", 404)

    deleted_svc = await mutate(
        client, admin, f'mutation {{ deleteService(slug: "a") {{ {DELETE_RESULT} }} }}', {}
    )
    assert deleted_svc == {"__typename": "Deleted", "ok": True}
    assert (await gql_data(client, reader, '{ service(slug: "a") { slug } }')) == {"service": None}
    assert await con.fetchval("select count(*) from business_service where slug = 'a'") == 0
    missing_svc = await mutate(
        client, admin, f'mutation {{ deleteService(slug: "a") {{ {DELETE_RESULT} }} }}', {}
    )
    assert (missing_svc["__typename"], missing_svc["status"]) == ("Problem", 404)


async def test_delete_kpi_used_by_ratio_is_a_conflict(
    client: httpx.AsyncClient, admin: Headers, catalog: None
) -> None:
    refused = await mutate(
        client, admin, f'mutation {{ deleteKpi(key: "orders") {{ {DELETE_RESULT} }} }}', {}
    )
    assert refused["__typename"] == "Problem"
    assert refused["status"] == 409
    assert refused["detail"] == "KPI 'orders' is used by ratio KPI 'failure_rate'"
