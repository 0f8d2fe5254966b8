"""One description per REST endpoint: the app's routes and the OpenAPI spec are built from it.

Each request runs the same steps: authenticate and check the scope, parse the query string,
check the content type and size of the body and validate it, then call the handler and render
its result. Every failure along the way is an ApiError, answered as problem+json.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service import ratelimit
from service.clock import Clock
from service.config import Settings
from service.db import Connection, Database
from service.duplicate_keys import refuse_duplicate_keys
from service.errors import (
    NotFound,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    ValidationFailed,
    field_error,
    from_pydantic,
)
from service.models.audit import Actor, AuditVia
from service.models.enums import Scope
from service.models.tokens import Principal
from service.replicas import read_with_fallback, replica_set
from service.rest import idempotency, negotiation
from service.rest.conditional import conditional
from service.rest.csv_tables import CsvTable
from service.store import idempotency as idempotency_store
from service.usecases import audit
from service.usecases.tokens import require, require_unlimited_reads

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
    #: The connection of a keyed request's transaction (see rest/idempotency.py): the
    #: handler's work joins it, so it commits with the stored answer.
    shared: Connection | None = None
    #: Whether the client asked for CSV (rest/negotiation.py): a handler of a long list then
    #: answers its pages one after another instead of the whole list.
    wants_csv: bool = False

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A connection inside a transaction: committed before the handler's answer is sent."""
        if self.shared is not None:
            async with self.shared.transaction():
                yield self.shared
            return
        async with self.db.acquire() as con, con.transaction():
            yield con

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        if self.shared is not None:
            yield self.shared
            return
        async with self.db.acquire() as con:
            yield con

    def now(self) -> dt.datetime:
        """The app's clock: the instant metrics are measured up to."""
        clock: Clock = self.request.app.state.clock
        return clock()


Handler = Callable[[Call], Awaitable[Any]]
P = ParamSpec("P")
R = TypeVar("R")


async def in_transaction(
    call: Call, operation: Callable[Concatenate[Connection, P], Awaitable[R]],
    *args: P.args, **named: P.kwargs,
) -> R:  # fmt: skip
    """What a use case answers, run inside the call's transaction (committed before the
    answer is sent)."""
    async with call.transaction() as con:
        return await operation(con, *args, **named)


async def on_connection(
    call: Call, operation: Callable[Concatenate[Connection, P], Awaitable[R]],
    *args: P.args, **named: P.kwargs,
) -> R:  # fmt: skip
    """What a use case answers, run on a connection of the call (a read, or a use case that
    opens its own transactions)."""
    async with call.connection() as con:
        return await operation(con, *args, **named)


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
    #: A read that also answers CSV (`?format=csv` or Accept: text/csv): its table.
    csv: CsvTable | None = None
    #: "token": an API token with `scope`; "none": open (health); "source": the sending
    #: tool's own signature or token, checked by the handler (webhooks).
    auth: str = "token"
    #: How a retried write is kept from applying twice. "stored": an Idempotency-Key's first
    #: answer is stored and replayed (rest/idempotency.py); "natural": the write is keyed by
    #: its content, so sending it again changes nothing; "delivery": the handler logs the key
    #: with the delivery it records; "none": not honoured (the answer holds a secret that must
    #: not be stored).
    idempotency: str = "stored"
    #: What the OpenAPI document shows as the request body and the success answer when the
    #: body or response type has no example of its own in rest/examples.py (or another one).
    request_example: Any = None
    response_example: Any = None
    #: The success answer's media type, for a handler that renders its answer itself.
    response_media_type: str = JSON
    #: Other media types the success answer may take (a handler rendering them itself, e.g.
    #: text/html), each with a short example of its text for the OpenAPI document.
    other_media: tuple[tuple[str, str], ...] = ()
    #: Patterns of path parameters the handler checks (a 422 naming the parameter), for the
    #: OpenAPI document: (name, regular expression).
    path_patterns: tuple[tuple[str, str], ...] = ()
    #: Whether a 200 answer carries an ETag (the hash of its body), a request whose
    #: If-None-Match holds it being answered 304 Not Modified (rest/conditional.py).
    etag: bool = False
    #: Whether the read honours a token whose reads are limited to a team (its lists hold only
    #: the team's services, another team's service is a 404); any other read refuses such a
    #: token with a 403.
    team_reads: bool = False
    #: Whether the read may be served by a read replica (KPI_DATABASE_READ_URL): reports,
    #: series and lists whose handlers only read (a replica refuses writes).
    replica_reads: bool = False

    @property
    def keyed(self) -> bool:
        """Whether the generic Idempotency-Key handling applies to this endpoint."""
        return self.method != "GET" and self.auth == "token" and self.idempotency == "stored"

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def check_content_encoding(request: Request) -> None:
    """Bodies are taken as sent: a compressed one (any Content-Encoding but identity) is a 415,
    so that the body limits bound what is stored and no small body can inflate to gigabytes."""
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        raise UnsupportedMediaType(
            f"Content-Encoding {encoding!r} is not accepted: send the body uncompressed",
            header="Content-Encoding",
        )


async def body_chunks(request: Request) -> AsyncIterator[bytes]:
    """The body as it arrives; a 415 for a compressed one; a 408 when the client pauses for
    longer than KPI_BODY_READ_TIMEOUT_SECONDS (a stalled upload must not hold the request
    forever)."""
    check_content_encoding(request)
    settings: Settings = request.app.state.settings
    idle = settings.body_read_timeout_seconds
    chunks = request.stream().__aiter__()
    while True:
        try:
            async with asyncio.timeout(idle):
                chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except TimeoutError as exc:
            raise RequestTimeout(
                f"the body stopped arriving for {idle:g} s; nothing of it was stored"
            ) from exc
        yield chunk


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) as soon as it grows past `limit` bytes."""
    check_content_encoding(request)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is over the {limit}-byte limit", limit=limit)
    chunks = []
    size = 0
    async for chunk in body_chunks(request):
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


async def _caller(endpoint: Endpoint, request: Request, db: Database) -> Principal | None:
    """The token's holder, allowed the endpoint's scope (and, for a read, its team limit)
    and within its rate limit; None for an open endpoint."""
    if endpoint.scope is None:
        return None
    async with db.acquire() as con:
        # One statement looks the token up and takes one request from its shared bucket.
        principal = await ratelimit.authenticate(
            request.app.state, con, request.headers.get("authorization")
        )
    require(principal, endpoint.scope)
    if endpoint.scope is Scope.READ and not endpoint.team_reads:
        require_unlimited_reads(principal, f"{endpoint.method} {endpoint.path}")
    return principal


def _database(endpoint: Endpoint, request: Request, principal: Principal | None) -> Database:
    """Where the request's handler gets its connections: a read replica for a replica-eligible
    read when there are replicas (service/replicas.py), else the primary."""
    replicas = replica_set(request.app.state)
    if endpoint.replica_reads and replicas is not None and principal is not None:
        return replicas.reads_for(principal)
    db: Database = request.app.state.db
    return db


def _run_on(handler: Handler, call: Call) -> Callable[[Database], Awaitable[Any]]:
    """The handler's call, taking its connections from a given Database."""
    return lambda db: handler(call if db is call.db else dataclasses.replace(call, db=db))


def handler(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    body_adapter = _adapter(endpoint.body) if endpoint.body is not None else None
    response_adapter = _adapter(endpoint.response) if endpoint.response is not None else None

    async def run(request: Request) -> Response:
        state = request.app.state
        db: Database = state.db
        principal = await _caller(endpoint, request, db)
        if principal is None:
            return await serve(request, None)
        # What the request changes in the catalog is recorded as this token's doing.
        with audit.acting(Actor(principal.name, principal.token_id), AuditVia.REST):
            response = await serve(request, principal)
        replicas = replica_set(state)
        if replicas is not None and endpoint.method != "GET" and response.status_code < 400:
            # Committed by now: the token's next reads wait for a replica that replayed it.
            await replicas.record_write(principal)
        return response

    async def serve(request: Request, principal: Principal | None) -> Response:
        settings: Settings = request.app.state.settings
        db = _database(endpoint, request, principal)
        query = _parse_query(endpoint.query, request) if endpoint.query else None
        key = idempotency.key_of(request) if endpoint.keyed and principal else None
        body: Any = None
        raw = b""
        if body_adapter is not None and not endpoint.stream_body:
            check_media_type(request, endpoint.content_types)
            raw = await read_body(request, settings.max_body_bytes)
            refuse_duplicate_keys(raw)
            try:
                body = body_adapter.validate_json(raw)
            except ValidationError as exc:
                raise from_pydantic(exc) from exc
        elif key is not None:
            raw = await read_body(request, settings.max_body_bytes)
        call = Call(request, settings, db, principal, request.path_params, query, body)
        if endpoint.csv is not None:
            call.wants_csv = negotiation.negotiate(request) == negotiation.CSV
        if key is None or principal is None:
            response = render(await read_with_fallback(db, _run_on(endpoint.handler, call)), call)
            return conditional(request, response) if endpoint.etag else response
        fingerprint = idempotency.fingerprint(request, raw)
        async with db.acquire() as con, con.transaction():
            token_id = principal.token_id
            if not await idempotency_store.claim(
                con, token_id=token_id, key=key, fingerprint=fingerprint
            ):
                answer = await idempotency_store.stored_answer(con, token_id=token_id, key=key)
                return idempotency.replay(answer, fingerprint)
            call.shared = con
            response = render(await endpoint.handler(call), call)
            await idempotency_store.store_answer(
                con, token_id=token_id, key=key, status=response.status_code,
                media_type=response.media_type, body=bytes(response.body),
            )  # fmt: skip
            return response

    def render(result: Any, call: Call) -> Response:
        if isinstance(result, Response):
            return result
        if endpoint.csv is not None and call.wants_csv:
            return endpoint.csv.response(result, call.request.url.path)
        if response_adapter is None:
            return Response(status_code=endpoint.status)
        content = response_adapter.dump_json(result)
        # A read that also answers CSV varies with Accept, which caches must know.
        headers = {"Vary": "Accept"} if endpoint.csv is not None else None
        return Response(content, status_code=endpoint.status, media_type=JSON, headers=headers)

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
