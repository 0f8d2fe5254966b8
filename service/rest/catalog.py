"""REST CRUD for the catalog under /v1: teams, services, outcomes, KPIs, targets and links."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from service.db import Connection
from service.models.catalog import (
    OutcomeLink,
    OutcomeLinkIn,
    ServiceLink,
    Target,
    TargetIn,
)
from service.models.entity_refs import ServiceRef, TeamRef
from service.models.enums import Scope
from service.rest.endpoint import (
    Call,
    Endpoint,
    id_param,
    in_transaction,
    on_connection,
    path_param,
)
from service.rest.team_reads import service_reads
from service.usecases import backstage, catalog
from service.usecases.catalog import KPIS, OUTCOMES, SERVICES, TEAMS, Collection


class ServiceRefQuery(BaseModel):
    ref: ServiceRef | None = Field(
        default=None,
        description="Only the service of this Backstage entity reference, compared "
        "case-insensitively (`component:default/checkout`, or `checkout`).",
    )


class TeamRefQuery(BaseModel):
    ref: TeamRef | None = Field(
        default=None,
        description="Only the team of this Backstage entity reference, compared "
        "case-insensitively (`group:default/payments-team`, or `payments-team`).",
    )


@dataclass(frozen=True)
class RefLookup:
    """How a collection's list is narrowed to the item of a Backstage entity reference: the
    query taking it, and the use case finding the item."""

    query: type[BaseModel]
    find: Callable[[Connection, str], Awaitable[list[Any]]]


def crud(
    collection: Collection[Any, Any], *, tag: str, base: str, noun: str,
    by_ref: RefLookup | None = None,
) -> list[Endpoint]:  # fmt: skip
    """The five endpoints of one catalog collection, keyed by its key in the path; its list
    takes `?ref=` when the collection's items carry entity references."""
    key = collection.key
    item = f"{base}/{{{key}}}"

    def shown(call: Call, found: Any) -> Any:
        admin = call.principal is not None and call.principal.allows(Scope.ADMIN)
        if isinstance(found, list):
            return [catalog.as_seen(i, admin=admin) for i in found]
        return catalog.as_seen(found, admin=admin)

    async def list_all(call: Call) -> Any:
        ref = getattr(call.query, "ref", None)
        async with call.connection() as con:
            if by_ref is not None and ref is not None:
                return shown(call, await by_ref.find(con, ref))
            return shown(call, await collection.list(con))

    async def get_one(call: Call) -> Any:
        async with call.connection() as con:
            return shown(call, await collection.get(con, path_param(call, key)))

    async def create_one(call: Call) -> Any:
        async with call.transaction() as con:
            return await collection.create(con, call.body)

    async def replace_one(call: Call) -> Any:
        async with call.transaction() as con:
            return await collection.replace(con, path_param(call, key), call.body)

    async def delete_one(call: Call) -> None:
        async with call.transaction() as con:
            await collection.delete(con, path_param(call, key))

    # The operation ids: list_teams, then get_team, create_team ... of one item.
    one = tag.removesuffix("s")
    for fn, name in (
        (list_all, f"list_{tag}"),
        (get_one, f"get_{one}"),
        (create_one, f"create_{one}"),
        (replace_one, f"replace_{one}"),
        (delete_one, f"delete_{one}"),
    ):
        fn.__name__ = name
    model_in, model_out = collection.model_in, collection.model_out
    return [
        Endpoint("GET", base, list_all, Scope.READ, f"List {noun}s", tag, response=list[model_out],  # type: ignore[valid-type]
                 query=by_ref.query if by_ref else None, replica_reads=True),
        Endpoint("GET", item, get_one, Scope.READ, f"Get one {noun}", tag, response=model_out,
                 errors=(404,), replica_reads=True),
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
    return await on_connection(call, catalog.list_targets, kpi=call.query.kpi)


async def get_target(call: Call) -> Target:
    return await on_connection(call, catalog.get_target, id_param(call))


async def create_target(call: Call) -> Target:
    return await in_transaction(call, catalog.create_target, call.body)


async def replace_target(call: Call) -> Target:
    return await in_transaction(call, catalog.replace_target, id_param(call), call.body)


async def delete_target(call: Call) -> None:
    await in_transaction(call, catalog.delete_target, id_param(call))


def _link(call: Call) -> dict[str, str]:
    """The KPI and the outcome or service a link's path names, as the use cases take them."""
    return {"kpi": path_param(call, "key")} | {k: v for k, v in call.path.items() if k != "key"}


async def list_kpi_outcomes(call: Call) -> list[OutcomeLink]:
    return await on_connection(call, catalog.outcome_links, **_link(call))


async def link_kpi_outcome(call: Call) -> OutcomeLink:
    return await in_transaction(call, catalog.link_outcome, **_link(call), link=call.body)


async def unlink_kpi_outcome(call: Call) -> None:
    await in_transaction(call, catalog.unlink_outcome, **_link(call))


async def list_kpi_services(call: Call) -> list[ServiceLink]:
    return await on_connection(call, catalog.service_links, **_link(call))


async def link_kpi_service(call: Call) -> ServiceLink:
    return await in_transaction(call, catalog.link_service, **_link(call))


async def unlink_kpi_service(call: Call) -> None:
    await in_transaction(call, catalog.unlink_service, **_link(call))


TARGET = "/v1/targets/{id:int}"
KPI_OUTCOME = "/v1/kpis/{key}/outcomes/{outcome}"
KPI_SERVICE = "/v1/kpis/{key}/services/{service}"

ENDPOINTS: list[Endpoint] = [
    *crud(TEAMS, tag="teams", base="/v1/teams", noun="team",
          by_ref=RefLookup(TeamRefQuery, backstage.teams_of_ref)),
    *service_reads(crud(SERVICES, tag="services", base="/v1/services", noun="business service",
                        by_ref=RefLookup(ServiceRefQuery, backstage.services_of_ref))),
    *crud(OUTCOMES, tag="outcomes", base="/v1/outcomes", noun="business outcome"),
    *crud(KPIS, tag="kpis", base="/v1/kpis", noun="KPI definition"),
    Endpoint("GET", "/v1/targets", list_targets, Scope.READ, "List targets", "targets",
             response=list[Target], query=TargetFilter, replica_reads=True),
    Endpoint("GET", TARGET, get_target, Scope.READ, "Get one target", "targets",
             response=Target, errors=(404,), replica_reads=True),
    Endpoint("POST", "/v1/targets", create_target, Scope.ADMIN, "Create a target", "targets",
             body=TargetIn, response=Target, status=201, errors=(409, 413, 415, 422)),
    Endpoint("PUT", TARGET, replace_target, Scope.ADMIN, "Replace a target", "targets",
             body=TargetIn, response=Target, errors=(404, 409, 413, 415, 422)),
    Endpoint("DELETE", TARGET, delete_target, Scope.ADMIN, "Delete a target", "targets",
             status=204, errors=(404,)),
    Endpoint("GET", "/v1/kpis/{key}/outcomes", list_kpi_outcomes, Scope.READ,
             "List the outcomes a KPI contributes to", "links", response=list[OutcomeLink],
             errors=(404,), replica_reads=True),
    Endpoint("PUT", KPI_OUTCOME, link_kpi_outcome, Scope.ADMIN,
             "Link a KPI to an outcome (or change the link's weight)", "links",
             body=OutcomeLinkIn, response=OutcomeLink, errors=(404, 413, 415, 422)),
    Endpoint("DELETE", KPI_OUTCOME, unlink_kpi_outcome, Scope.ADMIN,
             "Unlink a KPI from an outcome", "links", status=204, errors=(404,)),
    Endpoint("GET", "/v1/kpis/{key}/services", list_kpi_services, Scope.READ,
             "List the services a KPI applies to", "links", response=list[ServiceLink],
             errors=(404,), replica_reads=True),
    Endpoint("PUT", KPI_SERVICE, link_kpi_service, Scope.ADMIN,
             "Apply a KPI to a service", "links", response=ServiceLink, errors=(404,)),
    Endpoint("DELETE", KPI_SERVICE, unlink_kpi_service, Scope.ADMIN,
             "Stop applying a KPI to a service", "links", status=204, errors=(404,)),
]  # fmt: skip
