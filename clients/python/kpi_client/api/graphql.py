"""The GraphQL endpoint, for reads the REST API does not offer (outcome health, services at
risk, any graph of the catalog)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

from kpi_client.errors import GraphQLError
from kpi_client.operation import Operation, instant_text


def _graphql_data(response: httpx.Response) -> dict[str, Any]:
    result = json.loads(response.content)
    data = result.get("data")
    if result.get("errors"):
        raise GraphQLError(list(result["errors"]), data)
    return dict(data or {})


def _variable_json(value: object) -> str:
    if isinstance(value, dt.datetime):
        return instant_text("variables", value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot send a {type(value).__name__} as a GraphQL variable")


def is_mutation(document: str) -> bool:
    """Whether a GraphQL document may hold a mutation: the word anywhere (erring on yes)."""
    return re.search(r"\bmutation\b", document) is not None


def graphql(
    query: str,
    variables: Mapping[str, Any] | None = None,
    *,
    operation_name: str | None = None,
    idempotency_key: str | None = None,
) -> Operation[dict[str, Any]]:
    """Runs a GraphQL query or mutation and gives its `data`; a GraphQLError when the answer
    lists errors (a mutation's Problem result is data, not an error). The service does not
    keep GraphQL answers for a retry, so a mutation is sent again only when it surely did not
    arrive; a query is retried like any read."""
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = dict(variables)
    if operation_name is not None:
        payload["operationName"] = operation_name
    body = json.dumps(payload, default=_variable_json).encode()
    return Operation(
        "POST",
        "/graphql",
        _graphql_data,
        body=body,
        idempotency_key=idempotency_key,
        replay_safe=not is_mutation(query),
    )
