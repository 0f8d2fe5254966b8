"""The catalog's operations: teams, business services, outcomes and KPI definitions (each a
`Collection` keyed by its slug or key), targets, and the links of KPIs to outcomes and to
services. REST, GraphQL and `kpi apply` all write the catalog through these.

The checks a write makes (a key the path names, dependencies and ratio KPIs without cycles,
a target's warning on the right side of its value, what may not be deleted while in use) live
here; the store runs the statements. A write runs in the caller's transaction and records
itself in the audit trail (usecases/audit.py) within it. `upsert` creates or replaces by key
under a lock on the name, so two writers of the same new name do not both try to create it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from service.clock import rfc3339, utc_now
from service.db import Connection
from service.errors import Conflict, NotFound, invalid
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
from service.store import calendars as calendar_store
from service.store import kpis as kpi_store
from service.store import links, locks, outcomes, ownership, services, targets, teams
from service.usecases import audit, slis

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)


def check_path_key(field: str, path_value: str, body_value: str) -> None:
    if path_value != body_value:
        raise invalid(field, f"must match the path ({path_value!r}); renaming is not supported")


# Teams and outcomes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreWrites(Generic[Out]):
    """The writes of a collection whose store statements are all there is to them (teams,
    outcomes): an item written is its body under the id the statement returns, and an update
    or delete finding no item of the slug is NotFound (404). The body comes as the keyword
    `noun`, as `Collection` passes it."""

    noun: str
    model_out: type[Out]
    inserted: Callable[..., Awaitable[int]]
    updated: Callable[..., Awaitable[int | None]]
    deleted: Callable[..., Awaitable[int | None]]

    def _found(self, slug: str, item_id: int | None) -> int:
        if item_id is None:
            raise NotFound(f"no {self.noun} {slug!r}")
        return item_id

    async def create(self, con: Connection, **body: Any) -> Out:
        item_id = await self.inserted(con, **body)
        return self.model_out(id=item_id, **body[self.noun].model_dump())

    async def update(self, con: Connection, *, slug: str, **body: Any) -> Out:
        check_path_key("slug", slug, body[self.noun].slug)
        item_id = self._found(slug, await self.updated(con, **body))
        return self.model_out(id=item_id, **body[self.noun].model_dump())

    async def delete(self, con: Connection, *, slug: str) -> None:
        self._found(slug, await self.deleted(con, slug=slug))


# Services ---------------------------------------------------------------------------------------


async def _team_id(con: Connection, slug: str | None) -> int | None:
    if slug is None:
        return None
    team_id = await teams.team_id_by_slug(con, slug)
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
    await locks.lock_name(con, "service_dependency")
    dep_ids = await services.service_ids(con, service.depends_on, field="depends_on")
    await services.delete_dependencies(con, service_id)
    if not dep_ids:
        return
    for i, dep_id in enumerate(dep_ids):
        if await services.dependency_reaches(con, [dep_id], service_id):
            raise invalid(
                f"depends_on.{i}",
                f"{service.depends_on[i]!r} already depends on {service.slug!r}: that is a cycle",
            )
    await services.insert_dependencies(con, service_id, dep_ids)


async def _record_owner(
    con: Connection, service_id: int, team_id: int | None, since: dt.datetime | None
) -> None:
    """Keep the ownership history: when the service's team changes, the previous team's
    stretch ends and the new team's begins at `since` (default now), in the caller's
    transaction. `since` may not be in the future, nor at or before the previous team took
    the service over."""
    current = await ownership.current_owner(con, service_id)
    if (current.team_id if current else None) == team_id:
        return
    now = utc_now()
    at = since or now
    if at > now:
        raise invalid("team_since", "must not be in the future")
    if current is not None and at <= current.since:
        raise invalid(
            "team_since",
            f"must be after {rfc3339(current.since)}, when the previous team took it over",
        )
    if current is not None:
        await ownership.close_owner(con, service_id, at)
    if team_id is not None:
        await ownership.open_owner(con, service_id, team_id, at)


async def create_service(con: Connection, *, service: ServiceIn) -> Service:
    team_id = await _team_id(con, service.team)
    async with con.transaction():
        service_id = await services.insert_service(con, service=service, team_id=team_id)
        await _set_dependencies(con, service_id, service)
        await _record_owner(con, service_id, team_id, service.team_since)
    return await services.get_service(con, slug=service.slug)


async def update_service(con: Connection, *, slug: str, service: ServiceIn) -> Service:
    check_path_key("slug", slug, service.slug)
    team_id = await _team_id(con, service.team)
    async with con.transaction():
        service_id = await services.update_service(con, service=service, team_id=team_id)
        if service_id is None:
            raise NotFound(f"no service {slug!r}")
        await _set_dependencies(con, service_id, service)
        await _record_owner(con, service_id, team_id, service.team_since)
    return await services.get_service(con, slug=slug)


async def delete_service(con: Connection, *, slug: str) -> None:
    # Locked first: an ingest naming the service either finished or waits and then fails.
    service_id = await services.lock_service_for_delete(con, slug=slug)
    if service_id is None:
        raise NotFound(f"no service {slug!r}")
    if await services.has_observations_for_service(con, service_id):
        raise Conflict(f"service {slug!r} has observations; it cannot be deleted")
    await services.delete_service(con, slug=slug)


# KPIs -------------------------------------------------------------------------------------------


async def _ratio_ids(
    con: Connection, kpi: KpiIn, own_id: int | None
) -> tuple[int | None, int | None]:
    if kpi.numerator is None or kpi.denominator is None:
        return (None, None)
    await locks.lock_name(con, "kpi_ratio")
    refs = await kpi_store.kpi_ids_by_key(con, [kpi.numerator, kpi.denominator])
    ids = []
    for side in ("numerator", "denominator"):
        key = getattr(kpi, side)
        if key not in refs:
            raise invalid(side, f"unknown KPI {key!r}")
        ref_id = refs[key].id
        if own_id is not None and await kpi_store.ratio_reaches(con, [ref_id], own_id):
            raise invalid(side, f"{key!r} is built from {kpi.key!r}: that is a cycle")
        ids.append(ref_id)
    return (ids[0], ids[1])


async def _availability_kpi_id(con: Connection, kpi: KpiIn) -> int | None:
    """The id of the availability KPI an error budget KPI names (checked to be one)."""
    if kpi.availability_kpi is None:
        return None
    refs = await kpi_store.kpi_ids_by_key(con, [kpi.availability_kpi])
    found = refs.get(kpi.availability_kpi)
    metric = None
    if found is not None:
        metric = await kpi_store.builtin_metric_of_kpi(con, found.id)
    if found is None or metric != BuiltinMetric.AVAILABILITY.value:
        raise invalid(
            "availability_kpi", f"{kpi.availability_kpi!r} is not a builtin availability KPI"
        )
    return found.id


async def _set_escalation_path(con: Connection, kpi_id: int, kpi: KpiIn) -> None:
    await kpi_store.delete_escalation_path(con, kpi_id)
    await kpi_store.insert_escalation_path(con, kpi_id, kpi)


async def create_kpi(con: Connection, *, kpi: KpiIn) -> Kpi:
    ratio_ids = await _ratio_ids(con, kpi, None)
    availability_id = await _availability_kpi_id(con, kpi)
    async with con.transaction():
        kpi_id = await kpi_store.insert_kpi(
            con, kpi=kpi, ratio_ids=ratio_ids, availability_id=availability_id
        )
        await _set_escalation_path(con, kpi_id, kpi)
        await calendar_store.set_kpi_time_zone(con, kpi_id, kpi.time_zone)
        await slis.set_sli(con, kpi_id, kpi)
    return Kpi(id=kpi_id, **kpi.model_dump())


async def update_kpi(con: Connection, *, key: str, kpi: KpiIn) -> Kpi:
    check_path_key("key", key, kpi.key)
    current = await kpi_store.get_kpi(con, key=key)
    ratio_ids = await _ratio_ids(con, kpi, current.id)
    availability_id = await _availability_kpi_id(con, kpi)
    if kpi.metric is not BuiltinMetric.AVAILABILITY:
        budgets = await kpi_store.kpi_used_for_error_budget(con, current.id)
        if budgets:
            raise invalid(
                "metric", f"error budget KPI {budgets[0]!r} takes its objectives from {key!r}, "
                "which must stay an availability KPI",
            )  # fmt: skip
    async with con.transaction():
        await kpi_store.update_kpi(
            con, kpi=kpi, ratio_ids=ratio_ids, availability_id=availability_id
        )
        await _set_escalation_path(con, current.id, kpi)
        await calendar_store.set_kpi_time_zone(con, current.id, kpi.time_zone)
        await slis.set_sli(con, current.id, kpi)
    return Kpi(id=current.id, **kpi.model_dump())


async def delete_kpi(con: Connection, *, key: str) -> None:
    kpi_id = await kpi_store.lock_kpi_for_delete(con, key=key)
    if kpi_id is None:
        raise NotFound(f"no KPI {key!r}")
    user = await kpi_store.kpi_used_by_ratio(con, kpi_id)
    if user is not None:
        raise Conflict(f"KPI {key!r} is used by ratio KPI {user!r}")
    budgets = await kpi_store.kpi_used_for_error_budget(con, kpi_id)
    if budgets:
        raise Conflict(f"KPI {key!r} sets the objectives of error budget KPI {budgets[0]!r}")
    if await kpi_store.has_observations_for_kpi(con, kpi_id):
        raise Conflict(f"KPI {key!r} has observations; it cannot be deleted")
    await kpi_store.delete_kpi(con, key=key)


@dataclass(frozen=True)
class Collection(Generic[In, Out]):
    """One keyed collection of the catalog and its five operations (plus upsert)."""

    #: What one item is called in errors and locks: team, service, outcome, kpi.
    noun: str
    #: The field that names an item: slug or key.
    key: str
    model_in: type[In]
    model_out: type[Out]
    #: The store's operations; `arg` is the keyword its writes take the body as.
    arg: str
    listed: Callable[..., Awaitable[list[Out]]]
    got: Callable[..., Awaitable[Out]]
    created: Callable[..., Awaitable[Out]]
    updated: Callable[..., Awaitable[Out]]
    deleted: Callable[..., Awaitable[None]]

    @classmethod
    def of_store(
        cls, noun: str, model_in: type[In], model_out: type[Out],
        listed: Callable[..., Awaitable[list[Out]]], got: Callable[..., Awaitable[Out]],
        writes: StoreWrites[Out],
    ) -> Collection[In, Out]:  # fmt: skip
        """A collection keyed by slug whose writes are its store's statements alone."""
        return cls(noun, "slug", model_in, model_out, noun, listed, got, writes.create,
                   writes.update, writes.delete)  # fmt: skip

    async def list(self, con: Connection, keys: Sequence[str] | None = None) -> list[Out]:
        """Every item, or those with these keys."""
        return await self.listed(con, **{f"{self.key}s": keys})

    async def get(self, con: Connection, key: str) -> Out:
        """One item; NotFound (404) when there is none."""
        return await self.got(con, **{self.key: key})

    async def _audited(self, con: Connection, key: str, *, lock: bool = True) -> Out | None:
        """The item as the API reads it, for the audit trail, under the lock of its name (so
        what is recorded as before is what the write replaces)."""
        if lock:
            await locks.lock_name(con, f"{self.noun}:{key}")
        found = await self.list(con, [key])
        return found[0] if found else None

    async def create(self, con: Connection, body: In) -> Out:
        """A new item; Conflict (409) when its key is taken."""
        key: str = getattr(body, self.key)
        async with audit.atomic(con):
            created = await self.created(con, **{self.arg: body})
            # The new row is this transaction's until it commits: no lock needed to read it.
            after = await self._audited(con, key, lock=False)
            await audit.record(con, self.noun, key, None, after)
        return created

    async def replace(self, con: Connection, key: str, body: In) -> Out:
        """The item named `key` replaced by `body` (whose key must be the same)."""
        async with audit.atomic(con):
            before = await self._audited(con, key)
            replaced = await self.updated(con, **{self.key: key, self.arg: body})
            after = await self._audited(con, key, lock=False)
            await audit.record(con, self.noun, key, before, after)
        return replaced

    async def delete(self, con: Connection, key: str) -> None:
        """The item deleted; Conflict (409) while something still refers to it."""
        async with audit.atomic(con):
            before = await self._audited(con, key)
            await self.deleted(con, **{self.key: key})
            if before is not None:
                await audit.record(con, self.noun, key, before, None)

    async def upsert(self, con: Connection, body: In) -> Out:
        """Create the item, or replace it if its key exists."""
        key: str = getattr(body, self.key)
        await locks.lock_name(con, f"{self.noun}:{key}")
        if await self.list(con, [key]):
            return await self.replace(con, key, body)
        return await self.create(con, body)


TEAM_WRITES = StoreWrites("team", Team, teams.insert_team, teams.update_team, teams.delete_team)


async def create_team(con: Connection, *, team: TeamIn) -> Team:
    """A new team, read back with its parent's id (the graph's `parent` loads by it)."""
    await TEAM_WRITES.create(con, team=team)
    return await teams.get_team(con, slug=team.slug)


async def update_team(con: Connection, *, slug: str, team: TeamIn) -> Team:
    await TEAM_WRITES.update(con, slug=slug, team=team)
    return await teams.get_team(con, slug=slug)


TEAMS = Collection[TeamIn, Team](
    "team", "slug", TeamIn, Team, "team", teams.list_teams, teams.get_team,
    create_team, update_team, TEAM_WRITES.delete,
)  # fmt: skip
SERVICES = Collection[ServiceIn, Service](
    "service", "slug", ServiceIn, Service, "service", services.list_services,
    services.get_service, create_service, update_service, delete_service,
)  # fmt: skip
OUTCOMES = Collection[OutcomeIn, Outcome].of_store(
    "outcome", OutcomeIn, Outcome, outcomes.list_outcomes, outcomes.get_outcome,
    StoreWrites("outcome", Outcome, outcomes.insert_outcome, outcomes.update_outcome,
                outcomes.delete_outcome),
)  # fmt: skip
KPIS = Collection[KpiIn, Kpi](
    "kpi", "key", KpiIn, Kpi, "kpi",
    kpi_store.list_kpis, kpi_store.get_kpi, create_kpi, update_kpi, delete_kpi,
)  # fmt: skip


# Targets ----------------------------------------------------------------------------------------


async def list_targets(con: Connection, *, kpi: str | None = None) -> list[Target]:
    return await targets.list_targets(con, kpi=kpi)


async def get_target(con: Connection, target_id: int) -> Target:
    return await targets.get_target(con, target_id=target_id)


async def _target_refs(con: Connection, target: TargetIn) -> tuple[int, int | None]:
    """The ids of the target's KPI and service, once the target is checked against its KPI."""
    refs = await kpi_store.kpi_ids_by_key(con, [target.kpi])
    if target.kpi not in refs:
        raise invalid("kpi", f"unknown KPI {target.kpi!r}")
    ref = refs[target.kpi]
    if target.warning is not None:
        higher = ref.direction == Direction.HIGHER_IS_BETTER
        if (higher and target.warning < target.value) or (
            not higher and target.warning > target.value
        ):
            side = "at or above" if higher else "at or below"
            raise invalid("warning", f"must be {side} the target value for this KPI's direction")
    service_id = None
    if target.service is not None:
        (service_id,) = await services.service_ids(con, [target.service], field="service")
    return ref.id, service_id


async def _target_now(con: Connection, target_id: int) -> Target | None:
    """The target as the API reads it (for the audit trail), None when there is none."""
    found = await targets.list_targets(con, target_id=target_id)
    return found[0] if found else None


async def create_target(con: Connection, target: TargetIn) -> Target:
    kpi_id, service_id = await _target_refs(con, target)
    async with audit.atomic(con):
        target_id = await targets.insert_target(
            con, target=target, kpi_id=kpi_id, service_id=service_id
        )
        await audit.record(con, "target", str(target_id), None, await _target_now(con, target_id))
    return Target(id=target_id, **target.model_dump())


async def replace_target(con: Connection, target_id: int, target: TargetIn) -> Target:
    kpi_id, service_id = await _target_refs(con, target)
    async with audit.atomic(con):
        before = await _target_now(con, target_id)
        if not await targets.update_target(
            con, target_id=target_id, target=target, kpi_id=kpi_id, service_id=service_id
        ):
            raise NotFound(f"no target {target_id}")
        after = await _target_now(con, target_id)
        await audit.record(con, "target", str(target_id), before, after)
    return Target(id=target_id, **target.model_dump())


async def delete_target(con: Connection, target_id: int) -> None:
    async with audit.atomic(con):
        before = await _target_now(con, target_id)
        if not await targets.delete_target(con, target_id=target_id):
            raise NotFound(f"no target {target_id}")
        await audit.record(con, "target", str(target_id), before, None)


# Links ------------------------------------------------------------------------------------------


async def _kpi_id(con: Connection, key: str) -> int:
    refs = await kpi_store.kpi_ids_by_key(con, [key])
    if key not in refs:
        raise NotFound(f"no KPI {key!r}")
    return refs[key].id


async def outcome_links(con: Connection, *, kpi: str) -> list[OutcomeLink]:
    """The outcomes a KPI contributes to; NotFound when there is no such KPI."""
    await kpi_store.get_kpi(con, key=kpi)
    return await links.list_kpi_outcomes(con, kpi=kpi)


async def link_outcome(
    con: Connection, *, kpi: str, outcome: str, link: OutcomeLinkIn
) -> OutcomeLink:
    """Link a KPI to an outcome, or change the link's weight and rationale."""
    kpi_id = await _kpi_id(con, kpi)
    outcome_id = (await outcomes.get_outcome(con, slug=outcome)).id
    async with audit.atomic(con):
        before = await _outcome_link_now(con, kpi, outcome)
        await links.upsert_kpi_outcome(con, kpi_id=kpi_id, outcome_id=outcome_id, link=link)
        after = await _outcome_link_now(con, kpi, outcome)
        await audit.record(con, "kpi-outcome", f"{kpi}/{outcome}", before, after)
    return OutcomeLink(kpi=kpi, outcome=outcome, **link.model_dump())


async def _outcome_link_now(con: Connection, kpi: str, outcome: str) -> OutcomeLink | None:
    """The link as the API reads it (for the audit trail), None when there is none."""
    found = await links.list_kpi_outcomes(con, kpi=kpi, outcome=outcome)
    return found[0] if found else None


async def unlink_outcome(con: Connection, *, kpi: str, outcome: str) -> None:
    kpi_id = await _kpi_id(con, kpi)
    outcome_id = (await outcomes.get_outcome(con, slug=outcome)).id
    async with audit.atomic(con):
        before = await _outcome_link_now(con, kpi, outcome)
        if not await links.delete_kpi_outcome(con, kpi_id=kpi_id, outcome_id=outcome_id):
            raise NotFound(f"KPI {kpi!r} is not linked to outcome {outcome!r}")
        await audit.record(con, "kpi-outcome", f"{kpi}/{outcome}", before, None)


async def service_links(con: Connection, *, kpi: str) -> list[ServiceLink]:
    """The services a KPI applies to; NotFound when there is no such KPI."""
    await kpi_store.get_kpi(con, key=kpi)
    return await links.list_kpi_services(con, kpi=kpi)


async def link_service(con: Connection, *, kpi: str, service: str) -> ServiceLink:
    """Apply a KPI to a service (again: no change)."""
    kpi_id = await _kpi_id(con, kpi)
    service_id = (await services.get_service(con, slug=service)).id
    link = ServiceLink(kpi=kpi, service=service)
    async with audit.atomic(con):
        before = link if await _applies_to(con, kpi, service) else None
        await links.insert_kpi_service(con, kpi_id=kpi_id, service_id=service_id)
        await audit.record(con, "kpi-service", f"{kpi}/{service}", before, link)
    return link


async def _applies_to(con: Connection, kpi: str, service: str) -> bool:
    return any(link.service == service for link in await links.list_kpi_services(con, kpi=kpi))


async def unlink_service(con: Connection, *, kpi: str, service: str) -> None:
    kpi_id = await _kpi_id(con, kpi)
    service_id = (await services.get_service(con, slug=service)).id
    async with audit.atomic(con):
        if not await links.delete_kpi_service(con, kpi_id=kpi_id, service_id=service_id):
            raise NotFound(f"KPI {kpi!r} does not apply to service {service!r}")
        link = ServiceLink(kpi=kpi, service=service)
        await audit.record(con, "kpi-service", f"{kpi}/{service}", link, None)


def as_seen(item: Any, *, admin: bool) -> Any:
    """What a token may see of an item: a KPI's webhook addresses only by admins."""
    return item.as_seen(admin=admin) if isinstance(item, Kpi) else item
