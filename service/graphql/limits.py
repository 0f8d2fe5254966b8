"""The GraphQL cost budget: each operation's static cost (service.graphql.cost) is computed
after validation and before execution, refused above KPI_GRAPHQL_MAX_COST, counted against
the token's rate limit, and reported in the answer's `extensions.cost`."""

from __future__ import annotations

import functools
import math
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError, GraphQLSchema
from graphql import build_schema as build_graphql_schema
from strawberry import Schema
from strawberry.extensions import SchemaExtension

from service import ratelimit
from service.config import Settings
from service.db import Database
from service.errors import RateLimited
from service.graphql.context import Context
from service.graphql.cost import CostError, operation_cost
from service.graphql.guard import RequestDatabase


def cost_schema(schema: Schema) -> GraphQLSchema:
    """The graphql-core schema the cost is computed over, built from the printed SDL: the
    same types, fields, arguments and defaults (enum values come as their names, instants
    as their text)."""
    return _schema_of_sdl(schema.as_str())


@functools.lru_cache(maxsize=1)
def _schema_of_sdl(sdl: str) -> GraphQLSchema:
    # Parsing and building take most of an app's start: every app of a process (the test
    # suite makes one per test) serves the same SDL, so the schema is built once and only
    # read afterwards.
    return build_graphql_schema(sdl)


def requests_for(cost: int, settings: Settings) -> int:
    """How many requests a query of this cost counts as against the token's rate limit."""
    return max(1, math.ceil(cost / settings.graphql_cost_per_request))


def primary(db: Database) -> Database:
    """The door to the primary of a request's database (its reads may go to a replica)."""
    return db.primary if isinstance(db, RequestDatabase) else db


class CostLimit(SchemaExtension):
    """Refuses an operation whose cost is above the budget before it runs, and charges the
    token's rate limit for the rest of its cost (the door already took one request)."""

    def __init__(self, *, schema: GraphQLSchema, settings: Settings) -> None:
        super().__init__()
        self.schema = schema
        self.settings = settings
        self.cost: int | None = None
        #: requests counted against the rate limit: the door's one, then the cost's
        self.charged = 1

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        context: Context = ctx.context
        limit = self.settings.graphql_max_cost
        assert ctx.graphql_document is not None
        try:
            self.cost = operation_cost(self.schema, ctx.graphql_document, ctx.operation_name,
                                       ctx.variables, context.now())  # fmt: skip
        except CostError:
            # The variables do not coerce: execution refuses them before any resolver runs.
            yield
            return
        if self.cost > limit:
            raise GraphQLError(
                f"this query costs {self.cost:,}, above the limit of {limit:,} "
                "(each field costs 1 times the product of the page sizes of the lists "
                "enclosing it; ask for smaller pages or fewer fields)",
                extensions={"code": "COST_LIMIT_EXCEEDED", "cost": self.cost, "limit": limit},
            )
        requests = requests_for(self.cost, self.settings)
        if requests > 1:
            try:
                await ratelimit.charge(
                    context.request.app.state,
                    primary(context.db),
                    context.principal,
                    requests - 1,
                )
            except RateLimited as exc:
                context.response.status_code = 429
                context.response.headers.update(exc.headers)
                raise GraphQLError(
                    f"{exc.detail} (this query costs {self.cost:,}, counted as {requests} "
                    "requests)",
                    extensions={"code": "RATE_LIMITED", "cost": self.cost,
                                "requests": requests,
                                "retryAfter": int(exc.headers["Retry-After"])},
                ) from None  # fmt: skip
        self.charged = requests
        yield

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        return {
            "cost": {
                "requested": self.cost,
                "limit": self.settings.graphql_max_cost,
                "requests": self.charged,
            }
        }
