"""One description per REST endpoint: the app's routes and the OpenAPI spec are built from it.

Each request runs the same steps: authenticate and check the scope, parse the query string,
check the content type and size of the body and validate it, then call the handler and render
its result. Every failure along the way is an ApiError, answered as problem+json.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.auth import Principal, authenticate, require
from service.clock import Clock
from service.config import Settings
from service.db import Connection, Database
from service.errors import (
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    field_error,
    from_pydantic,
)
from service.models.enums import Scope

JSON = "application/json"
NDJSON = "application/x-ndjson"


@dataclass
class Call:
    """What a handler gets: the parsed request and a way to a database connection."""

    request: Request
    settings: Settings
    db: Database
    principal: Principal | None
    path: Mapping[str, str]
    query: Any
    body: Any

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A connection inside a transaction: committed before the handler's answer is sent."""
        async with self.db.acquire() as con, con.transaction():
            yield con

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        async with self.db.acquire() as con:
            yield con

    def now(self) -> dt.datetime:
        """The app's clock: the instant metrics are measured up to."""
        clock: Clock = self.request.app.state.clock
        return clock()


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    scope: Scope | None
    summary: str
    tag: str
    body: Any = None
    response: Any = None
    status: int = 200
    query: type[BaseModel] | None = None
    content_types: tuple[str, ...] = (JSON,)
    errors: tuple[int, ...] = ()
    description: str = ""
    stream_body: bool = field(default=False)
    #: "token": an API token with `scope`; "none": open (health); "source": the sending
    #: tool's own signature or token, checked by the handler (webhooks).
    auth: str = "token"

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) as soon as it grows past `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is over the {limit}-byte limit", limit=limit)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over the {limit}-byte limit", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def check_media_type(request: Request, accepted: tuple[str, ...]) -> str:
    found = media_type(request)
    if found not in accepted:
        raise UnsupportedMediaType(
            f"Content-Type must be one of {', '.join(accepted)}, not {found or 'missing'!r}",
            accepted=list(accepted),
        )
    return found


def _parse_query(model: type[BaseModel], request: Request) -> BaseModel:
    raw: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        raw[key] = values if len(values) > 1 else values[0]
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = [
            field_error(".".join(str(p) for p in e["loc"]), e["msg"])
            for e in exc.errors(include_url=False)
        ]
        names = ", ".join(e.field for e in errors)
        raise ValidationFailed(f"invalid query parameters: {names}", errors=errors) from exc


def handler(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    body_adapter = _adapter(endpoint.body) if endpoint.body is not None else None
    response_adapter = _adapter(endpoint.response) if endpoint.response is not None else None

    async def run(request: Request) -> Response:
        state = request.app.state
        settings: Settings = state.settings
        db: Database = state.db
        principal = None
        if endpoint.scope is not None:
            async with db.acquire() as con:
                principal = await authenticate(con, request.headers.get("authorization"))
            require(principal, endpoint.scope)
        query = _parse_query(endpoint.query, request) if endpoint.query else None
        body: Any = None
        if body_adapter is not None and not endpoint.stream_body:
            check_media_type(request, endpoint.content_types)
            raw = await read_body(request, settings.max_body_bytes)
            try:
                body = body_adapter.validate_json(raw)
            except ValidationError as exc:
                raise from_pydantic(exc) from exc
        call = Call(request, settings, db, principal, request.path_params, query, body)
        result = await endpoint.handler(call)
        if isinstance(result, Response):
            return result
        if response_adapter is None:
            return Response(status_code=endpoint.status)
        content = response_adapter.dump_json(result)
        return Response(content, status_code=endpoint.status, media_type=JSON)

    run.__name__ = endpoint.operation_id
    return run


def routes(endpoints: list[Endpoint]) -> list[Route]:
    """One route per path, dispatching on the method, so a 405 lists every allowed method."""
    by_path: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
    for endpoint in endpoints:
        by_path.setdefault(endpoint.path, {})[endpoint.method] = handler(endpoint)
    result = []
    for path, methods in by_path.items():

        async def dispatch(
            request: Request, methods: dict[str, Callable[..., Awaitable[Response]]] = methods
        ) -> Response:
            method = "GET" if request.method == "HEAD" else request.method
            return await methods[method](request)

        result.append(Route(path, dispatch, methods=list(methods)))
    return result


def path_param(call: Call, name: str) -> str:
    return call.path[name]


#: Largest id Postgres' bigint holds; a larger one names nothing.
MAX_ID = 2**63 - 1


def id_param(call: Call, name: str = "id") -> int:
    """An integer id from the path (the route's :int convertor guarantees digits)."""
    value = int(call.path[name])
    if value > MAX_ID:
        raise NotFound(f"no item with {name} {value}")
    return value
