"""How each tool proves a delivery is its own, checked in constant time.

GitHub signs the raw body with HMAC-SHA256 (X-Hub-Signature-256: sha256=<hex>); PagerDuty
too (X-PagerDuty-Signature: v1=<hex>[,v1=<hex>] while a secret is rotated: any may match);
GitLab sends the shared secret itself (X-Gitlab-Token). Opsgenie, Alertmanager and Jira sign
nothing: they are configured with a bearer token, basic auth, or a ?token= in the URL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

#: Source kinds whose signature covers the raw body: a body is theirs exactly as received, so
#: the same body is the same delivery (the pipeline dedupes on its SHA-256).
BODY_SIGNED = frozenset({"github", "pagerduty"})


def signs_body(kind: str) -> bool:
    """Whether the signature of this kind of source covers the raw body."""
    return kind in BODY_SIGNED


def body_digest(kind: str, body: bytes) -> bytes | None:
    """SHA-256 of a body the source signs, None for sources whose bodies are not signed."""
    return hashlib.sha256(body).digest() if signs_body(kind) else None


def _hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def github(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    scheme, _, digest = headers.get("x-hub-signature-256", "").partition("=")
    return scheme == "sha256" and _equal(digest.lower(), _hmac_hex(secret, body))


def pagerduty(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    expected = _hmac_hex(secret, body)
    matched = False
    for part in headers.get("x-pagerduty-signature", "").split(","):
        version, _, digest = part.strip().partition("=")
        # Compare every candidate, so the time taken does not tell which one matched.
        if version == "v1" and _equal(digest.lower(), expected):
            matched = True
    return matched


def gitlab(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    return _equal(headers.get("x-gitlab-token", ""), secret)


def shared_secret(
    headers: Mapping[str, str], query: Mapping[str, str], secret: str, username: str | None
) -> bool:
    """Bearer <secret>, Basic <username:secret>, or ?token=<secret>."""
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer":
        return _equal(value.strip(), secret)
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return _equal(user, username or "") & _equal(password, secret)
    token = query.get("token")
    return token is not None and _equal(token, secret)


def verify(
    kind: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    secret: str | None,
    username: str | None = None,
) -> bool:
    """Whether the delivery proves knowledge of the source's secret; no secret, no entry."""
    if not secret:
        return False
    if kind == "github":
        return github(headers, body, secret)
    if kind == "pagerduty":
        return pagerduty(headers, body, secret)
    if kind == "gitlab":
        return gitlab(headers, body, secret)
    return shared_secret(headers, query, secret, username)
