"""POST /graphql in the OpenAPI document: its body, its answers and their examples."""

from __future__ import annotations

from typing import Any

from service.openapi_problems import problem_response

#: A portal's first read, and what it answers once the two KPIs exist (in this order).
GRAPHQL_QUERY = {
    "query": "query Board($first: Int!) { kpis(first: $first) { nodes { key name } } }",
    "variables": {"first": 2},
    "operationName": "Board",
}
GRAPHQL_ANSWER = {
    "data": {"kpis": {"nodes": [
        {"key": "service_availability", "name": "Business service availability"},
        {"key": "incident_mttr", "name": "Mean time to restore (sev1-sev2)"},
    ]}},
    # What the query cost, against the limit (README, Query cost and limits).
    "extensions": {"cost": {"limit": 2000000, "requested": 6, "requests": 1}},
}  # fmt: skip
#: What a mutation sent with a token without the admin scope answers.
GRAPHQL_FORBIDDEN = {"data": None, "errors": [{
    "message": "this token lacks the 'admin' scope needed for mutations",
    "extensions": {"code": "FORBIDDEN", "required_scope": "admin"},
}]}  # fmt: skip


def graphql_responses() -> dict[str, Any]:
    """What POST /graphql answers: GraphQL results (errors included) as JSON; requests that are
    not GraphQL requests and refused tokens as problems."""
    graphql_result = {"application/json": {"schema": {"type": "object"},
                                           "example": GRAPHQL_ANSWER}}  # fmt: skip
    responses: dict[str, Any] = {
        "200": {"description": "A GraphQL response (data and/or errors)",
                "content": graphql_result},
        "400": problem_response(400, "Not a GraphQL request: body not a JSON object, no "
                                 "query, an unknown operationName or an unsupported "
                                 "Content-Type"),
        "422": problem_response(422, "The body repeats a key in a JSON object"),
    }  # fmt: skip
    # Without the read scope the token is refused at the door (a problem); a mutation
    # without the admin scope is refused by the graph (a GraphQL response with errors).
    forbidden = problem_response(403)
    forbidden["content"]["application/json"] = {
        "schema": {"type": "object"},
        "example": GRAPHQL_FORBIDDEN,
    }
    responses["403"] = forbidden
    for status in (401, 408, 413, 415, 429, 503):
        responses[str(status)] = problem_response(status)
    return dict(sorted(responses.items()))


def graphql_operation() -> dict[str, Any]:
    body = {"type": "object", "required": ["query"],
            "properties": {"query": {"type": "string", "minLength": 1},
                           "variables": {"type": ["object", "null"]},
                           "operationName": {"type": ["string", "null"]}}}  # fmt: skip
    return {
        "operationId": "graphql",
        "summary": "The GraphQL graph (schema.graphql); queries need read, mutations admin",
        "description": "GraphQL over HTTP: a JSON body with the query, its variables and "
        "operation name. Needs a token with the `read` scope; mutations need `admin`.",
        "tags": ["graphql"],
        "security": [{"bearerAuth": []}],
        "x-required-scope": "read",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": body, "example": GRAPHQL_QUERY}}},
        "responses": graphql_responses(),
    }  # fmt: skip
