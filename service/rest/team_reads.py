"""Reads that honour a token limited to a team (read_scope team): the catalog's service list
holds only the team's services, and another team's service is a 404, as one that does not
exist. Every other read refuses such a token (rest/endpoint.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from service.rest.endpoint import Call, Endpoint, Handler, path_param
from service.usecases import team_scope


async def read_limit(call: Call) -> team_scope.TeamServices | None:
    """The services the caller may read, None when its reads are not limited."""
    if call.principal is None or call.principal.reads_team is None:
        return None
    async with call.connection() as con:
        return await team_scope.read_limit(con, call.principal)


async def check_service(call: Call, slug: str | None, what: str = "service") -> None:
    """A 404 when the caller's reads are limited to a team that does not own the service."""
    team_scope.readable(await read_limit(call), slug, f"{what} {slug!r}")


def _service_list(handler: Handler) -> Handler:
    async def run(call: Call) -> Any:
        found = await handler(call)
        limit = await read_limit(call)
        if limit is None:
            return found
        return [s for s in found if limit.allows(s.slug)]

    run.__name__ = handler.__name__
    return run


def _service_item(handler: Handler) -> Handler:
    async def run(call: Call) -> Any:
        await check_service(call, path_param(call, "slug"))
        return await handler(call)

    run.__name__ = handler.__name__
    return run


def service_reads(endpoints: Iterable[Endpoint]) -> list[Endpoint]:
    """The catalog's endpoints, its service list and service lookup honouring team reads."""
    wrap = {"list_services": _service_list, "get_service": _service_item}
    return [
        dataclasses.replace(e, handler=wrap[e.operation_id](e.handler), team_reads=True)
        if e.operation_id in wrap
        else e
        for e in endpoints
    ]
