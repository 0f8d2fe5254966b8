"""Serving the pages: /docs, /openapi.json, their assets, and the explorer's HTML.

These are documents, not API endpoints: they hold nothing that is not in the code already,
need no token (the API calls made from the pages do) and are not part of the OpenAPI
document. `DocsPages` answers a fixed set of paths before routing and hands every other
request to the app.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import MethodNotAllowed, problem_response
from service.openapi import build_openapi
from service.rest.endpoint import Endpoint
from service.web.reference import render_reference

DOCS_PATH = "/docs"
SPEC_PATH = "/openapi.json"
ASSETS_PATH = "/docs/assets/"

#: Nothing from elsewhere: scripts and styles only from files of this service (no inline
#: code), requests only to it, images only from it or data: URIs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)

#: Headers on every page and asset.
_COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}

#: Headers on the HTML pages.
PAGE_HEADERS = {
    **_COMMON_HEADERS,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}

#: The files under /docs/assets/, by name, with their media types.
ASSETS = {
    "docs.css": "text/css; charset=utf-8",
    "reference.css": "text/css; charset=utf-8",
    "explorer.css": "text/css; charset=utf-8",
    "explorer.js": "text/javascript; charset=utf-8",
    "reference.js": "text/javascript; charset=utf-8",
}

_HTML = "text/html; charset=utf-8"


@cache
def static_file(name: str) -> bytes:
    """A file of the package's static/ folder (read once)."""
    return (resources.files("service.web") / "static" / name).read_bytes()


@dataclass(frozen=True)
class Document:
    content: bytes
    media_type: str
    headers: dict[str, str]

    @cached_property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.content).hexdigest()[:32] + '"'

    def response(self, request: Request, extra: dict[str, str] | None = None) -> Response:
        headers = {**self.headers, "ETag": self.etag, **(extra or {})}
        if self.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(self.content, media_type=self.media_type, headers=headers)


def explorer_response(request: Request) -> Response:
    """The GraphQL explorer's page (GET /graphql from a browser)."""
    page = Document(static_file("explorer.html"), _HTML, PAGE_HEADERS)
    return page.response(request, {"Vary": "Accept"})


class DocsPages:
    """Answers GET and HEAD on /docs, /openapi.json and /docs/assets/<file>."""

    def __init__(self, app: ASGIApp, endpoints: Callable[[], list[Endpoint]]) -> None:
        self.app = app
        self.endpoints = endpoints
        self._spec: Document | None = None
        self._reference: Document | None = None

    def _documents(self) -> tuple[Document, Document]:
        """The spec and the reference page, built on first use (the same for every request)."""
        if self._spec is None or self._reference is None:
            spec = build_openapi(self.endpoints())
            text = json.dumps(spec, indent=2) + "\n"
            self._spec = Document(text.encode(), "application/json", _COMMON_HEADERS)
            self._reference = Document(render_reference(spec).encode(), _HTML, PAGE_HEADERS)
        return self._spec, self._reference

    def _document(self, path: str) -> Document | None:
        if path == SPEC_PATH:
            return self._documents()[0]
        if path == DOCS_PATH:
            return self._documents()[1]
        name = path.removeprefix(ASSETS_PATH)
        if path.startswith(ASSETS_PATH) and name in ASSETS:
            return Document(static_file(name), ASSETS[name], _COMMON_HEADERS)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        document = self._document(path)
        if document is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if request.method not in ("GET", "HEAD"):
            error = MethodNotAllowed(
                f"{request.method} is not allowed here", headers={"Allow": "GET, HEAD"}
            )
            response = problem_response(error, path)
        else:
            response = document.response(request)
        await response(scope, receive, send)
