"""The error answers of the OpenAPI document: what each status means, and its problem+json
answer with an example."""

from __future__ import annotations

from typing import Any

from service.errors import PROBLEM_MEDIA_TYPE
from service.rest import examples

STATUS_TEXT = {
    202: "Kept but not applied (unmapped): `detail` says why; replay it once mapped",
    400: "The request cannot be read",
    401: "No valid token",
    403: "The token lacks the required scope, may not write to the source named, or is "
    "limited to a team that does not own the service named (`service`, `team`)",
    404: "No such resource",
    406: "The `format` (or Accept) asks for a representation the operation does not have",
    408: "The body stopped arriving before it was complete",
    409: "Conflict: a duplicate key, or the resource is still referenced",
    413: "Body or batch over the documented limit",
    415: "Unsupported Content-Type, or a compressed body (any Content-Encoding but identity)",
    422: "Validation failed; `errors` names each bad field",
    429: "Over a rate limit (the token's; on webhooks, the client address's or the source's "
    "limit of refused requests); retry after Retry-After seconds",
    503: "The database is unreachable, or rolled the request back on meeting a concurrent "
    "write (nothing stored); retry after Retry-After seconds",
}


def problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    """The problem+json answer of an error status, with an example of it."""
    problem = {"schema": {"$ref": "#/components/schemas/Problem"},
               "example": examples.problem_example(status)}  # fmt: skip
    return {
        "description": description or STATUS_TEXT[status],
        "content": {PROBLEM_MEDIA_TYPE: problem},
    }
