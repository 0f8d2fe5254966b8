"""The schema's extensions: scopes (mutations need admin), NUL characters refused, errors
masked unless they are the client's, the depth, alias and token limits and the cost guard
(service/graphql/limits.py). The execution deadline is kept by the endpoint
(service/graphql/app.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
from graphql import GraphQLError
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.types.graphql import OperationType

from service.config import Settings
from service.errors import (
    UNAVAILABLE_DETAIL,
    UNAVAILABLE_RETRY,
    ApiError,
    blames_client,
    database_unavailable,
    refused_value,
)
from service.graphql.limits import CostLimit
from service.graphql.nul_guard import RefuseNulCharacters
from service.models.enums import Scope


class RequireScopes(SchemaExtension):
    """Queries need the read scope (checked at the door); mutations need admin."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.operation_type is OperationType.MUTATION:
            principal = ctx.context.principal
            if not principal.allows(Scope.ADMIN):
                ctx.context.response.status_code = 403
                raise GraphQLError(
                    "this token lacks the 'admin' scope needed for mutations",
                    extensions={"code": "FORBIDDEN", "required_scope": "admin"},
                )
        yield


def _is_unexpected(error: GraphQLError) -> bool:
    """Errors from our own checks keep their message; anything else is masked (and logged, by
    service/graphql/error_log.py)."""
    original = error.original_error
    return not (original is None or isinstance(original, ValueError | ApiError | GraphQLError))


class MaskUnexpectedErrors(MaskErrors):
    """Masks what _is_unexpected says, but a value Postgres cannot take (e.g. a NUL character
    in a slug) is the client's error: its message is the one REST answers with its 422."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is not None and database_unavailable(original):
            # As REST answers it: 503 with Retry-After, nothing of the failed write stored.
            response = self.execution_context.context.response
            response.status_code = 503
            response.headers["Retry-After"] = UNAVAILABLE_RETRY
            return GraphQLError(
                UNAVAILABLE_DETAIL, nodes=error.nodes, source=error.source,
                positions=error.positions, path=error.path,
                extensions={"code": "DATABASE_UNAVAILABLE", "retryAfter": int(UNAVAILABLE_RETRY)},
            )  # fmt: skip
        if not isinstance(original, asyncpg.DataError) or not blames_client(original):
            return super().anonymise_error(error)
        refused = refused_value(original)
        return GraphQLError(
            refused.detail, nodes=error.nodes, source=error.source,
            positions=error.positions, path=error.path, original_error=refused,
        )  # fmt: skip


def extensions(settings: Settings, cost_limit: Callable[[], CostLimit]) -> list[Any]:
    """The extensions of the schema, in the order they run."""
    return [
        RequireScopes,
        RefuseNulCharacters,
        lambda: MaskUnexpectedErrors(should_mask_error=_is_unexpected),
        lambda: QueryDepthLimiter(max_depth=settings.graphql_max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        cost_limit,
    ]
