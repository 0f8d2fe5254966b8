"""REST CRUD for the catalog under /v1: teams, services, outcomes, KPIs, targets and links."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, Field

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
from service.models.enums import Scope
from service.rest.endpoint import Call, Endpoint, id_param, path_param
from service.store import catalog as store

Read = Callable[..., Awaitable[Any]]


def crud(
    *,
    tag: str,
    base: str,
    key: str,
    noun: str,
    model_in: type[BaseModel],
    model_out: type[BaseModel],
    list_: Read,
    get: Read,
    create: Read,
    update: Read,
    delete: Read,
    arg: str,
    seen: Callable[[Any, bool], Any] | None = None,
) -> list[Endpoint]:
    """The five endpoints of one catalog collection, keyed by `key` in the path; `seen(item,
    admin)` gives what a reading token may see of an item."""
    item = f"{base}/{{{key}}}"

    def shown(call: Call, found: Any) -> Any:
        if seen is None:
            return found
        admin = call.principal is not None and call.principal.allows(Scope.ADMIN)
        return [seen(i, admin) for i in found] if isinstance(found, list) else seen(found, admin)

    async def list_all(call: Call) -> Any:
        async with call.connection() as con:
            return shown(call, await list_(con))

    async def get_one(call: Call) -> Any:
        async with call.connection() as con:
            return shown(call, await get(con, **{key: path_param(call, key)}))

    async def create_one(call: Call) -> Any:
        async with call.transaction() as con:
            return await create(con, **{arg: call.body})

    async def replace_one(call: Call) -> Any:
        async with call.transaction() as con:
            return await update(con, **{key: path_param(call, key), arg: call.body})

    async def delete_one(call: Call) -> None:
        async with call.transaction() as con:
            await delete(con, **{key: path_param(call, key)})

    for fn, verb in (
        (list_all, "list"),
        (get_one, "get"),
        (create_one, "create"),
        (replace_one, "replace"),
        (delete_one, "delete"),
    ):
        fn.__name__ = f"{verb}_{tag}"
    return [
        Endpoint("GET", base, list_all, Scope.READ, f"List {noun}s", tag, response=list[model_out]),  # type: ignore[valid-type]
        Endpoint("GET", item, get_one, Scope.READ, f"Get one {noun}", tag, response=model_out,
                 errors=(404,)),
        Endpoint("POST", base, create_one, Scope.ADMIN, f"Create a {noun}", tag, body=model_in,
                 response=model_out, status=201, errors=(409, 413, 415, 422)),
        Endpoint("PUT", item, replace_one, Scope.ADMIN, f"Replace a {noun}", tag, body=model_in,
                 response=model_out, errors=(404, 409, 413, 415, 422)),
        Endpoint("DELETE", item, delete_one, Scope.ADMIN, f"Delete a {noun}", tag, status=204,
                 errors=(404, 409)),
    ]  # fmt: skip


class TargetFilter(BaseModel):
    kpi: str | None = Field(default=None, description="Only the targets of this KPI key.")


async def list_targets(call: Call) -> list[Target]:
    async with call.connection() as con:
        return await store.list_targets(con, kpi=call.query.kpi)


async def get_target(call: Call) -> Target:
    async with call.connection() as con:
        return await store.get_target(con, target_id=id_param(call))


async def create_target(call: Call) -> Target:
    async with call.transaction() as con:
        return await store.create_target(con, target=call.body)


async def replace_target(call: Call) -> Target:
    async with call.transaction() as con:
        return await store.update_target(con, target_id=id_param(call), target=call.body)


async def delete_target(call: Call) -> None:
    async with call.transaction() as con:
        await store.delete_target(con, target_id=id_param(call))


async def list_kpi_outcomes(call: Call) -> list[OutcomeLink]:
    async with call.connection() as con:
        kpi = await store.get_kpi(con, key=path_param(call, "key"))
        return await store.list_outcome_links(con, kpi=kpi.key)


async def link_kpi_outcome(call: Call) -> OutcomeLink:
    async with call.transaction() as con:
        return await store.link_outcome(
            con, kpi=path_param(call, "key"), outcome=path_param(call, "outcome"), link=call.body
        )


async def unlink_kpi_outcome(call: Call) -> None:
    async with call.transaction() as con:
        await store.unlink_outcome(
            con, kpi=path_param(call, "key"), outcome=path_param(call, "outcome")
        )


async def list_kpi_services(call: Call) -> list[ServiceLink]:
    async with call.connection() as con:
        kpi = await store.get_kpi(con, key=path_param(call, "key"))
        return await store.list_service_links(con, kpi=kpi.key)


async def link_kpi_service(call: Call) -> ServiceLink:
    async with call.transaction() as con:
        return await store.link_service(
            con, kpi=path_param(call, "key"), service=path_param(call, "service")
        )


async def unlink_kpi_service(call: Call) -> None:
    async with call.transaction() as con:
        await store.unlink_service(
            con, kpi=path_param(call, "key"), service=path_param(call, "service")
        )


TARGET = "/v1/targets/{id:int}"
KPI_OUTCOME = "/v1/kpis/{key}/outcomes/{outcome}"
KPI_SERVICE = "/v1/kpis/{key}/services/{service}"

ENDPOINTS: list[Endpoint] = [
    *crud(tag="teams", base="/v1/teams", key="slug", noun="team", model_in=TeamIn,
          model_out=Team, list_=store.list_teams, get=store.get_team, create=store.create_team,
          update=store.update_team, delete=store.delete_team, arg="team"),
    *crud(tag="services", base="/v1/services", key="slug", noun="business service",
          model_in=ServiceIn, model_out=Service, list_=store.list_services,
          get=store.get_service, create=store.create_service, update=store.update_service,
          delete=store.delete_service, arg="service"),
    *crud(tag="outcomes", base="/v1/outcomes", key="slug", noun="business outcome",
          model_in=OutcomeIn, model_out=Outcome, list_=store.list_outcomes,
          get=store.get_outcome, create=store.create_outcome, update=store.update_outcome,
          delete=store.delete_outcome, arg="outcome"),
    *crud(tag="kpis", base="/v1/kpis", key="key", noun="KPI definition", model_in=KpiIn,
          model_out=Kpi, list_=store.list_kpis, get=store.get_kpi, create=store.create_kpi,
          update=store.update_kpi, delete=store.delete_kpi, arg="kpi",
          seen=lambda kpi, admin: kpi.as_seen(admin=admin)),
    Endpoint("GET", "/v1/targets", list_targets, Scope.READ, "List targets", "targets",
             response=list[Target], query=TargetFilter),
    Endpoint("GET", TARGET, get_target, Scope.READ, "Get one target", "targets",
             response=Target, errors=(404,)),
    Endpoint("POST", "/v1/targets", create_target, Scope.ADMIN, "Create a target", "targets",
             body=TargetIn, response=Target, status=201, errors=(409, 413, 415, 422)),
    Endpoint("PUT", TARGET, replace_target, Scope.ADMIN, "Replace a target", "targets",
             body=TargetIn, response=Target, errors=(404, 409, 413, 415, 422)),
    Endpoint("DELETE", TARGET, delete_target, Scope.ADMIN, "Delete a target", "targets",
             status=204, errors=(404,)),
    Endpoint("GET", "/v1/kpis/{key}/outcomes", list_kpi_outcomes, Scope.READ,
             "List the outcomes a KPI contributes to", "links", response=list[OutcomeLink],
             errors=(404,)),
    Endpoint("PUT", KPI_OUTCOME, link_kpi_outcome, Scope.ADMIN,
             "Link a KPI to an outcome (or change the link's weight)", "links",
             body=OutcomeLinkIn, response=OutcomeLink, errors=(404, 413, 415, 422)),
    Endpoint("DELETE", KPI_OUTCOME, unlink_kpi_outcome, Scope.ADMIN,
             "Unlink a KPI from an outcome", "links", status=204, errors=(404,)),
    Endpoint("GET", "/v1/kpis/{key}/services", list_kpi_services, Scope.READ,
             "List the services a KPI applies to", "links", response=list[ServiceLink],
             errors=(404,)),
    Endpoint("PUT", KPI_SERVICE, link_kpi_service, Scope.ADMIN,
             "Apply a KPI to a service", "links", response=ServiceLink, errors=(404,)),
    Endpoint("DELETE", KPI_SERVICE, unlink_kpi_service, Scope.ADMIN,
             "Stop applying a KPI to a service", "links", status=204, errors=(404,)),
]  # fmt: skip
