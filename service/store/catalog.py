"""Typed wrappers over sql/queries/catalog.sql: the catalog's reads, writes and reference checks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg

from service.db import Connection, fetch_grouped, sql
from service.errors import Conflict, NotFound, field_error, invalid
from service.models.catalog import (
    Kpi,
    KpiIn,
    Outcome,
    OutcomeIn,
    OutcomeLink,
    OutcomeLinkIn,
    Service,
    ServiceIn,
    ServiceLink,
    Target,
    TargetIn,
    Team,
    TeamIn,
)
from service.models.enums import BuiltinMetric, Direction
from service.models.stored import read


def q(name: str) -> str:
    return sql("catalog", name)


@contextlib.asynccontextmanager
async def _unique(field: str, value: str) -> AsyncIterator[None]:
    """Turn a unique violation into a 409 naming the field."""
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(
            f"{field} {value!r} already exists", errors=[field_error(field, "already exists")]
        ) from exc


@contextlib.asynccontextmanager
async def _still_referenced(what: str) -> AsyncIterator[None]:
    try:
        yield
    except (asyncpg.ForeignKeyViolationError, asyncpg.RestrictViolationError) as exc:
        raise Conflict(f"{what} is still referenced: {exc.detail or exc}") from exc


def _check_path_key(field: str, path_value: str, body_value: str) -> None:
    if path_value != body_value:
        raise invalid(field, f"must match the path ({path_value!r}); renaming is not supported")


# Teams ------------------------------------------------------------------------------------------


async def list_teams(con: Connection, *, slugs: Sequence[str] | None = None) -> list[Team]:
    return [read(Team, r) for r in await con.fetch(q("list_teams"), slugs)]


async def page_teams(con: Connection, *, after_id: int, limit: int) -> list[Team]:
    """Teams in creation order after `after_id`, for cursor pagination."""
    return [read(Team, r) for r in await con.fetch(q("page_teams"), after_id, limit)]


async def get_team(con: Connection, *, slug: str) -> Team:
    found = await list_teams(con, slugs=[slug])
    if not found:
        raise NotFound(f"no team {slug!r}")
    return found[0]


async def teams_by_id(con: Connection, ids: Sequence[int]) -> list[Team]:
    return [read(Team, r) for r in await con.fetch(q("teams_by_id"), list(ids))]


async def create_team(con: Connection, *, team: TeamIn) -> Team:
    async with _unique("slug", team.slug):
        team_id = await con.fetchval(q("insert_team"), team.slug, team.name, team.email)
    return Team(id=team_id, **team.model_dump())


async def update_team(con: Connection, *, slug: str, team: TeamIn) -> Team:
    _check_path_key("slug", slug, team.slug)
    team_id = await con.fetchval(q("update_team"), slug, team.name, team.email)
    if team_id is None:
        raise NotFound(f"no team {slug!r}")
    return Team(id=team_id, **team.model_dump())


async def delete_team(con: Connection, *, slug: str) -> None:
    async with _still_referenced(f"team {slug!r}"):
        if await con.fetchval(q("delete_team"), slug) is None:
            raise NotFound(f"no team {slug!r}")


# Services ---------------------------------------------------------------------------------------


def _service(record: asyncpg.Record) -> Service:
    return read(Service, record)


async def list_services(
    con: Connection,
    *,
    slugs: Sequence[str] | None = None,
    tier: int | None = None,
    team: str | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[Service]:
    rows = await con.fetch(q("list_services"), slugs, tier, team, after_id, limit)
    return [_service(r) for r in rows]


async def get_service(con: Connection, *, slug: str) -> Service:
    found = await list_services(con, slugs=[slug])
    if not found:
        raise NotFound(f"no service {slug!r}")
    return found[0]


async def services_by_id(con: Connection, ids: Sequence[int]) -> list[Service]:
    rows = await con.fetch(q("services_by_id"), list(ids))
    return [_service(r) for r in rows]


async def service_ids(con: Connection, slugs: Sequence[str], *, field: str) -> list[int]:
    """Ids of the given service slugs, in order; a 422 naming `field.i` for an unknown one."""
    rows = await con.fetch(q("service_ids_by_slug"), list(slugs))
    by_slug = {r["slug"]: r["id"] for r in rows}
    for i, slug in enumerate(slugs):
        if slug not in by_slug:
            name = f"{field}.{i}" if len(slugs) > 1 or field.endswith("depends_on") else field
            raise invalid(name, f"unknown service {slug!r}")
    return [by_slug[s] for s in slugs]


async def _team_id(con: Connection, slug: str | None) -> int | None:
    if slug is None:
        return None
    team_id: int | None = await con.fetchval(q("team_id_by_slug"), slug)
    if team_id is None:
        raise invalid("team", f"unknown team {slug!r}")
    return team_id


async def _set_dependencies(con: Connection, service_id: int, service: ServiceIn) -> None:
    for i, slug in enumerate(service.depends_on):
        if slug == service.slug:
            raise invalid(f"depends_on.{i}", "a service cannot depend on itself")
        if service.depends_on.index(slug) != i:
            raise invalid(f"depends_on.{i}", f"{slug!r} is listed twice")
    # Two updates each closing half of a cycle would both pass the check unless serialised.
    await lock_name(con, "service_dependency")
    dep_ids = await service_ids(con, service.depends_on, field="depends_on")
    await con.execute(q("delete_dependencies"), service_id)
    if not dep_ids:
        return
    for i, dep_id in enumerate(dep_ids):
        if await con.fetchval(q("dependency_reaches"), [dep_id], service_id):
            raise invalid(
                f"depends_on.{i}",
                f"{service.depends_on[i]!r} already depends on {service.slug!r}: that is a cycle",
            )
    await con.execute(q("insert_dependencies"), service_id, dep_ids)


def _service_args(service: ServiceIn, team_id: int | None) -> tuple[Any, ...]:
    return (
        service.slug,
        service.name,
        service.tier,
        team_id,
        service.business_owner,
        service.technology_owner,
        service.revenue_per_hour,
        service.users,
        service.outage_threshold.value,
    )


async def create_service(con: Connection, *, service: ServiceIn) -> Service:
    team_id = await _team_id(con, service.team)
    async with con.transaction():
        async with _unique("slug", service.slug):
            service_id = await con.fetchval(q("insert_service"), *_service_args(service, team_id))
        await _set_dependencies(con, service_id, service)
    return await get_service(con, slug=service.slug)


async def update_service(con: Connection, *, slug: str, service: ServiceIn) -> Service:
    _check_path_key("slug", slug, service.slug)
    team_id = await _team_id(con, service.team)
    async with con.transaction():
        service_id = await con.fetchval(q("update_service"), *_service_args(service, team_id))
        if service_id is None:
            raise NotFound(f"no service {slug!r}")
        await _set_dependencies(con, service_id, service)
    return await get_service(con, slug=slug)


async def lock_name(con: Connection, name: str) -> None:
    """Serialise, until commit, the writers that check and then write the same thing."""
    await con.execute(q("lock_name"), name)


async def delete_service(con: Connection, *, slug: str) -> None:
    # Locked first: an ingest naming the service either finished or waits and then fails.
    if await con.fetchval(q("lock_service_for_delete"), slug) is None:
        raise NotFound(f"no service {slug!r}")
    service = await get_service(con, slug=slug)
    if await con.fetchval(q("has_observations_for_service"), service.id):
        raise Conflict(f"service {slug!r} has observations; it cannot be deleted")
    async with _still_referenced(f"service {slug!r}"):
        await con.fetchval(q("delete_service"), slug)


# Outcomes ---------------------------------------------------------------------------------------


async def list_outcomes(con: Connection, *, slugs: Sequence[str] | None = None) -> list[Outcome]:
    return [read(Outcome, r) for r in await con.fetch(q("list_outcomes"), slugs)]


async def page_outcomes(con: Connection, *, after_id: int, limit: int) -> list[Outcome]:
    """Outcomes in creation order after `after_id`, for cursor pagination."""
    return [read(Outcome, r) for r in await con.fetch(q("page_outcomes"), after_id, limit)]


async def get_outcome(con: Connection, *, slug: str) -> Outcome:
    found = await list_outcomes(con, slugs=[slug])
    if not found:
        raise NotFound(f"no outcome {slug!r}")
    return found[0]


async def outcomes_by_id(con: Connection, ids: Sequence[int]) -> list[Outcome]:
    return [read(Outcome, r) for r in await con.fetch(q("outcomes_by_id"), list(ids))]


async def create_outcome(con: Connection, *, outcome: OutcomeIn) -> Outcome:
    async with _unique("slug", outcome.slug):
        outcome_id = await con.fetchval(
            q("insert_outcome"), outcome.slug, outcome.name, outcome.description, outcome.owner
        )
    return Outcome(id=outcome_id, **outcome.model_dump())


async def update_outcome(con: Connection, *, slug: str, outcome: OutcomeIn) -> Outcome:
    _check_path_key("slug", slug, outcome.slug)
    outcome_id = await con.fetchval(
        q("update_outcome"), slug, outcome.name, outcome.description, outcome.owner
    )
    if outcome_id is None:
        raise NotFound(f"no outcome {slug!r}")
    return Outcome(id=outcome_id, **outcome.model_dump())


async def delete_outcome(con: Connection, *, slug: str) -> None:
    if await con.fetchval(q("delete_outcome"), slug) is None:
        raise NotFound(f"no outcome {slug!r}")


# KPIs -------------------------------------------------------------------------------------------


def _kpi(record: asyncpg.Record) -> Kpi:
    return read(Kpi, record)


async def list_kpis(
    con: Connection,
    *,
    keys: Sequence[str] | None = None,
    ids: Sequence[int] | None = None,
    after_id: int | None = None,
    board_level: bool | None = None,
    limit: int | None = None,
) -> list[Kpi]:
    rows = await con.fetch(
        q("list_kpis"), keys, None if ids is None else list(ids), after_id, board_level, limit
    )
    return [_kpi(r) for r in rows]


async def get_kpi(con: Connection, *, key: str) -> Kpi:
    found = await list_kpis(con, keys=[key])
    if not found:
        raise NotFound(f"no KPI {key!r}")
    return found[0]


async def kpi_refs(con: Connection, keys: Sequence[str]) -> dict[str, asyncpg.Record]:
    rows = await con.fetch(q("kpi_ids_by_key"), list(keys))
    return {r["key"]: r for r in rows}


async def _ratio_ids(con: Connection, kpi: KpiIn, own_id: int | None) -> tuple[int | None, ...]:
    if kpi.numerator is None or kpi.denominator is None:
        return (None, None)
    await lock_name(con, "kpi_ratio")
    refs = await kpi_refs(con, [kpi.numerator, kpi.denominator])
    ids = []
    for side in ("numerator", "denominator"):
        key = getattr(kpi, side)
        if key not in refs:
            raise invalid(side, f"unknown KPI {key!r}")
        ref_id = refs[key]["id"]
        if own_id is not None and await con.fetchval(q("ratio_reaches"), [ref_id], own_id):
            raise invalid(side, f"{key!r} is built from {kpi.key!r}: that is a cycle")
        ids.append(ref_id)
    return tuple(ids)


async def _availability_kpi_id(con: Connection, kpi: KpiIn) -> int | None:
    """The id of the availability KPI an error budget KPI names (checked to be one)."""
    if kpi.availability_kpi is None:
        return None
    refs = await kpi_refs(con, [kpi.availability_kpi])
    found = refs.get(kpi.availability_kpi)
    metric = None
    if found is not None:
        metric = await con.fetchval(q("builtin_metric_of_kpi"), found["id"])
    if metric != BuiltinMetric.AVAILABILITY.value:
        raise invalid(
            "availability_kpi", f"{kpi.availability_kpi!r} is not a builtin availability KPI"
        )
    assert found is not None
    kpi_id: int = found["id"]
    return kpi_id


def _kpi_args(
    kpi: KpiIn, ratio_ids: tuple[int | None, ...], availability_id: int | None
) -> tuple[Any, ...]:
    return (
        kpi.key,
        kpi.name,
        kpi.strategic_question,
        kpi.business_impact,
        kpi.unit,
        kpi.direction.value,
        kpi.aggregation.value if kpi.aggregation else None,
        kpi.kind.value,
        kpi.metric.value if kpi.metric else None,
        *ratio_ids,
        kpi.cadence.value if kpi.cadence else None,
        kpi.business_owner,
        kpi.technology_owner,
        kpi.board_level,
        kpi.tags,
        kpi.filter.model_dump(mode="json", exclude_none=True) if kpi.filter else None,
        availability_id,
    )


async def _set_escalation_path(con: Connection, kpi_id: int, kpi: KpiIn) -> None:
    await con.execute(q("delete_escalation_path"), kpi_id)
    steps = [
        {"position": i + 1, **step.model_dump(mode="json")}
        for i, step in enumerate(kpi.escalation_path)
    ]
    if steps:
        await con.execute(q("insert_escalation_path"), kpi_id, steps)


async def create_kpi(con: Connection, *, kpi: KpiIn) -> Kpi:
    ratio_ids = await _ratio_ids(con, kpi, None)
    availability_id = await _availability_kpi_id(con, kpi)
    async with con.transaction():
        async with _unique("key", kpi.key):
            kpi_id = await con.fetchval(
                q("insert_kpi"), *_kpi_args(kpi, ratio_ids, availability_id)
            )
        await _set_escalation_path(con, kpi_id, kpi)
    return Kpi(id=kpi_id, **kpi.model_dump())


async def update_kpi(con: Connection, *, key: str, kpi: KpiIn) -> Kpi:
    _check_path_key("key", key, kpi.key)
    current = await get_kpi(con, key=key)
    ratio_ids = await _ratio_ids(con, kpi, current.id)
    availability_id = await _availability_kpi_id(con, kpi)
    if kpi.metric is not BuiltinMetric.AVAILABILITY:
        users = await con.fetch(q("kpi_used_for_error_budget"), current.id)
        if users:
            budget = users[0]["key"]
            raise invalid(
                "metric", f"error budget KPI {budget!r} takes its objectives from {key!r}, "
                "which must stay an availability KPI",
            )  # fmt: skip
    async with con.transaction():
        await con.fetchval(q("update_kpi"), *_kpi_args(kpi, ratio_ids, availability_id))
        await _set_escalation_path(con, current.id, kpi)
    return Kpi(id=current.id, **kpi.model_dump())


async def delete_kpi(con: Connection, *, key: str) -> None:
    if await con.fetchval(q("lock_kpi_for_delete"), key) is None:
        raise NotFound(f"no KPI {key!r}")
    kpi = await get_kpi(con, key=key)
    user = await con.fetchval(q("kpi_used_by_ratio"), kpi.id)
    if user is not None:
        raise Conflict(f"KPI {key!r} is used by ratio KPI {user!r}")
    budgets = await con.fetch(q("kpi_used_for_error_budget"), kpi.id)
    if budgets:
        raise Conflict(f"KPI {key!r} sets the objectives of error budget KPI "
                       f"{budgets[0]['key']!r}")  # fmt: skip
    if await con.fetchval(q("has_observations_for_kpi"), kpi.id):
        raise Conflict(f"KPI {key!r} has observations; it cannot be deleted")
    await con.execute(q("delete_kpi"), key)


# Targets ----------------------------------------------------------------------------------------


def _target(record: asyncpg.Record) -> Target:
    data = dict(record.items())
    data.pop("kpi_id", None)
    data.pop("key", None)
    return read(Target, data)


async def list_targets(
    con: Connection, *, kpi: str | None = None, target_id: int | None = None
) -> list[Target]:
    return [_target(r) for r in await con.fetch(q("list_targets"), kpi, target_id)]


async def get_target(con: Connection, *, target_id: int) -> Target:
    found = await list_targets(con, target_id=target_id)
    if not found:
        raise NotFound(f"no target {target_id}")
    return found[0]


async def _target_args(con: Connection, target: TargetIn) -> tuple[Any, ...]:
    refs = await kpi_refs(con, [target.kpi])
    if target.kpi not in refs:
        raise invalid("kpi", f"unknown KPI {target.kpi!r}")
    ref = refs[target.kpi]
    if target.warning is not None:
        higher = ref["direction"] == Direction.HIGHER_IS_BETTER
        if (higher and target.warning < target.value) or (
            not higher and target.warning > target.value
        ):
            side = "at or above" if higher else "at or below"
            raise invalid("warning", f"must be {side} the target value for this KPI's direction")
    service_id = None
    if target.service is not None:
        (service_id,) = await service_ids(con, [target.service], field="service")
    return (
        ref["id"],
        service_id,
        target.tier,
        target.value,
        target.warning,
        target.effective_from,
        target.effective_to,
    )


async def create_target(con: Connection, *, target: TargetIn) -> Target:
    args = await _target_args(con, target)
    async with _unique("effective_from", str(target.effective_from)):
        target_id = await con.fetchval(q("insert_target"), *args)
    return Target(id=target_id, **target.model_dump())


async def update_target(con: Connection, *, target_id: int, target: TargetIn) -> Target:
    args = await _target_args(con, target)
    async with _unique("effective_from", str(target.effective_from)):
        found = await con.fetchval(q("update_target"), target_id, *args)
    if found is None:
        raise NotFound(f"no target {target_id}")
    return Target(id=target_id, **target.model_dump())


async def delete_target(con: Connection, *, target_id: int) -> None:
    if await con.fetchval(q("delete_target"), target_id) is None:
        raise NotFound(f"no target {target_id}")


# Links ------------------------------------------------------------------------------------------


async def _kpi_id(con: Connection, key: str) -> int:
    refs = await kpi_refs(con, [key])
    if key not in refs:
        raise NotFound(f"no KPI {key!r}")
    kpi_id: int = refs[key]["id"]
    return kpi_id


async def _outcome_id(con: Connection, slug: str) -> int:
    return (await get_outcome(con, slug=slug)).id


async def link_outcome(
    con: Connection, *, kpi: str, outcome: str, link: OutcomeLinkIn
) -> OutcomeLink:
    kpi_id = await _kpi_id(con, kpi)
    outcome_id = await _outcome_id(con, outcome)
    await con.execute(q("upsert_kpi_outcome"), kpi_id, outcome_id, link.weight, link.rationale)
    return OutcomeLink(kpi=kpi, outcome=outcome, **link.model_dump())


async def unlink_outcome(con: Connection, *, kpi: str, outcome: str) -> None:
    kpi_id = await _kpi_id(con, kpi)
    outcome_id = await _outcome_id(con, outcome)
    if await con.fetchval(q("delete_kpi_outcome"), kpi_id, outcome_id) is None:
        raise NotFound(f"KPI {kpi!r} is not linked to outcome {outcome!r}")


async def list_outcome_links(
    con: Connection, *, kpi: str | None = None, outcome: str | None = None
) -> list[OutcomeLink]:
    return [OutcomeLink(**r) for r in await con.fetch(q("list_kpi_outcomes"), kpi, outcome)]


async def link_service(con: Connection, *, kpi: str, service: str) -> ServiceLink:
    kpi_id = await _kpi_id(con, kpi)
    service_id = (await get_service(con, slug=service)).id
    await con.execute(q("insert_kpi_service"), kpi_id, service_id)
    return ServiceLink(kpi=kpi, service=service)


async def unlink_service(con: Connection, *, kpi: str, service: str) -> None:
    kpi_id = await _kpi_id(con, kpi)
    service_id = (await get_service(con, slug=service)).id
    if await con.fetchval(q("delete_kpi_service"), kpi_id, service_id) is None:
        raise NotFound(f"KPI {kpi!r} does not apply to service {service!r}")


async def list_service_links(con: Connection, *, kpi: str | None = None) -> list[ServiceLink]:
    return [ServiceLink(**r) for r in await con.fetch(q("list_kpi_services"), kpi)]


# Edges for the graph's loaders: {key id: [related ids]} -------------------------------------------


async def edges(con: Connection, query: str, keys: Sequence[int]) -> dict[int, list[int]]:
    """{key id: [related ids]} from a query returning (key, id) pairs."""
    return await fetch_grouped(con, q(query), keys, lambda row: row["id"])


async def grouped(con: Connection, query: str, keys: Sequence[int]) -> dict[int, list[Any]]:
    """Rows of `query` grouped by their `key` column, as dicts without it."""
    return await fetch_grouped(con, q(query), keys, dict)


async def targets_by_kpi(con: Connection, kpi_ids: Sequence[int]) -> dict[int, list[Target]]:
    return await fetch_grouped(con, q("targets_by_kpi"), kpi_ids, _target)
