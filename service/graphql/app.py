"""The /graphql endpoint: strawberry over Starlette, behind the same token check as REST."""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException as StrawberryHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Send
from starlette.types import Scope as AsgiScope
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from service import ratelimit
from service.auth import authenticate, require
from service.db import Database
from service.errors import BadRequest, error_for_status, problem_response
from service.graphql.context import Context
from service.models.enums import Scope


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, schema: Any) -> None:
        # No bundled IDE: strawberry's loads its assets from a CDN, and portals run offline.
        super().__init__(schema, graphql_ide=None, allow_queries_via_get=True)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        if not isinstance(request, Request):
            raise BadRequest("subscriptions are not offered")
        db: Database = request.app.state.db
        async with db.acquire() as con:
            principal = await authenticate(con, request.headers.get("authorization"))
        require(principal, Scope.READ)
        ratelimit.check(request.app.state, principal)
        return Context(request=request, response=response, db=db, principal=principal)

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise BadRequest("subscriptions are not offered")
        request = Request(scope, receive)
        try:
            response = await self.run(request)
        except StrawberryHTTPException as exc:
            response = problem_response(error_for_status(exc.status_code, exc.reason), "/graphql")
        await response(scope, receive, send)

    async def render_graphql_ide(self, request: Request) -> Response:
        raise BadRequest("send a GraphQL query as JSON (POST) or ?query= (GET)")
