"""How GraphQL errors reach the log: a client's mistakes once per request, briefly; the
service's own failures each with its traceback.

A bad argument, an unknown field, a value out of range or a refused check is the client's
error, answered in the response's `errors`: one INFO line per request says how many there were
and the first one's message (cut short, without the query's text), never a traceback, so a
client cannot fill the log by sending large bad queries. The database out of reach is one
WARNING line, as in REST. Anything else is a server error, logged at ERROR with its traceback
(and masked in the answer by the schema's MaskErrors).
strawberry calls `process_errors` once per request with the errors as raised, before they
are masked: overriding it is how strawberry documents changing what is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import asyncpg
import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from service.errors import ApiError, blames_client, database_unavailable

log = logging.getLogger("service.graphql")

#: The longest message of a client error put in the log.
MESSAGE_CHARS = 200


def is_client_error(error: GraphQLError) -> bool:
    """Whether the client caused the error: syntax and validation errors (no original error),
    values refused by our checks or by the database, and 4xx problems."""
    original = error.original_error
    if original is None:
        return True
    if isinstance(original, ApiError):
        return original.status < 500
    if isinstance(original, asyncpg.DataError):
        # A value of the request Postgres refused; not stored data out of range.
        return blames_client(original)
    return isinstance(original, ValueError | GraphQLError)


def _cut(text: str) -> str:
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def log_errors(errors: Sequence[GraphQLError]) -> None:
    """Log a request's errors: the client's in one INFO line, the server's each at ERROR."""
    client = []
    for error in errors:
        if is_client_error(error):
            client.append(error)
        elif error.original_error is not None and database_unavailable(error.original_error):
            unavailable = {"graphql_path": error.path, "error": repr(error.original_error)}
            log.warning("database unavailable", extra=unavailable)
        else:
            log.error(
                "unexpected GraphQL error",
                exc_info=error.original_error,
                extra={"graphql_path": error.path},
            )
    if client and log.isEnabledFor(logging.INFO):
        first = client[0]
        log.info(
            "GraphQL errors answered to the client",
            extra={
                "errors": len(client),
                "first": _cut(first.message),
                "code": (first.extensions or {}).get("code"),
            },
        )


class LoggedSchema(strawberry.Schema):
    """The schema, logging its errors as this module says."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors)
