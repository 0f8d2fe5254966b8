"""The building blocks sources prove a delivery with, each comparison made in constant time.

A source's own scheme (GitHub's and PagerDuty's HMAC, GitLab's token) lives in its package
(service/ingest/sources/<kind>/verification.py); tools that sign nothing (Opsgenie,
Alertmanager, Jira) are configured with the shared secret as a bearer token, basic auth, or a
?token= in the URL, checked by `shared_secret`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Presented:
    """What a delivery presents to prove it knows its source's secret, with that (non-empty)
    secret and the source's username (for basic auth)."""

    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes
    secret: str
    username: str | None


#: The OpenAPI security schemes of `shared_secret`.
SHARED_SECRET_SCHEMES: Mapping[str, dict[str, Any]] = {
    "sourceBearer": {"type": "http", "scheme": "bearer",
                     "description": "The source's secret as a bearer token"},
    "sourceBasic": {"type": "http", "scheme": "basic",
                    "description": "The source's username and secret"},
    "sourceToken": {"type": "apiKey", "in": "query", "name": "token",
                    "description": "The source's secret in the URL"},
}  # fmt: skip


def header_scheme(name: str, header: str, description: str) -> Mapping[str, dict[str, Any]]:
    """The OpenAPI security scheme `name` of a proof sent in one request header."""
    return {name: {"type": "apiKey", "in": "header", "name": header, "description": description}}


def hmac_hex(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of the body with the secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def equal(given: str, expected: str) -> bool:
    """Whether two strings are equal, compared in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())


def shared_secret(presented: Presented) -> bool:
    """Bearer <secret>, Basic <username:secret>, or ?token=<secret>."""
    secret = presented.secret
    auth = presented.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer":
        return equal(value.strip(), secret)
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return equal(user, presented.username or "") & equal(password, secret)
    token = presented.query.get("token")
    return token is not None and equal(token, secret)
