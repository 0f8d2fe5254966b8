"""PagerDuty signs the raw body with HMAC-SHA256: X-PagerDuty-Signature: v1=<hex>, with
several comma-separated values while a secret is rotated (any may match)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.ingest.proofs import Presented, equal, hmac_hex

#: Headers carrying a proof made with the secret.
SECRET_HEADERS = frozenset({"x-pagerduty-signature"})

#: The OpenAPI security scheme of `verify`.
SECURITY_SCHEMES: Mapping[str, dict[str, Any]] = {
    "pagerdutySignature": {"type": "apiKey", "in": "header", "name": "X-PagerDuty-Signature",
                           "description": "v1=<hex HMAC-SHA256>[,v1=...] (any may match)"},
}  # fmt: skip


def verify(presented: Presented) -> bool:
    """Whether any v1= value of X-PagerDuty-Signature is the body's HMAC with the secret."""
    expected = hmac_hex(presented.secret, presented.body)
    matched = False
    for part in presented.headers.get("x-pagerduty-signature", "").split(","):
        version, _, digest = part.strip().partition("=")
        # Compare every candidate, so the time taken does not tell which one matched.
        if version == "v1" and equal(digest.lower(), expected):
            matched = True
    return matched
