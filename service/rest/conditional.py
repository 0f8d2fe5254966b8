"""Conditional GET (RFC 9110, section 13): an answer's entity tag is the hash of its body, so
it changes whenever anything in the body does, and a request whose If-None-Match holds that
tag gets 304 Not Modified with no body."""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

#: What a cache may do with the answer: keep it per token, and revalidate it every time.
CACHING = {"cache-control": "private, no-cache", "vary": "Authorization"}


def entity_tag(body: bytes) -> str:
    """A strong tag of `body`: 128 bits of its SHA-256, quoted."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def none_match(header: str, tag: str) -> bool:
    """Whether an If-None-Match value matches `tag`: `*`, or a listed tag equal to it by the
    weak comparison that header uses (a `W/` prefix is ignored)."""
    listed = [t.strip() for t in header.split(",") if t.strip()]
    return "*" in listed or tag in (t.removeprefix("W/") for t in listed)


def conditional(request: Request, response: Response) -> Response:
    """A 200 answer to a GET tagged; a 304 instead when the client holds the same body."""
    if response.status_code != 200 or request.method not in ("GET", "HEAD"):
        return response
    tag = entity_tag(bytes(response.body))
    headers = {"etag": tag, **CACHING}
    if none_match(request.headers.get("if-none-match", ""), tag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response
