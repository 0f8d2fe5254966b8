"""REST catalog CRUD under /v1: teams, services, outcomes, KPIs, targets and links.

Every request goes through the real app and a real Postgres (rolled back after each test);
errors are checked as problem+json naming the bad field.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.models.enums import Scope
from service.usecases import tokens
from tests.conftest import SingleConnectionDatabase

Headers = dict[str, str]
Json = dict[str, Any]

PROBLEM = "application/problem+json"
SMALL_LIMIT = 1000


# Bodies -----------------------------------------------------------------------------------------


def team_body(slug: str = "platform", **fields: Any) -> Json:
    return {"slug": slug, "name": f"Team {slug}", **fields}


def service_body(slug: str = "checkout", **fields: Any) -> Json:
    return {"slug": slug, "name": f"Service {slug}", "tier": 2, **fields}


def outcome_body(slug: str = "grow-revenue", **fields: Any) -> Json:
    return {"slug": slug, "name": f"Outcome {slug}", **fields}


def kpi_body(key: str = "orders", **fields: Any) -> Json:
    return {
        "key": key,
        "name": f"KPI {key}",
        "unit": "count",
        "direction": "higher_is_better",
        "aggregation": "sum",
        **fields,
    }


def ratio_body(key: str, numerator: str, denominator: str, **fields: Any) -> Json:
    return kpi_body(
        key,
        kind="ratio",
        numerator=numerator,
        denominator=denominator,
        unit="ratio",
        aggregation="avg",
        **fields,
    )


def target_body(kpi: str = "orders", **fields: Any) -> Json:
    return {"kpi": kpi, "value": 100.0, "effective_from": "2024-01-01", **fields}


def step(who: str, channel: str, address: str, **fields: Any) -> Json:
    return {"who": who, "channel": channel, "address": address, **fields}


# Requests and assertions ------------------------------------------------------------------------


async def post(client: httpx.AsyncClient, headers: Headers, path: str, body: Any) -> Json:
    """POST that must succeed with 201; returns the created resource."""
    resp = await client.post(path, json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    assert resp.headers["content-type"] == "application/json"
    created: Json = resp.json()
    return created


async def get_json(client: httpx.AsyncClient, headers: Headers, path: str) -> Any:
    resp = await client.get(path, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def problem(resp: httpx.Response, status: int, *fields: str) -> Json:
    """Assert a problem+json answer with `status`, naming exactly `fields` (in order)."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body: Json = resp.json()
    assert body["status"] == status
    assert body["instance"] == resp.request.url.path
    if fields:
        assert [e["field"] for e in body["errors"]] == list(fields)
        assert [e["pointer"] for e in body["errors"]] == [
            "#/" + f.replace(".", "/") for f in fields
        ]
    return body


def without_id(item: Json) -> Json:
    return {k: v for k, v in item.items() if k != "id"}


# Fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
async def small_client(
    con: dbmod.Connection, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a 1000-byte body limit."""
    small = Settings(db_schema=settings.db_schema, max_body_bytes=SMALL_LIMIT)
    app = create_app(small, db=SingleConnectionDatabase(con))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kpi.test") as c:
        yield c


# Teams ------------------------------------------------------------------------------------------


async def test_team_create_get_list_replace_delete(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    created = await post(client, admin, "/v1/teams", team_body("zeta", email="z@example.com"))
    assert without_id(created) == {"slug": "zeta", "name": "Team zeta", "email": "z@example.com",
                                   "entity_ref": "group:default/zeta", "parent": None}  # fmt: skip
    assert isinstance(created["id"], int)
    alpha = await post(client, admin, "/v1/teams", {"slug": "alpha", "name": "  Alpha  "})
    assert alpha["name"] == "Alpha"  # surrounding whitespace stripped
    assert alpha["email"] is None

    assert await get_json(client, admin, "/v1/teams/zeta") == created
    assert await get_json(client, admin, "/v1/teams") == [alpha, created]  # ordered by slug

    resp = await client.put(
        "/v1/teams/zeta", json={"slug": "zeta", "name": "Zeta Ops"}, headers=admin
    )
    assert resp.status_code == 200
    assert resp.json() == {"id": created["id"], "slug": "zeta", "name": "Zeta Ops", "email": None,
                           "entity_ref": "group:default/zeta", "parent": None}  # fmt: skip
    assert await get_json(client, admin, "/v1/teams/zeta") == resp.json()

    resp = await client.delete("/v1/teams/zeta", headers=admin)
    assert resp.status_code == 204
    assert resp.content == b""
    problem(await client.get("/v1/teams/zeta", headers=admin), 404)
    assert await get_json(client, admin, "/v1/teams") == [alpha]


async def test_team_duplicate_slug_is_a_conflict(client: httpx.AsyncClient, admin: Headers) -> None:
    await post(client, admin, "/v1/teams", team_body("platform"))
    resp = await client.post("/v1/teams", json=team_body("platform"), headers=admin)
    body = problem(resp, 409, "slug")
    assert body["detail"] == "slug 'platform' already exists"
    assert len(await get_json(client, admin, "/v1/teams")) == 1


async def test_team_missing_is_404_for_get_put_delete(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    problem(await client.get("/v1/teams/nobody", headers=admin), 404)
    resp = await client.put("/v1/teams/nobody", json=team_body("nobody"), headers=admin)
    assert problem(resp, 404)["detail"] == "no team 'nobody'"
    problem(await client.delete("/v1/teams/nobody", headers=admin), 404)


async def test_team_put_with_a_different_slug_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/teams", team_body("platform"))
    resp = await client.put("/v1/teams/platform", json=team_body("renamed"), headers=admin)
    problem(resp, 422, "slug")
    assert (await get_json(client, admin, "/v1/teams/platform"))["name"] == "Team platform"
    problem(await client.get("/v1/teams/renamed", headers=admin), 404)


async def test_team_bad_slug_and_missing_name(client: httpx.AsyncClient, admin: Headers) -> None:
    resp = await client.post("/v1/teams", json={"slug": "Bad Slug", "name": ""}, headers=admin)
    problem(resp, 422, "slug", "name")
    resp = await client.post("/v1/teams", json={"slug": "ok"}, headers=admin)
    problem(resp, 422, "name")


async def test_deleting_a_team_still_owning_a_service_is_a_conflict(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/teams", team_body("platform"))
    await post(client, admin, "/v1/services", service_body("identity", team="platform"))

    problem(await client.delete("/v1/teams/platform", headers=admin), 409)
    assert (await get_json(client, admin, "/v1/teams/platform"))["slug"] == "platform"
    assert (await get_json(client, admin, "/v1/services/identity"))["team"] == "platform"

    # Once the service no longer names it, the team can go.
    resp = await client.put("/v1/services/identity", json=service_body("identity"), headers=admin)
    assert resp.status_code == 200
    assert (await client.delete("/v1/teams/platform", headers=admin)).status_code == 204


# Services ---------------------------------------------------------------------------------------


async def test_service_create_get_list_replace_delete(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/teams", team_body("digital"))
    await post(client, admin, "/v1/teams", team_body("platform"))
    zeta = await post(client, admin, "/v1/services", service_body("zeta-db", tier=1))
    alpha = await post(client, admin, "/v1/services", service_body("alpha-api", tier=1))
    assert without_id(zeta) == {
        "slug": "zeta-db",
        "name": "Service zeta-db",
        "tier": 1,
        "team": None,
        "business_owner": None,
        "technology_owner": None,
        "revenue_per_hour": None,
        "users": None,
        "outage_threshold": "sev2",
        "depends_on": [],
        "attributes": {},
        "entity_ref": "component:default/zeta-db",
    }

    full = service_body(
        "checkout",
        name="Online checkout",
        tier=1,
        team="digital",
        business_owner="cdo@example.com",
        technology_owner="lead@example.com",
        revenue_per_hour=52000.456,
        users=180000,
        outage_threshold="sev3",
        depends_on=["zeta-db", "alpha-api"],
    )
    checkout = await post(client, admin, "/v1/services", full)
    expected = {
        **full,
        "revenue_per_hour": 52000.46,  # kept to the cent
        "depends_on": ["alpha-api", "zeta-db"],  # sorted
        "attributes": {},
        "entity_ref": "component:default/checkout",  # from the slug
    }
    assert without_id(checkout) == expected
    assert await get_json(client, admin, "/v1/services/checkout") == checkout
    assert await get_json(client, admin, "/v1/services") == [zeta, alpha, checkout]  # by id

    replacement = service_body(
        "checkout",
        name="Checkout",
        tier=3,
        team="platform",
        revenue_per_hour=0.1,
        outage_threshold="sev1",
        depends_on=["zeta-db"],
    )
    resp = await client.put("/v1/services/checkout", json=replacement, headers=admin)
    assert resp.status_code == 200, resp.text
    replaced = {
        "id": checkout["id"],
        "slug": "checkout",
        "name": "Checkout",
        "tier": 3,
        "team": "platform",
        "business_owner": None,
        "technology_owner": None,
        "revenue_per_hour": 0.1,
        "users": None,
        "outage_threshold": "sev1",
        "depends_on": ["zeta-db"],
        "attributes": {},
        "entity_ref": "component:default/checkout",
    }
    assert resp.json() == replaced
    assert await get_json(client, admin, "/v1/services/checkout") == replaced

    # Deleting a dependency removes it from its dependents.
    assert (await client.delete("/v1/services/zeta-db", headers=admin)).status_code == 204
    problem(await client.get("/v1/services/zeta-db", headers=admin), 404)
    assert (await get_json(client, admin, "/v1/services/checkout"))["depends_on"] == []
    slugs = [s["slug"] for s in await get_json(client, admin, "/v1/services")]
    assert slugs == ["alpha-api", "checkout"]


async def test_service_unknown_team_is_422_on_create_and_replace(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    resp = await client.post("/v1/services", json=service_body(team="ghosts"), headers=admin)
    body = problem(resp, 422, "team")
    assert body["errors"][0]["detail"] == "unknown team 'ghosts'"
    problem(await client.get("/v1/services/checkout", headers=admin), 404)

    await post(client, admin, "/v1/services", service_body())
    resp = await client.put(
        "/v1/services/checkout", json=service_body(team="ghosts"), headers=admin
    )
    problem(resp, 422, "team")
    assert (await get_json(client, admin, "/v1/services/checkout"))["team"] is None


async def test_service_unknown_dependency_names_its_position(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/services", service_body("identity"))
    body = service_body(depends_on=["identity", "nowhere"])
    resp = await client.post("/v1/services", json=body, headers=admin)
    assert problem(resp, 422, "depends_on.1")["errors"][0]["detail"] == "unknown service 'nowhere'"
    problem(await client.get("/v1/services/checkout", headers=admin), 404)

    resp = await client.post(
        "/v1/services", json=service_body(depends_on=["nowhere"]), headers=admin
    )
    problem(resp, 422, "depends_on.0")


async def test_service_cannot_depend_on_itself(client: httpx.AsyncClient, admin: Headers) -> None:
    resp = await client.post(
        "/v1/services", json=service_body(depends_on=["checkout"]), headers=admin
    )
    problem(resp, 422, "depends_on.0")
    problem(await client.get("/v1/services/checkout", headers=admin), 404)

    await post(client, admin, "/v1/services", service_body("identity"))
    await post(client, admin, "/v1/services", service_body())
    body = service_body(depends_on=["identity", "checkout"])
    resp = await client.put("/v1/services/checkout", json=body, headers=admin)
    problem(resp, 422, "depends_on.1")
    assert (await get_json(client, admin, "/v1/services/checkout"))["depends_on"] == []


async def test_service_dependency_listed_twice_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/services", service_body("identity"))
    body = service_body(depends_on=["identity", "identity"])
    problem(await client.post("/v1/services", json=body, headers=admin), 422, "depends_on.1")


async def test_service_dependency_cycle_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/services", service_body("b"))
    await post(client, admin, "/v1/services", service_body("a", depends_on=["b"]))

    resp = await client.put(
        "/v1/services/b", json=service_body("b", depends_on=["a"]), headers=admin
    )
    body = problem(resp, 422, "depends_on.0")
    assert body["errors"][0]["detail"] == "'a' already depends on 'b': that is a cycle"
    assert (await get_json(client, admin, "/v1/services/b"))["depends_on"] == []
    assert (await get_json(client, admin, "/v1/services/a"))["depends_on"] == ["b"]


async def test_service_indirect_dependency_cycle_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/services", service_body("c"))
    await post(client, admin, "/v1/services", service_body("x"))
    await post(client, admin, "/v1/services", service_body("b", depends_on=["c"]))
    await post(client, admin, "/v1/services", service_body("a", depends_on=["b"]))

    # c keeps its name and tier, and would depend on x (fine) and a (a -> b -> c: a cycle).
    body = service_body("c", tier=4, depends_on=["x", "a"])
    resp = await client.put("/v1/services/c", json=body, headers=admin)
    problem(resp, 422, "depends_on.1")
    c = await get_json(client, admin, "/v1/services/c")
    assert (c["tier"], c["depends_on"]) == (2, [])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tier": 5}, "tier"),
        ({"tier": 0}, "tier"),
        ({"outage_threshold": "sev9"}, "outage_threshold"),
        ({"revenue_per_hour": -1}, "revenue_per_hour"),
        ({"users": -5}, "users"),
        ({"depends_on": ["Not A Slug"]}, "depends_on.0"),
        ({"team": "UPPER"}, "team"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_service_invalid_fields(
    client: httpx.AsyncClient, admin: Headers, change: Json, field: str
) -> None:
    resp = await client.post("/v1/services", json=service_body(**change), headers=admin)
    problem(resp, 422, field)
    problem(await client.get("/v1/services/checkout", headers=admin), 404)


async def test_service_duplicate_slug_and_path_mismatch(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/services", service_body())
    problem(await client.post("/v1/services", json=service_body(), headers=admin), 409, "slug")

    resp = await client.put("/v1/services/checkout", json=service_body("other"), headers=admin)
    problem(resp, 422, "slug")
    problem(await client.get("/v1/services/other", headers=admin), 404)


async def test_service_missing_is_404(client: httpx.AsyncClient, admin: Headers) -> None:
    problem(await client.get("/v1/services/nowhere", headers=admin), 404)
    resp = await client.put("/v1/services/nowhere", json=service_body("nowhere"), headers=admin)
    assert problem(resp, 404)["detail"] == "no service 'nowhere'"
    problem(await client.delete("/v1/services/nowhere", headers=admin), 404)


# Outcomes ---------------------------------------------------------------------------------------


async def test_outcome_create_get_list_replace_delete(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    body = outcome_body("retain", description="Keep customers", owner="cco@example.com")
    retain = await post(client, admin, "/v1/outcomes", body)
    assert without_id(retain) == body
    grow = await post(client, admin, "/v1/outcomes", outcome_body("grow"))
    assert without_id(grow) == {
        "slug": "grow",
        "name": "Outcome grow",
        "description": None,
        "owner": None,
    }
    assert await get_json(client, admin, "/v1/outcomes/retain") == retain
    assert await get_json(client, admin, "/v1/outcomes") == [grow, retain]  # by slug

    resp = await client.put(
        "/v1/outcomes/retain", json=outcome_body("retain", name="Retention"), headers=admin
    )
    assert resp.status_code == 200
    replaced = {
        "id": retain["id"],
        "slug": "retain",
        "name": "Retention",
        "description": None,
        "owner": None,
    }
    assert resp.json() == replaced
    assert await get_json(client, admin, "/v1/outcomes/retain") == replaced

    assert (await client.delete("/v1/outcomes/retain", headers=admin)).status_code == 204
    problem(await client.get("/v1/outcomes/retain", headers=admin), 404)
    assert await get_json(client, admin, "/v1/outcomes") == [grow]


async def test_outcome_errors(client: httpx.AsyncClient, admin: Headers) -> None:
    await post(client, admin, "/v1/outcomes", outcome_body("grow"))
    problem(
        await client.post("/v1/outcomes", json=outcome_body("grow"), headers=admin), 409, "slug"
    )
    resp = await client.put("/v1/outcomes/grow", json=outcome_body("shrink"), headers=admin)
    problem(resp, 422, "slug")
    resp = await client.post(
        "/v1/outcomes", json=outcome_body("long", description="x" * 2001), headers=admin
    )
    problem(resp, 422, "description")
    problem(await client.get("/v1/outcomes/none", headers=admin), 404)
    problem(await client.put("/v1/outcomes/none", json=outcome_body("none"), headers=admin), 404)
    problem(await client.delete("/v1/outcomes/none", headers=admin), 404)


# KPIs -------------------------------------------------------------------------------------------

ESCALATION = [
    step("oncall@example.com", "email", "oncall@example.com"),
    step("pager", "webhook", "https://hooks.example.com/pager", after_breached_periods=2),
    step(
        "cio@example.com",
        "email",
        "cio@example.com",
        after_breached_periods=3,
        after_unacknowledged_minutes=90,
    ),
]


def full_step(s: Json) -> Json:
    return {"after_breached_periods": 1, "after_unacknowledged_minutes": None, **s}


async def test_kpi_create_get_list_replace_delete(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    body = kpi_body(
        "conversion",
        name="Checkout conversion",
        strategic_question="Do visitors buy?",
        business_impact="Revenue",
        unit="percent",
        aggregation="avg",
        cadence="weekly",
        business_owner="cdo@example.com",
        technology_owner="lead@example.com",
        board_level=True,
        tags=["digital", "revenue"],
        escalation_path=ESCALATION,
    )
    conversion = await post(client, admin, "/v1/kpis", body)
    expected = {
        **body,
        "kind": "observed",
        "metric": None,
        "filter": None,
        "availability_kpi": None,
        "numerator": None,
        "denominator": None,
        "time_zone": None,
        "escalation_path": [full_step(s) for s in ESCALATION],
        "prometheus": None,
    }
    assert without_id(conversion) == expected
    assert await get_json(client, admin, "/v1/kpis/conversion") == conversion
    got = await get_json(client, admin, "/v1/kpis/conversion")
    assert [s["who"] for s in got["escalation_path"]] == [
        "oncall@example.com",
        "pager",
        "cio@example.com",
    ]

    availability = await post(
        client,
        admin,
        "/v1/kpis",
        kpi_body("availability", kind="builtin", metric="availability", unit="percent"),
    )
    assert (availability["kind"], availability["metric"]) == ("builtin", "availability")
    # A builtin KPI is combined by its definition: the aggregation sent is not kept.
    assert availability["aggregation"] is None
    orders = await post(client, admin, "/v1/kpis", kpi_body("orders"))
    assert without_id(orders) == {
        **kpi_body("orders"),
        "strategic_question": None,
        "business_impact": None,
        "kind": "observed",
        "metric": None,
        "filter": None,
        "availability_kpi": None,
        "numerator": None,
        "denominator": None,
        "cadence": None,
        "time_zone": None,
        "business_owner": None,
        "technology_owner": None,
        "board_level": False,
        "tags": [],
        "escalation_path": [],
        "prometheus": None,
    }
    assert await get_json(client, admin, "/v1/kpis") == [conversion, availability, orders]

    # Replace: the escalation path is reordered and shortened, tags dropped.
    new_path = [ESCALATION[2], ESCALATION[0]]
    replacement = {**body, "board_level": False, "tags": [], "escalation_path": new_path}
    resp = await client.put("/v1/kpis/conversion", json=replacement, headers=admin)
    assert resp.status_code == 200, resp.text
    replaced = {
        **expected,
        "id": conversion["id"],
        "board_level": False,
        "tags": [],
        "escalation_path": [full_step(s) for s in new_path],
    }
    assert resp.json() == replaced
    assert await get_json(client, admin, "/v1/kpis/conversion") == replaced

    assert (await client.delete("/v1/kpis/conversion", headers=admin)).status_code == 204
    problem(await client.get("/v1/kpis/conversion", headers=admin), 404)
    assert await get_json(client, admin, "/v1/kpis") == [availability, orders]


async def test_ratio_kpi_reads_back_its_parts(client: httpx.AsyncClient, admin: Headers) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("spend", unit="EUR"))
    await post(client, admin, "/v1/kpis", kpi_body("users", aggregation="last"))
    created = await post(client, admin, "/v1/kpis", ratio_body("unit_cost", "spend", "users"))
    assert (created["kind"], created["numerator"], created["denominator"]) == (
        "ratio",
        "spend",
        "users",
    )
    got = await get_json(client, admin, "/v1/kpis/unit_cost")
    assert got == created

    # Swap the sides on replace.
    resp = await client.put(
        "/v1/kpis/unit_cost", json=ratio_body("unit_cost", "users", "spend"), headers=admin
    )
    assert resp.status_code == 200
    got = await get_json(client, admin, "/v1/kpis/unit_cost")
    assert (got["numerator"], got["denominator"]) == ("users", "spend")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (kpi_body(direction="up"), "direction"),
        (kpi_body(aggregation="median"), "aggregation"),
        (kpi_body(cadence="hourly"), "cadence"),
        (kpi_body(kind="formula"), "kind"),
        (kpi_body(kind="builtin"), "metric"),
        (kpi_body(kind="builtin", metric="happiness"), "metric"),
        (kpi_body(metric="availability"), "metric"),
        (kpi_body(kind="ratio", numerator="spend"), "denominator"),
        (kpi_body(numerator="spend"), "numerator"),
        (ratio_body("orders", "orders", "spend"), "numerator"),
        (ratio_body("orders", "spend", "orders"), "denominator"),
        (kpi_body("Orders"), "key"),
        (kpi_body("9orders"), "key"),
        (kpi_body(unit=""), "unit"),
        (kpi_body(tags=["x" * 61]), "tags.0"),
        (kpi_body(owner="someone"), "owner"),
        (
            kpi_body(escalation_path=[step("a", "pigeon", "a@example.com")]),
            "escalation_path.0.channel",
        ),
        (
            kpi_body(escalation_path=[ESCALATION[0], step("hook", "webhook", "not-a-url")]),
            "escalation_path.1.address",
        ),
        (kpi_body(escalation_path=[step("a", "email", "nobody")]), "escalation_path.0.address"),
        (
            kpi_body(
                escalation_path=[step("a", "email", "a@example.com", after_breached_periods=0)]
            ),
            "escalation_path.0.after_breached_periods",
        ),
        (
            kpi_body(escalation_path=[{**ESCALATION[0], "sms": "+1"}]),
            "escalation_path.0.sms",
        ),
    ],
)
async def test_kpi_invalid_fields(
    client: httpx.AsyncClient, admin: Headers, body: Json, field: str
) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("spend"))
    resp = await client.post("/v1/kpis", json=body, headers=admin)
    problem(resp, 422, field)
    assert [k["key"] for k in await get_json(client, admin, "/v1/kpis")] == ["spend"]


async def test_ratio_kpi_with_unknown_parts(client: httpx.AsyncClient, admin: Headers) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("spend"))
    resp = await client.post("/v1/kpis", json=ratio_body("cost", "ghost", "spend"), headers=admin)
    assert problem(resp, 422, "numerator")["errors"][0]["detail"] == "unknown KPI 'ghost'"
    resp = await client.post("/v1/kpis", json=ratio_body("cost", "spend", "ghost"), headers=admin)
    problem(resp, 422, "denominator")
    problem(await client.get("/v1/kpis/cost", headers=admin), 404)


async def test_ratio_cycle_is_refused(client: httpx.AsyncClient, admin: Headers) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("b"))
    await post(client, admin, "/v1/kpis", kpi_body("c"))
    await post(client, admin, "/v1/kpis", ratio_body("a", "b", "c"))

    # b = a / c, while a = b / c: a cycle through the numerator.
    resp = await client.put("/v1/kpis/b", json=ratio_body("b", "a", "c"), headers=admin)
    body = problem(resp, 422, "numerator")
    assert body["errors"][0]["detail"] == "'a' is built from 'b': that is a cycle"
    # ... and through the denominator.
    resp = await client.put("/v1/kpis/b", json=ratio_body("b", "c", "a"), headers=admin)
    problem(resp, 422, "denominator")

    b = await get_json(client, admin, "/v1/kpis/b")
    assert (b["kind"], b["numerator"], b["denominator"]) == ("observed", None, None)


async def test_indirect_ratio_cycle_is_refused(client: httpx.AsyncClient, admin: Headers) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("b"))
    await post(client, admin, "/v1/kpis", kpi_body("c"))
    await post(client, admin, "/v1/kpis", ratio_body("a", "b", "c"))
    await post(client, admin, "/v1/kpis", ratio_body("d", "c", "a"))

    # b = d / c: d -> a -> b.
    resp = await client.put("/v1/kpis/b", json=ratio_body("b", "d", "c"), headers=admin)
    problem(resp, 422, "numerator")
    assert (await get_json(client, admin, "/v1/kpis/b"))["kind"] == "observed"


async def test_kpi_duplicate_key_mismatch_and_missing(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("orders"))
    resp = await client.post("/v1/kpis", json=kpi_body("orders"), headers=admin)
    assert problem(resp, 409, "key")["detail"] == "key 'orders' already exists"

    resp = await client.put("/v1/kpis/orders", json=kpi_body("sales"), headers=admin)
    problem(resp, 422, "key")
    problem(await client.get("/v1/kpis/sales", headers=admin), 404)

    problem(await client.get("/v1/kpis/ghost", headers=admin), 404)
    problem(await client.put("/v1/kpis/ghost", json=kpi_body("ghost"), headers=admin), 404)
    problem(await client.delete("/v1/kpis/ghost", headers=admin), 404)


async def test_deleting_a_kpi_used_by_a_ratio_is_a_conflict(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("spend"))
    await post(client, admin, "/v1/kpis", kpi_body("users"))
    await post(client, admin, "/v1/kpis", ratio_body("unit_cost", "spend", "users"))

    for key in ("spend", "users"):
        resp = await client.delete(f"/v1/kpis/{key}", headers=admin)
        assert problem(resp, 409)["detail"] == f"KPI {key!r} is used by ratio KPI 'unit_cost'"
    keys = [k["key"] for k in await get_json(client, admin, "/v1/kpis")]
    assert keys == ["spend", "users", "unit_cost"]

    assert (await client.delete("/v1/kpis/unit_cost", headers=admin)).status_code == 204
    assert (await client.delete("/v1/kpis/spend", headers=admin)).status_code == 204
    assert [k["key"] for k in await get_json(client, admin, "/v1/kpis")] == ["users"]


# Targets ----------------------------------------------------------------------------------------


async def test_target_create_get_list_replace_delete(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("availability", unit="percent"))
    await post(client, admin, "/v1/kpis", kpi_body("mttr", direction="lower_is_better"))
    await post(client, admin, "/v1/services", service_body("checkout"))

    body = target_body("availability", tier=1, value=99.9, warning=99.95)
    tier1 = await post(client, admin, "/v1/targets", body)
    assert without_id(tier1) == {**body, "service": None, "effective_to": None}
    overall = await post(
        client,
        admin,
        "/v1/targets",
        target_body("availability", value=99.5, effective_to="2024-12-31"),
    )
    assert without_id(overall) == {
        "kpi": "availability",
        "service": None,
        "tier": None,
        "value": 99.5,
        "warning": None,
        "effective_from": "2024-01-01",
        "effective_to": "2024-12-31",
    }
    for_service = await post(
        client,
        admin,
        "/v1/targets",
        target_body("availability", service="checkout", value=99.99, warning=99.999),
    )
    assert (for_service["service"], for_service["tier"]) == ("checkout", None)
    mttr = await post(client, admin, "/v1/targets", target_body("mttr", value=60, warning=30))
    assert (mttr["value"], mttr["warning"]) == (60.0, 30.0)

    assert await get_json(client, admin, f"/v1/targets/{tier1['id']}") == tier1
    # By KPI key, then service (global first), then tier (all tiers first).
    assert await get_json(client, admin, "/v1/targets") == [overall, tier1, for_service, mttr]
    assert await get_json(client, admin, "/v1/targets?kpi=mttr") == [mttr]
    assert await get_json(client, admin, "/v1/targets?kpi=ghost") == []

    new = target_body("availability", tier=2, value=99.0, warning=99.0, effective_from="2024-07-01")
    resp = await client.put(f"/v1/targets/{tier1['id']}", json=new, headers=admin)
    assert resp.status_code == 200, resp.text
    replaced = {"id": tier1["id"], **new, "service": None, "effective_to": None}
    assert resp.json() == replaced
    assert await get_json(client, admin, f"/v1/targets/{tier1['id']}") == replaced

    resp = await client.delete(f"/v1/targets/{tier1['id']}", headers=admin)
    assert resp.status_code == 204
    problem(await client.get(f"/v1/targets/{tier1['id']}", headers=admin), 404)
    assert await get_json(client, admin, "/v1/targets") == [overall, for_service, mttr]


async def test_target_for_a_service_and_a_tier_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("orders"))
    await post(client, admin, "/v1/services", service_body("checkout"))
    resp = await client.post(
        "/v1/targets", json=target_body(service="checkout", tier=1), headers=admin
    )
    assert problem(resp, 422, "tier")["errors"][0]["detail"] == "give a service or a tier, not both"
    assert await get_json(client, admin, "/v1/targets") == []


@pytest.mark.parametrize(
    ("direction", "value", "warning", "accepted"),
    [
        ("higher_is_better", 99.9, 99.0, False),
        ("higher_is_better", 99.9, 99.95, True),
        ("higher_is_better", 99.9, 99.9, True),
        ("lower_is_better", 60.0, 90.0, False),
        ("lower_is_better", 60.0, 30.0, True),
        ("lower_is_better", 60.0, 60.0, True),
    ],
)
async def test_target_warning_must_be_on_the_good_side(
    client: httpx.AsyncClient,
    admin: Headers,
    direction: str,
    value: float,
    warning: float,
    accepted: bool,
) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("orders", direction=direction))
    body = target_body(value=value, warning=warning)
    resp = await client.post("/v1/targets", json=body, headers=admin)
    if accepted:
        assert resp.status_code == 201, resp.text
        assert (resp.json()["value"], resp.json()["warning"]) == (value, warning)
    else:
        problem(resp, 422, "warning")
        assert await get_json(client, admin, "/v1/targets") == []


async def test_target_warning_is_checked_on_replace_too(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("orders"))
    target = await post(client, admin, "/v1/targets", target_body(value=10, warning=12))
    resp = await client.put(
        f"/v1/targets/{target['id']}", json=target_body(value=10, warning=8), headers=admin
    )
    problem(resp, 422, "warning")
    assert (await get_json(client, admin, f"/v1/targets/{target['id']}"))["warning"] == 12.0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kpi": "ghost"}, "kpi"),
        ({"service": "nowhere"}, "service"),
        ({"tier": 5}, "tier"),
        ({"effective_to": "2023-12-31"}, "effective_to"),
        ({"effective_to": "2024-01-01"}, "effective_to"),
        ({"effective_from": "2024-02-30"}, "effective_from"),
        ({"value": "lots"}, "value"),
        ({"note": "hi"}, "note"),
    ],
)
async def test_target_invalid_fields(
    client: httpx.AsyncClient, admin: Headers, change: Json, field: str
) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("orders"))
    resp = await client.post("/v1/targets", json=target_body(**change), headers=admin)
    problem(resp, 422, field)
    assert await get_json(client, admin, "/v1/targets") == []


async def test_target_missing_value_and_date(client: httpx.AsyncClient, admin: Headers) -> None:
    resp = await client.post("/v1/targets", json={"kpi": "orders"}, headers=admin)
    problem(resp, 422, "value", "effective_from")


async def test_target_same_scope_and_start_is_a_conflict(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("orders"))
    first = await post(client, admin, "/v1/targets", target_body(tier=1))
    problem(
        await client.post("/v1/targets", json=target_body(tier=1), headers=admin),
        409,
        "effective_from",
    )
    other = await post(client, admin, "/v1/targets", target_body(tier=2))
    # Moving the second onto the first's scope and start is a conflict too.
    resp = await client.put(f"/v1/targets/{other['id']}", json=target_body(tier=1), headers=admin)
    problem(resp, 409, "effective_from")
    assert await get_json(client, admin, "/v1/targets") == [first, other]


async def test_target_missing_is_404(client: httpx.AsyncClient, admin: Headers) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("orders"))
    problem(await client.get("/v1/targets/999999", headers=admin), 404)
    resp = await client.put("/v1/targets/999999", json=target_body(), headers=admin)
    assert problem(resp, 404)["detail"] == "no target 999999"
    problem(await client.delete("/v1/targets/999999", headers=admin), 404)
    problem(await client.get("/v1/targets/not-a-number", headers=admin), 404)


async def test_deleting_a_kpi_or_service_removes_its_targets(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("orders"))
    await post(client, admin, "/v1/kpis", kpi_body("sales"))
    await post(client, admin, "/v1/services", service_body("checkout"))
    await post(client, admin, "/v1/targets", target_body("orders"))
    await post(client, admin, "/v1/targets", target_body("sales", service="checkout"))
    sales = await post(client, admin, "/v1/targets", target_body("sales"))

    assert (await client.delete("/v1/kpis/orders", headers=admin)).status_code == 204
    assert (await client.delete("/v1/services/checkout", headers=admin)).status_code == 204
    assert await get_json(client, admin, "/v1/targets") == [sales]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_target_id_beyond_bigint_is_404(
    client: httpx.AsyncClient, admin: Headers, method: str
) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("orders"))
    body = target_body() if method == "PUT" else None
    resp = await send(client, method, "/v1/targets/99999999999999999999", body, admin)
    problem(resp, 404)


# Links ------------------------------------------------------------------------------------------


async def test_kpi_outcome_links(client: httpx.AsyncClient, admin: Headers) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("orders"))
    await post(client, admin, "/v1/outcomes", outcome_body("retain"))
    await post(client, admin, "/v1/outcomes", outcome_body("grow"))
    assert await get_json(client, admin, "/v1/kpis/orders/outcomes") == []

    resp = await client.put(
        "/v1/kpis/orders/outcomes/retain",
        json={"weight": 2.5, "rationale": "repeat buyers"},
        headers=admin,
    )
    assert resp.status_code == 200, resp.text
    retain = {"kpi": "orders", "outcome": "retain", "weight": 2.5, "rationale": "repeat buyers"}
    assert resp.json() == retain
    resp = await client.put("/v1/kpis/orders/outcomes/grow", json={}, headers=admin)
    grow = {"kpi": "orders", "outcome": "grow", "weight": 1.0, "rationale": None}
    assert resp.json() == grow
    assert await get_json(client, admin, "/v1/kpis/orders/outcomes") == [grow, retain]

    # PUT again replaces the link's weight and rationale.
    resp = await client.put("/v1/kpis/orders/outcomes/retain", json={"weight": 0.5}, headers=admin)
    assert resp.status_code == 200
    retain = {**retain, "weight": 0.5, "rationale": None}
    assert await get_json(client, admin, "/v1/kpis/orders/outcomes") == [grow, retain]

    assert (await client.delete("/v1/kpis/orders/outcomes/grow", headers=admin)).status_code == 204
    assert await get_json(client, admin, "/v1/kpis/orders/outcomes") == [retain]
    resp = await client.delete("/v1/kpis/orders/outcomes/grow", headers=admin)
    assert problem(resp, 404)["detail"] == "KPI 'orders' is not linked to outcome 'grow'"

    # Deleting the outcome drops its links.
    assert (await client.delete("/v1/outcomes/retain", headers=admin)).status_code == 204
    assert await get_json(client, admin, "/v1/kpis/orders/outcomes") == []


async def test_kpi_outcome_link_errors(client: httpx.AsyncClient, admin: Headers) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("orders"))
    await post(client, admin, "/v1/outcomes", outcome_body("grow"))
    for weight in (0, -1, 1001):
        resp = await client.put(
            "/v1/kpis/orders/outcomes/grow", json={"weight": weight}, headers=admin
        )
        problem(resp, 422, "weight")
    resp = await client.put("/v1/kpis/orders/outcomes/grow", json={"kpi": "x"}, headers=admin)
    problem(resp, 422, "kpi")
    resp = await client.put("/v1/kpis/ghost/outcomes/grow", json={}, headers=admin)
    assert problem(resp, 404)["detail"] == "no KPI 'ghost'"
    resp = await client.put("/v1/kpis/orders/outcomes/ghost", json={}, headers=admin)
    assert problem(resp, 404)["detail"] == "no outcome 'ghost'"
    problem(await client.delete("/v1/kpis/ghost/outcomes/grow", headers=admin), 404)
    assert await get_json(client, admin, "/v1/kpis/orders/outcomes") == []


async def test_kpi_service_links(client: httpx.AsyncClient, admin: Headers) -> None:
    await post(client, admin, "/v1/kpis", kpi_body("orders"))
    await post(client, admin, "/v1/services", service_body("web"))
    await post(client, admin, "/v1/services", service_body("app"))

    resp = await client.put("/v1/kpis/orders/services/web", headers=admin)
    assert resp.status_code == 200
    assert resp.json() == {"kpi": "orders", "service": "web"}
    assert (await client.put("/v1/kpis/orders/services/app", headers=admin)).status_code == 200
    # Linking twice is idempotent.
    assert (await client.put("/v1/kpis/orders/services/web", headers=admin)).status_code == 200
    assert await get_json(client, admin, "/v1/kpis/orders/services") == [
        {"kpi": "orders", "service": "app"},
        {"kpi": "orders", "service": "web"},
    ]

    assert (await client.delete("/v1/kpis/orders/services/app", headers=admin)).status_code == 204
    assert await get_json(client, admin, "/v1/kpis/orders/services") == [
        {"kpi": "orders", "service": "web"}
    ]
    resp = await client.delete("/v1/kpis/orders/services/app", headers=admin)
    assert problem(resp, 404)["detail"] == "KPI 'orders' does not apply to service 'app'"

    problem(await client.put("/v1/kpis/ghost/services/web", headers=admin), 404)
    problem(await client.put("/v1/kpis/orders/services/ghost", headers=admin), 404)
    problem(await client.delete("/v1/kpis/orders/services/ghost", headers=admin), 404)

    # Deleting the service drops its links.
    assert (await client.delete("/v1/services/web", headers=admin)).status_code == 204
    assert await get_json(client, admin, "/v1/kpis/orders/services") == []


# Bodies on the wire -----------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_non_json_content_type_is_415(
    client: httpx.AsyncClient, admin: Headers, content_type: str | None
) -> None:
    headers = dict(admin)
    if content_type is not None:
        headers["Content-Type"] = content_type
    resp = await client.post("/v1/teams", content=orjson.dumps(team_body()), headers=headers)
    body = problem(resp, 415)
    assert body["accepted"] == ["application/json"]
    problem(await client.get("/v1/teams/platform", headers=admin), 404)


async def test_json_with_a_charset_is_accepted(client: httpx.AsyncClient, admin: Headers) -> None:
    resp = await client.post(
        "/v1/teams",
        content=orjson.dumps(team_body()),
        headers={**admin, "Content-Type": "application/json; charset=utf-8"},
    )
    assert resp.status_code == 201
    assert resp.json()["slug"] == "platform"


async def test_put_with_a_wrong_content_type_is_415(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/teams", team_body())
    resp = await client.put(
        "/v1/teams/platform",
        content=orjson.dumps(team_body(name="Other")),
        headers={**admin, "Content-Type": "text/json"},
    )
    problem(resp, 415)
    assert (await get_json(client, admin, "/v1/teams/platform"))["name"] == "Team platform"


def padded(body: Json, size: int) -> bytes:
    """`body` as JSON followed by whitespace up to exactly `size` bytes."""
    raw = orjson.dumps(body)
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


async def test_body_over_the_default_limit_is_413(
    client: httpx.AsyncClient, admin: Headers, settings: Settings
) -> None:
    raw = padded(team_body(), settings.max_body_bytes + 1)
    resp = await client.post(
        "/v1/teams", content=raw, headers={**admin, "Content-Type": "application/json"}
    )
    body = problem(resp, 413)
    assert body["limit"] == settings.max_body_bytes
    problem(await client.get("/v1/teams/platform", headers=admin), 404)


async def test_body_limit_is_exact(small_client: httpx.AsyncClient, admin: Headers) -> None:
    headers = {**admin, "Content-Type": "application/json"}
    resp = await small_client.post(
        "/v1/teams", content=padded(team_body("a"), SMALL_LIMIT), headers=headers
    )
    assert resp.status_code == 201, resp.text
    resp = await small_client.post(
        "/v1/teams", content=padded(team_body("b"), SMALL_LIMIT + 1), headers=headers
    )
    assert problem(resp, 413)["limit"] == SMALL_LIMIT
    slugs = [t["slug"] for t in await get_json(small_client, admin, "/v1/teams")]
    assert slugs == ["a"]


async def test_streamed_body_without_length_over_the_limit_is_413(
    small_client: httpx.AsyncClient, admin: Headers
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield orjson.dumps(team_body())
        for _ in range(20):
            yield b" " * 100

    resp = await small_client.post(
        "/v1/teams", content=chunks(), headers={**admin, "Content-Type": "application/json"}
    )
    assert "content-length" not in resp.request.headers
    assert problem(resp, 413)["limit"] == SMALL_LIMIT
    problem(await small_client.get("/v1/teams/platform", headers=admin), 404)


async def test_oversized_put_is_413(small_client: httpx.AsyncClient, admin: Headers) -> None:
    await post(small_client, admin, "/v1/kpis", kpi_body("orders"))
    body = kpi_body("orders", business_impact="x" * 1500)
    resp = await small_client.put("/v1/kpis/orders", json=body, headers=admin)
    problem(resp, 413)
    assert (await get_json(small_client, admin, "/v1/kpis/orders"))["business_impact"] is None


@pytest.mark.parametrize(
    "raw", [b'{"slug": "platform", ', b"", b"not json", b"{'slug': 'platform'}", b"[1, 2]"]
)
async def test_malformed_or_non_object_json_is_422(
    client: httpx.AsyncClient, admin: Headers, raw: bytes
) -> None:
    resp = await client.post(
        "/v1/teams", content=raw, headers={**admin, "Content-Type": "application/json"}
    )
    body = problem(resp, 422)
    assert [(e["pointer"], e["field"]) for e in body["errors"]] == [("#", "")]


async def test_every_bad_field_is_listed(client: httpx.AsyncClient, admin: Headers) -> None:
    body = {"slug": "checkout", "name": "", "tier": 9, "outage_threshold": "sev0", "x": 1}
    resp = await client.post("/v1/services", json=body, headers=admin)
    problem(resp, 422, "name", "tier", "outage_threshold", "x")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/teams", team_body(name="Plat\u0000form"), "name"),
        ("/v1/outcomes", outcome_body(description="nul \u0000 byte"), "description"),
        ("/v1/kpis", kpi_body(tags=["ok", "b\u0000d"]), "tags.1"),
    ],
)
async def test_nul_character_in_text_is_422(
    client: httpx.AsyncClient, admin: Headers, path: str, body: Json, field: str
) -> None:
    # Postgres text cannot hold U+0000: the API must refuse it rather than fail on insert.
    problem(await client.post(path, json=body, headers=admin), 422, field)


async def test_method_not_allowed_is_405_with_allow(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    resp = await client.patch("/v1/teams/platform", json={"name": "x"}, headers=admin)
    problem(resp, 405)
    allowed = {m.strip() for m in resp.headers.get("allow", "").split(",")} - {"HEAD"}
    assert allowed == {"GET", "PUT", "DELETE"}


# Tokens and scopes ------------------------------------------------------------------------------

WRITES = [
    ("POST", "/v1/teams", team_body()),
    ("PUT", "/v1/teams/platform", team_body()),
    ("DELETE", "/v1/teams/platform", None),
    ("POST", "/v1/services", service_body()),
    ("PUT", "/v1/services/checkout", service_body()),
    ("DELETE", "/v1/services/checkout", None),
    ("POST", "/v1/outcomes", outcome_body()),
    ("PUT", "/v1/outcomes/grow-revenue", outcome_body()),
    ("DELETE", "/v1/outcomes/grow-revenue", None),
    ("POST", "/v1/kpis", kpi_body()),
    ("PUT", "/v1/kpis/orders", kpi_body()),
    ("DELETE", "/v1/kpis/orders", None),
    ("POST", "/v1/targets", target_body()),
    ("PUT", "/v1/targets/1", target_body()),
    ("DELETE", "/v1/targets/1", None),
    ("PUT", "/v1/kpis/orders/outcomes/grow-revenue", {}),
    ("DELETE", "/v1/kpis/orders/outcomes/grow-revenue", None),
    ("PUT", "/v1/kpis/orders/services/checkout", None),
    ("DELETE", "/v1/kpis/orders/services/checkout", None),
]


async def send(
    client: httpx.AsyncClient, method: str, path: str, body: Any, headers: Headers
) -> httpx.Response:
    content = None if body is None else orjson.dumps(body)
    if content is not None:
        headers = {**headers, "Content-Type": "application/json"}
    return await client.request(method, path, content=content, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
async def test_reader_cannot_write(
    client: httpx.AsyncClient, reader: Headers, method: str, path: str, body: Any
) -> None:
    resp = await send(client, method, path, body, reader)
    problem_body = problem(resp, 403)
    assert problem_body["required_scope"] == "admin"
    assert problem_body["detail"] == "this token lacks the 'admin' scope"


async def test_ingester_cannot_write_the_catalog(
    client: httpx.AsyncClient, ingester: Headers
) -> None:
    resp = await client.post("/v1/teams", json=team_body(), headers=ingester)
    assert problem(resp, 403)["required_scope"] == "admin"


async def test_reader_can_read_and_is_refused_before_the_body_is_checked(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    created = await post(client, admin, "/v1/teams", team_body())
    assert await get_json(client, reader, "/v1/teams") == [created]
    assert await get_json(client, reader, "/v1/teams/platform") == created

    resp = await client.post(
        "/v1/teams", content=b"not json", headers={**reader, "Content-Type": "text/plain"}
    )
    problem(resp, 403)
    resp = await client.delete("/v1/teams/platform", headers=reader)
    problem(resp, 403)
    assert await get_json(client, admin, "/v1/teams/platform") == created


@pytest.mark.parametrize(("method", "path", "body"), [("GET", "/v1/teams", None), *WRITES])
async def test_no_token_is_401(
    client: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    resp = await send(client, method, path, body, {})
    problem(resp, 401)
    assert resp.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization", ["Bearer kpi_not-a-real-token", "Bearer " + "x" * 43, "bearer kpi_nope"]
)
async def test_unknown_token_is_401(client: httpx.AsyncClient, authorization: str) -> None:
    for method, path, body in [("GET", "/v1/kpis", None), ("POST", "/v1/kpis", kpi_body())]:
        resp = await send(client, method, path, body, {"Authorization": authorization})
        assert problem(resp, 401)["detail"] == "the token is unknown or revoked"
        assert resp.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "kpi_x"])
async def test_malformed_authorization_is_401(
    client: httpx.AsyncClient, authorization: str
) -> None:
    resp = await client.get("/v1/teams", headers={"Authorization": authorization})
    problem(resp, 401)
    assert resp.headers["www-authenticate"] == "Bearer"


async def test_revoked_token_is_401(client: httpx.AsyncClient, con: dbmod.Connection) -> None:
    token = await tokens.create_token(con, name="temp", scopes=[Scope.ADMIN])
    headers = {"Authorization": f"Bearer {token.token}"}
    assert (await client.get("/v1/teams", headers=headers)).status_code == 200
    await tokens.revoke_token(con, token_id=token.id)
    resp = await client.get("/v1/teams", headers=headers)
    assert problem(resp, 401)["detail"] == "the token is unknown or revoked"
