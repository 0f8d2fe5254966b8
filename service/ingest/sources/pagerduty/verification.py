"""PagerDuty signs the raw body with HMAC-SHA256: X-PagerDuty-Signature: v1=<hex>, with
several comma-separated values while a secret is rotated (any may match)."""

from __future__ import annotations

from service.ingest.proofs import Presented, equal, header_scheme, hmac_hex

#: Headers carrying a proof made with the secret.
SECRET_HEADERS = frozenset({"x-pagerduty-signature"})

#: The OpenAPI security scheme of `verify`.
SECURITY_SCHEMES = header_scheme(
    "pagerdutySignature", "X-PagerDuty-Signature", "v1=<hex HMAC-SHA256>[,v1=...] (any may match)"
)


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
