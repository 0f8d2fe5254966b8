"""The catalog's repositories (teams, services, outcomes, kpis, targets, links, locks): what
each statement returns, and the constraint violations they translate, on a real database."""

from __future__ import annotations

import datetime as dt

import pytest

from service.db import Connection
from service.errors import Conflict, ValidationFailed
from service.models.catalog import (
    KpiIn,
    OutcomeIn,
    OutcomeLink,
    OutcomeLinkIn,
    ServiceIn,
    ServiceLink,
    TargetIn,
    TeamIn,
)
from service.models.enums import Aggregation, Direction, KpiKind
from service.store import kpis, links, locks, outcomes, services, targets, teams
from service.store.kpis import KpiRef

UTC = dt.UTC


def _kpi(key: str, **extra: object) -> KpiIn:
    fields: dict[str, object] = {
        "key": key, "name": key.title(), "unit": "n",
        "direction": Direction.HIGHER_IS_BETTER, "aggregation": Aggregation.SUM,
    }  # fmt: skip
    return KpiIn.model_validate({**fields, **extra})


async def _service(con: Connection, slug: str, team_id: int | None = None) -> int:
    return await services.insert_service(
        con, service=ServiceIn(slug=slug, name=slug.upper(), tier=2), team_id=team_id
    )


async def test_a_team_is_inserted_updated_and_deleted_by_slug(con: Connection) -> None:
    team_id = await teams.insert_team(con, team=TeamIn(slug="pay", name="Payments"))
    assert await teams.team_id_by_slug(con, "pay") == team_id
    assert await teams.update_team(con, team=TeamIn(slug="pay", name="Pay")) == team_id
    assert [t.name for t in await teams.teams_by_id(con, [team_id])] == ["Pay"]
    assert await teams.delete_team(con, slug="pay") == team_id
    assert await teams.team_id_by_slug(con, "pay") is None
    assert await teams.update_team(con, team=TeamIn(slug="pay", name="Pay")) is None
    assert await teams.delete_team(con, slug="pay") is None


async def test_a_taken_slug_is_a_conflict_naming_the_field(con: Connection) -> None:
    await teams.insert_team(con, team=TeamIn(slug="pay", name="Payments"))
    with pytest.raises(Conflict) as caught:
        async with con.transaction():
            await teams.insert_team(con, team=TeamIn(slug="pay", name="Again"))
    assert [e.field for e in caught.value.errors] == ["slug"]


async def test_a_team_owning_services_is_still_referenced(con: Connection) -> None:
    team_id = await teams.insert_team(con, team=TeamIn(slug="pay", name="Payments"))
    service_id = await _service(con, "shop", team_id)
    assert await services.services_by_team(con, [team_id, 0]) == {team_id: [service_id], 0: []}
    with pytest.raises(Conflict, match="still referenced"):
        async with con.transaction():
            await teams.delete_team(con, slug="pay")


async def test_service_ids_keep_order_and_name_the_unknown_one(con: Connection) -> None:
    shop, erp = await _service(con, "shop"), await _service(con, "erp")
    assert await services.service_ids_by_slug(con, ["erp", "nope", "shop"]) == {
        "erp": erp, "shop": shop,
    }  # fmt: skip
    assert await services.service_ids(con, ["shop", "erp"], field="x") == [shop, erp]
    with pytest.raises(ValidationFailed) as caught:
        await services.service_ids(con, ["shop", "nope"], field="depends_on")
    assert [e.field for e in caught.value.errors] == ["depends_on.1"]


async def test_dependencies_are_edges_both_ways(con: Connection) -> None:
    shop, erp, db = [await _service(con, s) for s in ("shop2", "erp2", "db2")]
    await services.insert_dependencies(con, shop, [erp])
    await services.insert_dependencies(con, erp, [db])
    assert await services.dependency_reaches(con, [shop], db)
    assert not await services.dependency_reaches(con, [db], shop)
    assert await services.dependencies_by_service(con, [shop, db]) == {shop: [erp], db: []}
    assert await services.dependents_by_service(con, [db]) == {db: [erp]}
    [found] = await services.services_by_id(con, [shop])
    assert found.depends_on == ["erp2"]
    await services.delete_dependencies(con, shop)
    assert await services.dependencies_by_service(con, [shop]) == {shop: []}


async def test_a_service_is_locked_and_deleted_by_slug(con: Connection) -> None:
    service_id = await _service(con, "shop")
    assert await services.lock_service_for_delete(con, slug="shop") == service_id
    assert not await services.has_observations_for_service(con, service_id)
    await services.delete_service(con, slug="shop")
    assert await services.lock_service_for_delete(con, slug="shop") is None


async def test_outcomes_page_in_creation_order(con: Connection) -> None:
    ids = [
        await outcomes.insert_outcome(con, outcome=OutcomeIn(slug=s, name=s.title()))
        for s in ("trust", "revenue", "growth")
    ]
    page = await outcomes.page_outcomes(con, after_id=ids[0], limit=1)
    assert [o.slug for o in page] == ["revenue"]
    assert await outcomes.update_outcome(con, outcome=OutcomeIn(slug="trust", name="T")) == ids[0]
    assert await outcomes.delete_outcome(con, slug="growth") == ids[2]
    assert await outcomes.delete_outcome(con, slug="growth") is None


async def test_kpi_references_and_ratio_edges(con: Connection) -> None:
    no_ratio = (None, None)
    cost = await kpis.insert_kpi(con, kpi=_kpi("cost"), ratio_ids=no_ratio, availability_id=None)
    users = await kpis.insert_kpi(
        con, kpi=_kpi("users", direction=Direction.LOWER_IS_BETTER), ratio_ids=no_ratio,
        availability_id=None,
    )  # fmt: skip
    unit = await kpis.insert_kpi(
        con, kpi=_kpi("unit_cost", kind=KpiKind.RATIO, aggregation=None, numerator="cost",
                      denominator="users"),
        ratio_ids=(cost, users), availability_id=None,
    )  # fmt: skip
    assert await kpis.kpi_ids_by_key(con, ["users", "nope"]) == {
        "users": KpiRef(id=users, direction=Direction.LOWER_IS_BETTER)
    }
    assert await kpis.ratio_reaches(con, [unit], users)
    assert not await kpis.ratio_reaches(con, [users], unit)
    assert await kpis.kpi_used_by_ratio(con, cost) == "unit_cost"
    assert await kpis.kpi_used_by_ratio(con, unit) is None
    assert await kpis.kpi_used_for_error_budget(con, cost) == []
    assert await kpis.builtin_metric_of_kpi(con, cost) is None
    assert not await kpis.has_observations_for_kpi(con, cost)


async def test_an_escalation_path_is_stored_in_order(con: Connection) -> None:
    kpi = _kpi("orders", escalation_path=[
        {"who": "ops", "channel": "email", "address": "ops@example.com"},
        {"who": "cto", "channel": "email", "address": "cto@example.com",
         "after_breached_periods": 3},
    ])  # fmt: skip
    kpi_id = await kpis.insert_kpi(con, kpi=kpi, ratio_ids=(None, None), availability_id=None)
    await kpis.insert_escalation_path(con, kpi_id, kpi)
    stored = await kpis.get_kpi(con, key="orders")
    assert [(s.who, s.after_breached_periods) for s in stored.escalation_path] == [
        ("ops", 1), ("cto", 3),
    ]  # fmt: skip
    await kpis.delete_escalation_path(con, kpi_id)
    assert (await kpis.get_kpi(con, key="orders")).escalation_path == []
    assert await kpis.lock_kpi_for_delete(con, key="orders") == kpi_id
    await kpis.delete_kpi(con, key="orders")
    assert await kpis.lock_kpi_for_delete(con, key="orders") is None


async def test_targets_are_grouped_by_kpi(con: Connection) -> None:
    kpi_id = await kpis.insert_kpi(
        con, kpi=_kpi("orders"), ratio_ids=(None, None), availability_id=None
    )
    start = dt.date(2026, 1, 1)
    target = TargetIn(kpi="orders", value=10, effective_from=start)
    target_id = await targets.insert_target(con, target=target, kpi_id=kpi_id, service_id=None)
    with pytest.raises(Conflict):
        async with con.transaction():
            await targets.insert_target(con, target=target, kpi_id=kpi_id, service_id=None)
    [grouped] = (await targets.targets_by_kpi(con, [kpi_id]))[kpi_id]
    assert (grouped.id, grouped.kpi, grouped.value) == (target_id, "orders", 10)
    changed = target.model_copy(update={"value": 12})
    assert await targets.update_target(
        con, target_id=target_id, target=changed, kpi_id=kpi_id, service_id=None
    )
    assert (await targets.get_target(con, target_id=target_id)).value == 12
    assert await targets.delete_target(con, target_id=target_id)
    assert not await targets.delete_target(con, target_id=target_id)


async def test_links_make_the_graphs_edges(con: Connection) -> None:
    kpi_id = await kpis.insert_kpi(
        con, kpi=_kpi("orders"), ratio_ids=(None, None), availability_id=None
    )
    outcome_id = await outcomes.insert_outcome(con, outcome=OutcomeIn(slug="rev", name="Rev"))
    service_id = await _service(con, "shop")
    link = OutcomeLinkIn(weight=0.5, rationale="sales")
    await links.upsert_kpi_outcome(con, kpi_id=kpi_id, outcome_id=outcome_id, link=link)
    await links.insert_kpi_service(con, kpi_id=kpi_id, service_id=service_id)
    assert await links.list_kpi_outcomes(con, kpi="orders") == [
        OutcomeLink(kpi="orders", outcome="rev", weight=0.5, rationale="sales")
    ]
    assert await links.list_kpi_services(con) == [ServiceLink(kpi="orders", service="shop")]
    assert await links.outcome_links_by_kpi(con, [kpi_id]) == {
        kpi_id: [{"id": outcome_id, "weight": 0.5, "rationale": "sales"}]
    }
    assert (await links.kpi_links_by_outcome(con, [outcome_id]))[outcome_id][0]["id"] == kpi_id
    assert await links.services_by_kpi(con, [kpi_id]) == {kpi_id: [service_id]}
    assert await links.kpis_by_service(con, [service_id]) == {service_id: [kpi_id]}
    assert await links.outcomes_by_service(con, [service_id]) == {service_id: [outcome_id]}
    assert await links.services_by_outcome(con, [outcome_id]) == {outcome_id: [service_id]}
    assert await links.delete_kpi_service(con, kpi_id=kpi_id, service_id=service_id)
    assert not await links.delete_kpi_service(con, kpi_id=kpi_id, service_id=service_id)
    assert await links.delete_kpi_outcome(con, kpi_id=kpi_id, outcome_id=outcome_id)
    assert not await links.delete_kpi_outcome(con, kpi_id=kpi_id, outcome_id=outcome_id)


async def test_a_name_lock_is_held_until_commit(con: Connection) -> None:
    async with con.transaction():
        await locks.lock_name(con, "service_dependency")
        held = await con.fetchval(
            "select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()"
        )
    assert held >= 1
