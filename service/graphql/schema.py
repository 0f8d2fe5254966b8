"""The GraphQL schema: queries (service/graphql/query.py, scope read), mutations
(mutations.py, scope admin) and the extensions guarding them (extensions.py)."""

from __future__ import annotations

import datetime as dt

import strawberry
from graphql import GraphQLSchema
from strawberry.schema.config import StrawberryConfig

from service.config import Settings
from service.graphql.error_log import LoggedSchema
from service.graphql.extensions import extensions
from service.graphql.limits import CostLimit, cost_schema
from service.graphql.mutations import Mutation
from service.graphql.plain_fields import PlainFieldsExecutionContext
from service.graphql.query import Query
from service.graphql.types.common import DateTime


def build_schema(settings: Settings) -> strawberry.Schema:
    costed: GraphQLSchema | None = None

    def cost_limit() -> CostLimit:
        assert costed is not None
        return CostLimit(schema=costed, settings=settings)

    schema = LoggedSchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(scalar_map={dt.datetime: DateTime}),
        extensions=extensions(settings, cost_limit),
        execution_context_class=PlainFieldsExecutionContext,
    )
    costed = cost_schema(schema)
    return schema
