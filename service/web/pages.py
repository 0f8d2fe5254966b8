"""Serving the pages: /docs, /openapi.json, their assets, and the explorer's HTML.

These are documents, not API endpoints: they hold nothing that is not in the code already,
need no token (the API calls made from the pages do) and are not part of the OpenAPI
document. `DocsPages` answers a fixed set of paths before routing and hands every other
request to the app.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from importlib.resources.abc import Traversable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import MethodNotAllowed, problem_response
from service.openapi import build_openapi
from service.rest.endpoint import Endpoint

DOCS_PATH = "/docs"
SPEC_PATH = "/openapi.json"
ASSETS_PATH = "/docs/assets/"

#: Nothing from elsewhere: scripts and styles only from files of this service (no inline
#: code), requests only to it, images and fonts only from it or data: URIs (the vendored
#: tools embed their icons and fonts so).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'none'; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

#: Headers on every page and asset: each answer is checked again (a 304 when unchanged).
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

#: The files served under /docs/assets/ (any folder of static/), by suffix.
MEDIA_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}

#: Smaller answers are sent as they are: compressing them saves less than it costs.
GZIP_FROM_BYTES = 1024

_HTML = "text/html; charset=utf-8"


def static_folder() -> Traversable:
    return resources.files("service.web") / "static"


def _files(folder: Traversable, prefix: str = "") -> dict[str, Traversable]:
    found: dict[str, Traversable] = {}
    for entry in folder.iterdir():
        if entry.is_dir():
            found |= _files(entry, f"{prefix}{entry.name}/")
        elif any(entry.name.endswith(suffix) for suffix in MEDIA_TYPES):
            found[prefix + entry.name] = entry
    return found


@cache
def assets() -> dict[str, Traversable]:
    """The scripts and stylesheets under static/, by their path below it (`vendor/...`)."""
    return _files(static_folder())


@dataclass(frozen=True)
class Document:
    content: bytes
    media_type: str
    headers: dict[str, str]

    @cached_property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.content).hexdigest()[:32] + '"'

    @cached_property
    def gzipped(self) -> bytes | None:
        """The content gzipped (once), or None when it is too small to be worth it."""
        if len(self.content) < GZIP_FROM_BYTES:
            return None
        return gzip.compress(self.content, compresslevel=6, mtime=0)

    def response(self, request: Request, extra: dict[str, str] | None = None) -> Response:
        headers = {**self.headers, **(extra or {})}
        body, etag = self.content, self.etag
        if self.gzipped is not None:
            headers["Vary"] = ", ".join(filter(None, (headers.get("Vary"), "Accept-Encoding")))
            if "gzip" in request.headers.get("accept-encoding", ""):
                # Each encoding is a representation of its own, with an ETag of its own.
                body, etag = self.gzipped, self.etag[:-1] + '-gzip"'
                headers["Content-Encoding"] = "gzip"
        headers["ETag"] = etag
        if etag in request.headers.get("if-none-match", ""):
            headers.pop("Content-Encoding", None)
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=self.media_type, headers=headers)


@cache
def asset_document(name: str) -> Document:
    suffix = "." + name.rsplit(".", 1)[-1]
    return Document(assets()[name].read_bytes(), MEDIA_TYPES[suffix], _COMMON_HEADERS)


@cache
def page_document(name: str) -> Document:
    return Document(static_folder().joinpath(name).read_bytes(), _HTML, PAGE_HEADERS)


def explorer_response(request: Request) -> Response:
    """The GraphQL explorer's page (GET /graphql from a browser)."""
    return page_document("explorer.html").response(request, {"Vary": "Accept"})


class DocsPages:
    """Answers GET and HEAD on /docs, /openapi.json and /docs/assets/<file>."""

    def __init__(self, app: ASGIApp, endpoints: Callable[[], list[Endpoint]]) -> None:
        self.app = app
        self.endpoints = endpoints
        self._spec: Document | None = None

    def _spec_document(self) -> Document:
        """The OpenAPI document, built on first use (the same for every request)."""
        if self._spec is None:
            text = json.dumps(build_openapi(self.endpoints()), indent=2) + "\n"
            self._spec = Document(text.encode(), "application/json", _COMMON_HEADERS)
        return self._spec

    def _document(self, path: str) -> Document | None:
        if path == SPEC_PATH:
            return self._spec_document()
        if path == DOCS_PATH:
            return page_document("reference.html")
        name = path.removeprefix(ASSETS_PATH)
        if path.startswith(ASSETS_PATH) and name in assets():
            return asset_document(name)
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
