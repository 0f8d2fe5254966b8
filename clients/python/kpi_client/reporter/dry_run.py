"""--dry-run: the request as JSON (method, URL, headers with secrets hidden, body)."""

from __future__ import annotations

import json
from typing import Any

import httpx

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def redact(name: str, value: str) -> str:
    """A secret header's value hidden, keeping its scheme (`Bearer ***`)."""
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme, _, secret = value.partition(" ")
    return f"{scheme} ***" if secret else "***"


def describe(request: httpx.Request) -> str:
    body: Any = None
    if request.content:
        body = json.loads(request.content)
    shown = {
        "method": request.method,
        "url": str(request.url),
        "headers": {k: redact(k, v) for k, v in request.headers.items()},
        "body": body,
    }
    return json.dumps(shown, indent=2)
