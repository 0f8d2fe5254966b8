"""GraphQL over HTTP (the GraphQL Foundation's specification): the media type a client asks
for, the status codes that go with it, caching headers for queries sent by GET, and errors in
the GraphQL shape for clients that asked for GraphQL."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from service.errors import ApiError

#: The specification's media type; `application/json` stays the answer to every other client.
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def _quality(media_range: str) -> tuple[str, float]:
    kind, *params = (part.strip() for part in media_range.split(";"))
    quality = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
    return kind.lower(), quality


def wants_graphql_response(accept: str | None) -> bool:
    """Whether the Accept header prefers application/graphql-response+json to JSON (a client
    naming neither, or both equally, gets the newer type only when it names it first)."""
    if not accept:
        return False
    ranked = [_quality(r) for r in accept.split(",") if r.strip()]
    ours = max((q for kind, q in ranked if kind == GRAPHQL_RESPONSE), default=0.0)
    if ours <= 0:
        return False
    theirs = max((q for kind, q in ranked if kind == JSON), default=0.0)
    if ours != theirs:
        return ours > theirs
    kinds = [kind for kind, _ in ranked]
    return kinds.index(GRAPHQL_RESPONSE) < kinds.index(JSON)


def errors_response(
    status: int,
    message: str,
    code: str,
    *,
    media_type: str,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    """A request that did not run, answered in the GraphQL shape: errors and no data."""
    error = {"message": message, "extensions": {"code": code, **(extensions or {})}}
    return Response(
        orjson.dumps({"errors": [error]}), status, headers=dict(headers or {}),
        media_type=media_type,
    )  # fmt: skip


def api_error_response(error: ApiError, media_type: str) -> Response:
    """An ApiError (no token, a rate limit, a refused body ...) in the GraphQL shape."""
    code = error.slug.upper().replace("-", "_")
    return errors_response(error.status, error.detail, code, media_type=media_type,
                           headers=error.headers)  # fmt: skip


def without_data_if_unrun(body: bytes) -> dict[str, Any] | None:
    """The answer without its `data` key when it is of a request that did not run (it failed
    to parse or validate, or named no operation: no data, and no error with a path into it);
    None for any other answer, which is then not parsed."""
    if not body.startswith(b'{"data":null'):
        return None
    answer: dict[str, Any] = orjson.loads(body)
    errors = answer.get("errors") or []
    if not errors or any(e.get("path") for e in errors):
        return None
    del answer["data"]
    return answer


def finish(response: Response, request: Request, media_type: str) -> Response:
    """The answer as the client asked for it: with application/graphql-response+json, a
    request that did not run is a 400 with no `data` key; a query sent by GET may be cached,
    by the client only, and per token."""
    if media_type == GRAPHQL_RESPONSE:
        unrun = without_data_if_unrun(bytes(response.body)) if response.status_code == 200 else None
        if unrun is not None:
            response = Response(orjson.dumps(unrun), 400, headers=_kept(response))
        response.headers["content-type"] = GRAPHQL_RESPONSE
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        tag = f'"{hashlib.sha256(response.body).hexdigest()[:32]}"'
        cache = {"cache-control": "private, no-cache", "vary": "Authorization, Accept",
                 "etag": tag}  # fmt: skip
        if tag in (t.strip() for t in request.headers.get("if-none-match", "").split(",")):
            return Response(status_code=304, headers=cache)
        response.headers.update(cache)
    return response


def _kept(response: Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in ("content-length",
                                                                    "content-type")}  # fmt: skip
