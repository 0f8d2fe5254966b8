"""The /graphql endpoint: strawberry over Starlette, behind the same token check as REST."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any
from urllib.parse import urlencode

import orjson
from cross_web import HTTPException as StrawberryHTTPException
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Send
from starlette.types import Scope as AsgiScope
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.base import BaseRequestProtocol

from service import ratelimit
from service.config import Settings
from service.db import Database
from service.duplicate_keys import refuse_duplicate_keys
from service.errors import (
    ApiError,
    BadRequest,
    MethodNotAllowed,
    error_for_status,
    problem_response,
)
from service.graphql.context import Context
from service.graphql.guard import RequestDatabase
from service.graphql.over_http import (
    GRAPHQL_RESPONSE,
    api_error_response,
    errors_response,
    finish,
    wants_graphql_response,
)
from service.graphql.over_http import (
    JSON as JSON_RESPONSE,
)
from service.models.enums import Scope
from service.models.tokens import Principal
from service.replicas import replica_set
from service.rest.endpoint import JSON, media_type, read_body
from service.usecases.persisted_queries import PersistedDocuments, PersistedQueryNotFound
from service.usecases.tokens import require, require_unlimited_reads
from service.web.pages import explorer_response

log = logging.getLogger(__name__)


def wants_explorer(request: Request) -> bool:
    """A browser opening /graphql: a GET without a query that accepts HTML."""
    return (
        request.method in ("GET", "HEAD")
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


#: The members of a GraphQL request: the JSON types each may have, and how to say them.
_MEMBER_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "query": ((str,), "a string"),
    "variables": ((dict, type(None)), "an object or null"),
    "operationName": ((str, type(None)), "a string or null"),
}


def check_request_members(request: dict[str, object]) -> None:
    """A 400 for a member of the wrong type, as GraphQL over HTTP asks (strawberry would
    take `"operationName": {}` for none and run the query)."""
    for name, (types, words) in _MEMBER_TYPES.items():
        if name in request and not isinstance(request[name], types):
            raise BadRequest(f"`{name}` must be {words}")


_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


def persisted_hash(extensions: object) -> str | None:
    """The SHA-256 of `extensions.persistedQuery` (Apollo's automatic persisted queries)."""
    if not isinstance(extensions, dict) or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
        raise BadRequest("`extensions.persistedQuery.sha256Hash` must be 64 hex digits")
    if persisted.get("version", 1) != 1:
        raise BadRequest("`extensions.persistedQuery.version` must be 1")
    return digest.lower()


async def _document(request: Request, query: object, extensions: object) -> str | None:
    """The query a request runs, when it names one by hash (else None: as sent)."""
    digest = persisted_hash(extensions)
    documents: PersistedDocuments = request.app.state.persisted_documents
    if digest is None and documents.trusted is None:
        return None
    db: Database = request.app.state.db
    async with db.acquire() as con:
        # The store is written only for holders of a read token; the request's context takes
        # the principal from here rather than looking the token up again.
        principal = await ratelimit.authenticate(
            request.app.state, con, request.headers.get("authorization")
        )
        require(principal, Scope.READ)
        require_unlimited_reads(principal, "the graph")
        request.state.principal = principal
        return await documents.document_to_run(
            con, query=query if isinstance(query, str) else None, sha256=digest
        )


async def _checked_body(request: Request, scope: AsgiScope, receive: Receive) -> Request:
    """The request with its body read under the REST limits (size, 413; pauses, 408) and, when
    JSON, checked to be an object (or a batch, which strawberry refuses) nested no deeper than
    a parser can take: a request strawberry reads from memory. A document named by hash is
    put in as its query."""
    settings: Settings = request.app.state.settings
    body = await read_body(request, settings.max_body_bytes)
    if media_type(request) == JSON:
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from exc
        if not isinstance(parsed, dict | list):
            raise BadRequest("the body must be a JSON object: {query, variables, operationName}")
        refuse_duplicate_keys(body)
        if isinstance(parsed, dict):
            check_request_members(parsed)
            query = await _document(request, parsed.get("query"), parsed.get("extensions"))
            if query is not None:
                body = orjson.dumps(parsed | {"query": query})
            mark_query_only(
                request, query if query is not None else parsed.get("query"),
                parsed.get("operationName"),
            )  # fmt: skip
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, replay)


def operation_type(document: object, operation_name: object) -> OperationType | None:
    """The type of the operation a request would run; None when it cannot tell (no document,
    one that does not parse, no operation of that name): the ordinary answer says why."""
    if not isinstance(document, str) or not document:
        return None
    try:
        parsed = parse(document)
    except GraphQLError:
        return None
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name and o.name.value == operation_name)
    ]
    return chosen[0].operation if chosen else None


def not_a_query(document: str | None, operation_name: str | None) -> bool:
    """Whether the operation a GET would run is a mutation or subscription (a document that
    does not parse is left to the ordinary answer)."""
    found = operation_type(document, operation_name)
    return found is not None and found is not OperationType.QUERY


def mark_query_only(request: Request, document: object, operation_name: object) -> None:
    """Note whether the request runs a query only, whose reads may go to a read replica."""
    found = operation_type(document, operation_name)
    request.state.graphql_query_only = found is OperationType.QUERY


async def _checked_get(request: Request, scope: AsgiScope, receive: Receive) -> Request:
    """A query by GET, with a document named by hash (`extensions` as JSON) put in."""
    params = request.query_params
    extensions: object = None
    if "extensions" in params:
        try:
            extensions = orjson.loads(params["extensions"])
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"`extensions` is not valid JSON: {exc}") from exc
    query = await _document(request, params.get("query"), extensions)
    if not_a_query(query or params.get("query"), params.get("operationName")):
        raise MethodNotAllowed(
            "only queries may be sent by GET: send mutations by POST", headers={"Allow": "POST"}
        )
    mark_query_only(request, query or params.get("query"), params.get("operationName"))
    if query is None:
        return request
    items = [(k, v) for k, v in params.multi_items() if k != "query"] + [("query", query)]
    checked = Request({**scope, "query_string": urlencode(items).encode()}, receive)
    checked.state.graphql_query_only = request.state.graphql_query_only
    return checked


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, schema: Any) -> None:
        # Not strawberry's bundled IDE, which loads its assets from a CDN: browsers get the
        # explorer of service.web, whose assets the service serves itself.
        super().__init__(schema, graphql_ide=None, allow_queries_via_get=True)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        if not isinstance(request, Request):
            raise BadRequest("subscriptions are not offered")
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            db: Database = request.app.state.db
            async with db.acquire() as con:
                principal = await ratelimit.authenticate(
                    request.app.state, con, request.headers.get("authorization")
                )
            require(principal, Scope.READ)
            require_unlimited_reads(principal, "the graph")
            request.state.principal = principal
        work: RequestDatabase = request.state.graphql_work
        replicas = replica_set(request.app.state)
        if replicas is not None and getattr(request.state, "graphql_query_only", False):
            work.reads = replicas.reads_for(principal)
        return Context(request=request, response=response, db=work, principal=principal)

    async def run_within_deadline(self, request: Request) -> Response:
        """Run the request with its own door to the database (at most
        KPI_GRAPHQL_MAX_CONNECTIONS at once); past KPI_GRAPHQL_DEADLINE_SECONDS its work is
        cancelled, every connection it held handed back, and the answer is an error."""
        settings: Settings = request.app.state.settings
        work = RequestDatabase(request.app.state.db, settings.graphql_max_connections)
        request.state.graphql_work = work
        deadline = settings.graphql_deadline_seconds
        try:
            async with asyncio.timeout(deadline) as within:
                return await self.run(request)
        except TimeoutError:
            if not within.expired():
                raise
        await work.cancel()
        log.warning("GraphQL request cancelled at its deadline",
                    extra={"deadline_seconds": deadline})  # fmt: skip
        body = {
            "data": None,
            "errors": [{
                "message": f"the query did not finish within the {deadline:g} s deadline and "
                "was cancelled; ask for less (smaller pages, shorter series)",
                "extensions": {"code": "DEADLINE_EXCEEDED", "deadlineSeconds": deadline},
            }],
        }  # fmt: skip
        return Response(orjson.dumps(body), media_type="application/json")

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise BadRequest("subscriptions are not offered")
        request = Request(scope, receive)
        if wants_explorer(request):
            # The page needs no token; the queries sent from it do.
            await explorer_response(request)(scope, receive, send)
            return
        media = GRAPHQL_RESPONSE if wants_graphql_response(request.headers.get("accept")) else None
        try:
            response = await self.answer(request, scope, receive, media)
        except PersistedQueryNotFound as exc:
            # In the GraphQL shape whatever was asked for: Apollo clients read it so, then send
            # the document in full.
            status = 400 if media else 200
            response = errors_response(status, exc.detail, "PERSISTED_QUERY_NOT_FOUND",
                                       media_type=media or JSON_RESPONSE)  # fmt: skip
        except ApiError as exc:
            if media is None:
                raise
            response = api_error_response(exc, media)
        await finish(response, request, media or JSON_RESPONSE)(scope, receive, send)

    async def answer(
        self, request: Request, scope: AsgiScope, receive: Receive, media: str | None
    ) -> Response:
        """Strawberry's answer to the request, its document named by hash put in; an HTTP
        refusal of strawberry's is raised for GraphQL clients (`media`), else answered as a
        problem document."""
        if request.method == "POST":
            request = await _checked_body(request, scope, receive)
        elif request.method in ("GET", "HEAD"):
            request = await _checked_get(request, scope, receive)
        try:
            response = await self.run_within_deadline(request)
        except StrawberryHTTPException as exc:
            error = error_for_status(exc.status_code, exc.reason)
            if media is not None:
                raise error from exc
            return problem_response(error, "/graphql")
        await self.after_write(request)
        return response

    async def after_write(self, request: Request) -> None:
        """After a mutation: the token's next reads wait for a replica that replayed it."""
        replicas = replica_set(request.app.state)
        principal: Principal | None = getattr(request.state, "principal", None)
        if replicas is None or principal is None:
            return
        if not getattr(request.state, "graphql_query_only", False):
            await replicas.record_write(principal)

    def encode_json(self, data: object) -> str | bytes:
        # The same JSON, several times faster on a large page; what orjson cannot encode
        # (e.g. an integer beyond 64 bits) goes the standard way.
        try:
            return orjson.dumps(data)
        except orjson.JSONEncodeError:
            return super().encode_json(data)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # Browsers get the explorer before this; any other GET without a query is a 400.
        return False
